"""gradkit.train: Keras-style training (`model.compile/fit/evaluate/predict`).

    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, validation_split=0.1,
                        callbacks=[gk.callbacks.EarlyStopping(patience=3)])
    history.plot("curves.png")

The loop lives in `fit.py`, the compiled configuration in `config.py`, one step in
`steps.py`, the input checks in `inputs.py`/`checks.py`; the callbacks are the package
`gradkit.callbacks`, one layer below. Importing this package installs its `ModuleTrainer`
as the hook that `Module.fit` and the other training methods call (`gradkit.nn.training`).
"""

from .. import callbacks
from ..callbacks import *  # noqa: F403 - every callback name, listed once in callbacks.__all__
from ..nn.training import install_trainer
from . import fit
from .hook import ModuleTrainer

install_trainer(ModuleTrainer())

__all__ = ["callbacks", "fit", *callbacks.__all__]
