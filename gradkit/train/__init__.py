"""gradkit.train: Keras-style training (`model.compile/fit/evaluate/predict`), History,
callbacks, progress and overfitting detection.

    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, validation_split=0.1,
                        callbacks=[gk.callbacks.EarlyStopping(patience=3)])
    history.plot("curves.png")

The loop lives in `gradkit.train.fit`, the callbacks in `gradkit.train.callbacks`
(re-exported as `gradkit.callbacks`).
"""

from . import callbacks, fit
from .callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    MonitorCallback,
    OverfitDetector,
    ProgressBar,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from .history import History
from .overfit import find_overfitting

__all__ = [
    "callbacks", "fit", "History", "Callback", "MonitorCallback", "EarlyStopping",
    "ModelCheckpoint", "ReduceLROnPlateau", "CSVLogger", "TensorBoard", "TerminateOnNaN",
    "LambdaCallback", "ProgressBar", "OverfitDetector", "find_overfitting",
]
