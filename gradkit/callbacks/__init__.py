"""Training callbacks (Keras's names): pass them to `model.fit(..., callbacks=[...])`.

    from gradkit.callbacks import EarlyStopping, ModelCheckpoint
    model.fit(x, y, validation_split=0.2,
              callbacks=[EarlyStopping(patience=5, restore_best_weights=True),
                         ModelCheckpoint("best.safetensors", save_best_only=True)])

One file per family: `base.py` (Callback, CallbackList), `history.py`, `standard.py`
(monitor-based callbacks, TerminateOnNaN, LambdaCallback), `saving.py` (what
ModelCheckpoint writes), `loggers.py` (CSV, TensorBoard), `progress.py`, `overfit.py`,
`weights.py`. A callback that prints or writes files sets `main_process_only = True`, so a
distributed `fit` runs it on rank 0 only.
"""

from .base import Callback, CallbackList
from .history import History
from .loggers import CSVLogger, TensorBoard
from .overfit import OverfitDetector, find_overfitting
from .progress import ProgressBar
from .standard import (
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    MonitorCallback,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from .weights import WeightHistory

__all__ = [
    "Callback", "CallbackList", "MonitorCallback", "History", "EarlyStopping",
    "ModelCheckpoint", "ReduceLROnPlateau", "CSVLogger", "TensorBoard", "TerminateOnNaN",
    "LambdaCallback", "ProgressBar", "OverfitDetector", "WeightHistory", "find_overfitting",
]
