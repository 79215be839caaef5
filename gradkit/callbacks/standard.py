"""Keras's callbacks. `MonitorCallback` holds the monitor / mode / min_delta / baseline logic
shared by EarlyStopping, ModelCheckpoint and ReduceLROnPlateau.

Epochs are numbered from 0 in attributes (`best_epoch`, `stopped_epoch`) and from 1 in
printed messages and in ModelCheckpoint's `{epoch}`, as in Keras.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from typing import Any

from .base import Callback, CallbackList, Logs
from .history import History
from .loggers import CSVLogger, TensorBoard
from .overfit import OverfitDetector
from .progress import ProgressBar
from .saving import save_model_file, weights_finite

__all__ = [
    "Callback", "CallbackList", "MonitorCallback", "History", "EarlyStopping",
    "ModelCheckpoint", "ReduceLROnPlateau", "CSVLogger", "TensorBoard", "TerminateOnNaN",
    "LambdaCallback", "ProgressBar", "OverfitDetector",
]

_MAX_NAMES = ("acc", "auc", "f1", "precision", "recall", "r2")


class MonitorCallback(Callback):
    """A callback that watches one logged quantity and knows what counts as better.

    `mode="auto"` maximises names containing acc/auc/f1/precision/recall/r2 (after an optional
    "val_" prefix) and minimises everything else (losses, errors). An improvement must beat
    the best value by more than `min_delta`. `baseline`: subclasses decide how to use it.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", min_delta: float = 0.0,
                 baseline: float | None = None) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', "
                             f"got {mode!r}")
        self.monitor, self.mode = monitor, mode
        self.min_delta, self.baseline = abs(float(min_delta)), baseline
        self.best: float | None = None
        self._warned = False

    @property
    def direction(self) -> str:
        """'min' or 'max': the resolved mode."""
        if self.mode != "auto":
            return self.mode
        name = self.monitor.removeprefix("val_").lower()
        return "max" if any(k in name for k in _MAX_NAMES) else "min"

    def _is_improvement(self, current: float, reference: float | None) -> bool:
        if reference is None:
            return not math.isnan(current)
        if self.direction == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def get_monitor_value(self, logs: Logs) -> float | None:
        """The monitored value from `logs`, or None (with one warning naming the keys)."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            if not self._warned:
                warnings.warn(f"{type(self).__name__}: '{self.monitor}' is not in the logs "
                              f"(available: {sorted(logs or {})}); it does nothing",
                              stacklevel=2)
                self._warned = True
            return None
        return float(value)


class EarlyStopping(MonitorCallback):
    """Stop when `monitor` has not improved for `patience` epochs.

    With `restore_best_weights`, the weights of the best epoch are put back at the end of
    training, whether it stopped early or ran all its epochs (kept in memory as a
    `state_dict()` copy). Epochs before `start_from_epoch` are ignored. `baseline`: the
    patience counter only resets when the value also beats it.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = False,
                 baseline: float | None = None, start_from_epoch: int = 0,
                 verbose: int = 0) -> None:
        super().__init__(monitor, mode, min_delta, baseline)
        self.patience, self.verbose = int(patience), verbose
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best_weights = None

    def on_train_begin(self, logs: Logs = None) -> None:
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.state_dict(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(MonitorCallback):
    """Save the model (safetensors, written atomically) at the end of each epoch.

    `filepath` may hold `{epoch}` (from 1) and log keys, e.g.
    "ckpt/{epoch:02d}-{val_loss:.4f}.safetensors". With `save_best_only`, a file is only
    written when `monitor` improves. `save_weights_only`: weights without model metadata.
    Weights that are NaN or infinite are never saved (a warning says so), so a run that
    diverges keeps its last good file.
    """

    main_process_only = True  # writes files: rank 0 only in a distributed fit

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss",
                 save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto",
                 verbose: int = 0) -> None:
        super().__init__(monitor, mode)
        self.filepath, self.save_best_only = str(filepath), save_best_only
        self.save_weights_only, self.verbose = save_weights_only, verbose
        self.last_path: str | None = None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        logs = dict(logs or {})
        if not weights_finite(self.model):  # a diverged run: keep the files written so far
            warnings.warn(f"ModelCheckpoint: the weights are NaN or infinite after epoch "
                          f"{epoch + 1}; not saving them (the last file written, "
                          f"{self.last_path}, is kept)", stacklevel=2)
            return
        if self.save_best_only:
            current = self.get_monitor_value(logs)
            if current is None or not self._is_improvement(current, self.best):
                return
            previous, self.best = self.best, current
            if self.verbose > 0:
                print(self._improved_text(epoch, previous, current, logs))
        path = self._format(epoch, logs)
        self._save(path)
        self.last_path = path
        if self.verbose > 0 and not self.save_best_only:
            print(self._saving_text(epoch, path))

    def _save(self, path: str) -> None:
        save_model_file(self.model, path, self.save_weights_only)

    def _improved_text(self, epoch: int, previous, current: float, logs: dict) -> str:
        return (f"Epoch {epoch + 1}: {self.monitor} improved from {previous} to "
                f"{current:.5f}, saving model")

    def _saving_text(self, epoch: int, path: str) -> str:
        return f"Epoch {epoch + 1}: saving model to {path}"

    def _format(self, epoch: int, logs: dict) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as exc:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} names {exc}, which is "
                           f"not in the logs (available: epoch, {', '.join(sorted(logs))})"
                           ) from None


