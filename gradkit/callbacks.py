"""Training callbacks (Keras's names): pass them to `model.fit(..., callbacks=[...])`.

    from gradkit.callbacks import EarlyStopping, ModelCheckpoint
    model.fit(x, y, validation_split=0.2,
              callbacks=[EarlyStopping(patience=5, restore_best_weights=True),
                         ModelCheckpoint("best.safetensors", save_best_only=True)])
"""

from .train.callbacks import (
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
from .train.history import History

__all__ = [
    "Callback", "MonitorCallback", "History", "EarlyStopping", "ModelCheckpoint",
    "ReduceLROnPlateau", "CSVLogger", "TensorBoard", "TerminateOnNaN", "LambdaCallback",
    "ProgressBar", "OverfitDetector",
]
