"""Overfitting detection from the training and validation loss curves.

The rule, checked after every epoch, with b the epoch of the lowest validation loss so far:
b is at least `patience` epochs back; the mean validation loss of the last `patience` epochs
is more than `rise` (relative, default 10%) above the best; over the last `2 * patience`
epochs validation loss has a clear rising trend (least-squares slope with a t-statistic
above 3) while training loss has a falling one and is below its value at b. A trend test
over several epochs, rather than "rose n times in a row", keeps the epoch-to-epoch noise of
small validation sets and minibatch training from raising false alarms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .base import Callback, Logs

_T_MIN = 3.0  # the t-statistic a rising validation trend must reach


def _trend(values: Sequence[float]) -> tuple[float, float]:
    """(least-squares slope, its t-statistic) of values against 0, 1, 2, ..."""
    n = len(values)
    xm, ym = (n - 1) / 2, sum(values) / n
    sxx = sum((i - xm) ** 2 for i in range(n))
    slope = sum((i - xm) * (v - ym) for i, v in enumerate(values)) / sxx
    resid = sum((v - ym - slope * (i - xm)) ** 2 for i, v in enumerate(values))
    se = math.sqrt(resid / max(n - 2, 1) / sxx)
    return slope, (slope / se if se > 0 else math.copysign(math.inf, slope) if slope else 0.0)


def find_overfitting(loss: Sequence[float], val_loss: Sequence[float], patience: int = 3,
                     rise: float = 0.1) -> int | None:
    """Index of the best validation loss if the curves show overfitting (see module doc)."""
    n, window = min(len(loss), len(val_loss)), 2 * patience
    if n < max(window, 3):
        return None
    loss, val = list(loss[:n]), list(val_loss[:n])
    best = min(range(n), key=lambda i: (val[i], i))
    recent = sum(val[-patience:]) / patience
    if n - 1 - best < patience or not recent > val[best] + rise * abs(val[best]):
        return None
    val_slope, val_t = _trend(val[-window:])
    train_slope, _ = _trend(loss[-window:])
    if val_slope > 0 and val_t > _T_MIN and train_slope < 0 and loss[-1] < loss[best]:
        return best
    return None


class OverfitDetector(Callback):
    """Watches loss / val_loss; the first time `find_overfitting` fires it records the best
    epoch in `model.history.overfit_epoch` (and `self.overfit_epoch`) and, with verbose > 0,
    prints one message suggesting remedies. fit adds one (patience 3) unless you pass your own.
    """

    def __init__(self, patience: int = 3, rise: float = 0.1, verbose: int = 1,
                 restores: bool = False) -> None:
        super().__init__()
        self.restores = restores  # an EarlyStopping of the run restores the best weights
        if int(patience) < 1:
            raise ValueError(f"OverfitDetector: patience must be >= 1, got {patience}")
        self.patience, self.rise, self.verbose = int(patience), float(rise), verbose
        self.overfit_epoch: int | None = None

    def on_train_begin(self, logs: Logs = None) -> None:
        history = getattr(self.model, "history", None)
        self.overfit_epoch = getattr(history, "overfit_epoch", None)

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        history = getattr(self.model, "history", None)
        if self.overfit_epoch is not None or history is None:
            return
        h = history.history
        if "val_loss" not in h or "loss" not in h:
            return
        best = find_overfitting(h["loss"], h["val_loss"], self.patience, self.rise)
        if best is None:
            return
        self.overfit_epoch = history.overfit_epoch = history.epoch[best]
        if self.verbose > 0:
            print(f"Overfitting: validation loss has been rising over the last "
                  f"{2 * self.patience} epochs while training loss kept falling; the best "
                  f"validation loss ({h['val_loss'][best]:.4f}) was at epoch "
                  f"{history.epoch[best] + 1}. " + ("EarlyStopping will restore that "
                  "epoch's weights; nn.Dropout or weight decay (e.g. optim.AdamW) may help."
                  if self.restores else "Consider EarlyStopping(restore_best_weights=True), "
                  "nn.Dropout, or weight decay (e.g. optim.AdamW)."))