class ReduceLROnPlateau(MonitorCallback):
    """Multiply every learning rate by `factor` (not below `min_lr`) when `monitor` has not
    improved by more than `min_delta` for `patience` epochs; then wait `cooldown` epochs."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 mode: str = "auto", verbose: int = 0) -> None:
        super().__init__(monitor, mode, min_delta)
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor}")
        self.factor, self.patience, self.cooldown = float(factor), int(patience), int(cooldown)
        self.min_lr, self.verbose = float(min_lr), verbose
        self.wait, self.cooldown_counter = 0, 0

    def on_train_begin(self, logs: Logs = None) -> None:
        self.wait, self.cooldown_counter, self.best = 0, 0, None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(epoch)

    def _reduce(self, epoch: int) -> None:
        groups = self.model.optimizer.param_groups
        if all(g["lr"] <= self.min_lr for g in groups):
            return
        for g in groups:
            g["lr"] = max(g["lr"] * self.factor, self.min_lr)
        if self.verbose > 0:
            print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                  f"{groups[0]['lr']:.4g}.")
        self.cooldown_counter, self.wait = self.cooldown, 0


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite, saying where.

    `stopped_epoch` / `stopped_batch` (from 0) record where it happened (None if never).
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch = 0
        self.stopped_epoch: int | None = None
        self.stopped_batch: int | None = None

    def on_train_begin(self, logs: Logs = None) -> None:
        self.stopped_epoch = self.stopped_batch = None

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self.epoch = epoch

    def on_batch_end(self, batch: int, logs: Logs = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.stopped_epoch, self.stopped_batch = self.epoch, batch
            print(f"TerminateOnNaN: the loss became {loss} at epoch {self.epoch + 1}, batch "
                  f"{batch + 1}; training stopped")
            self.model.stop_training = True


Hook = Callable[..., Any]  # (logs) for train hooks, (epoch or batch, logs) for the others


class LambdaCallback(Callback):
    """A callback from plain functions: `on_epoch_end=lambda epoch, logs: ...`, etc.
    (epoch/batch hooks take (index, logs), train hooks take (logs))."""

    _HOOKS = ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end",
              "on_train_begin", "on_train_end")

    def __init__(self, on_epoch_begin: Hook | None = None, on_epoch_end: Hook | None = None,
                 on_batch_begin: Hook | None = None, on_batch_end: Hook | None = None,
                 on_train_begin: Hook | None = None, on_train_end: Hook | None = None) -> None:
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_batch_begin=on_batch_begin, on_batch_end=on_batch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end)
        for hook, fn in given.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"LambdaCallback: {hook} must be callable, got {fn!r}")
                setattr(self, hook, fn)  # an instance attribute: CallbackList sees it

