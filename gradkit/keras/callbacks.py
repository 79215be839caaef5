"""`keras.callbacks`: Keras's callbacks on gradkit's loop.

EarlyStopping, ReduceLROnPlateau, CSVLogger, TensorBoard, TerminateOnNaN and LambdaCallback
are gradkit's own (they follow Keras already); `History` records what Keras records (no
"lr" key); `ModelCheckpoint` writes `model.save` / `save_weights` files (a `.keras` or
`.weights.h5` name holds gradkit's safetensors format); `LearningRateScheduler` and
`BackupAndRestore` are Keras's. A `Callback` subclass may define Keras's
`on_train_batch_begin/end`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .. import callbacks as gk_callbacks
from ..callbacks import (
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from ..callbacks.base import Logs
from ..io import load_checkpoint, save_checkpoint
from ..nn.module import Module
from ._missing import missing

__all__ = ["Callback", "History", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler",
           "ReduceLROnPlateau", "BackupAndRestore", "CSVLogger", "TensorBoard",
           "TerminateOnNaN", "LambdaCallback", "CallbackList"]

CallbackList = gk_callbacks.CallbackList


class Callback(gk_callbacks.Callback):
    """Keras's Callback: every gradkit hook, plus `on_train_batch_begin/end` (Keras 3's
    names for the training batch hooks)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "on_train_batch_begin" in vars(cls) and "on_batch_begin" not in vars(cls):
            cls.on_batch_begin = cls.on_train_batch_begin  # type: ignore[assignment, method-assign]
        if "on_train_batch_end" in vars(cls) and "on_batch_end" not in vars(cls):
            cls.on_batch_end = cls.on_train_batch_end  # type: ignore[assignment, method-assign]

    def on_train_batch_begin(self, batch: int, logs: Logs = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None: ...


class History(gk_callbacks.History):
    """Keras's History: `history` (name -> per-epoch list), `epoch`, `params`, `model`."""

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        super().on_epoch_end(epoch, {k: v for k, v in (logs or {}).items() if k != "lr"})


class ModelCheckpoint(gk_callbacks.ModelCheckpoint):
    """Save the model (`model.save`) or its weights each epoch, or when `monitor` improves.

    `filepath` may hold `{epoch:02d}` and log keys; `save_freq` must be "epoch"."""

    def __init__(self, filepath: str | os.PathLike[str], monitor: str = "val_loss",
                 verbose: int = 0, save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: Any = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        if save_freq != "epoch":
            raise NotImplementedError("ModelCheckpoint(save_freq=) other than 'epoch' is not in "
                                      "gradkit's Keras")
        super().__init__(filepath, monitor, save_best_only, save_weights_only, mode, verbose)
        self.best = initial_value_threshold

    def _save(self, path: str) -> None:
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def _improved_text(self, epoch: int, previous, current: float, logs: dict) -> str:
        return (f"\nEpoch {epoch + 1}: {self.monitor} improved from {previous} to "
                f"{current:.5f}, saving model to {self._format(epoch, logs)}")

    def _saving_text(self, epoch: int, path: str) -> str:
        return f"\nEpoch {epoch + 1}: saving model to {path}"


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch's start to `schedule(epoch, lr)` (or
    `schedule(epoch)`); logs it as "learning_rate"."""

    def __init__(self, schedule: Callable, verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        opt = self.model.optimizer
        lr = float(opt.learning_rate if hasattr(opt, "learning_rate") else opt.lr)
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:
            lr = self.schedule(epoch)
        if hasattr(opt, "learning_rate"):
            opt.learning_rate = float(lr)
        else:
            opt.lr = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if isinstance(logs, dict):
            logs["learning_rate"] = float(self.model.optimizer.param_groups[0]["lr"])


class _ByPosition(Module):
    """A model's weights under their positions ("0000", ...), so that a backup loads into
    another instance of the same architecture (whose layers got other automatic names)."""

    inner: Any

    def __init__(self, model: Any) -> None:
        super().__init__()
        object.__setattr__(self, "inner", model)  # not a child: no second copy of the names

    def _state_tensors(self) -> dict:
        return {f"{i:04d}": t for i, t in enumerate(self.inner._state_tensors().values())}

    def state_dict(self) -> dict:
        return {f"{i:04d}": v for i, v in enumerate(self.inner.state_dict().values())}

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> Any:
        names = list(self.inner._state_tensors())
        return self.inner.load_state_dict({names[int(k)] if k.isdigit() and int(k) < len(
            names) else k: v for k, v in state_dict.items()}, strict)


class BackupAndRestore(Callback):
    """Back up the model, optimizer and epoch to `backup_dir` after each epoch; a later
    `fit` with the same callback resumes after the last backed-up epoch. The backup is
    deleted when training finishes (`delete_checkpoint`)."""

    main_process_only = True

    def __init__(self, backup_dir: str | os.PathLike[str], save_freq: Any = "epoch",
                 double_checkpoint: bool = False, delete_checkpoint: bool = True) -> None:
        super().__init__()
        if save_freq != "epoch":
            raise NotImplementedError("BackupAndRestore(save_freq=) other than 'epoch' is not "
                                      "in gradkit's Keras")
        self.backup_dir, self.delete_checkpoint = os.fspath(backup_dir), delete_checkpoint
        self.path = os.path.join(self.backup_dir, "backup.safetensors")

    def restore(self, model: Any) -> int | None:
        """Load the backup into `model` (and its optimizer); the epoch to resume at."""
        if not os.path.exists(self.path):
            return None
        info = load_checkpoint(self.path, _ByPosition(model), model.optimizer)
        return None if info.get("epoch") is None else int(info["epoch"]) + 1

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        save_checkpoint(self.path, _ByPosition(self.model), self.model.optimizer, epoch=epoch)

    def on_train_end(self, logs: Logs = None) -> None:
        if self.delete_checkpoint and os.path.exists(self.path):
            os.remove(self.path)


def convert(callbacks: Any) -> list:
    """The callbacks argument as a list."""
    if callbacks is None:
        return []
    return [callbacks] if isinstance(callbacks, gk_callbacks.Callback) else list(callbacks)


def for_fit(callbacks: Any) -> list:
    """The user's callbacks plus a Keras History (unless one is given)."""
    cbs = convert(callbacks)
    if not any(isinstance(cb, gk_callbacks.History) for cb in cbs):
        cbs.append(History())
    return cbs


def restore_backups(callbacks: list, model: Any, initial_epoch: int) -> int:
    """Restore from every BackupAndRestore; the epoch fit should start at."""
    for cb in callbacks:
        if isinstance(cb, BackupAndRestore):
            resumed = cb.restore(model)
            if resumed is not None:
                initial_epoch = max(initial_epoch, resumed)
    return initial_epoch


def __getattr__(name: str) -> Any:
    raise missing("callbacks", name, __all__)
