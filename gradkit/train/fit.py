"""Keras-style `fit`, `evaluate` and `predict` on any Module (`model.fit(...)` calls these).

The loop per batch: zero_grad, the step (forward + loss), backward, optimizer step, and the
running sums, which stay on the device until a progress refresh or the epoch's end. Batch
callbacks are only called when a callback defines them. Training mode is on for the
epoch, evaluation mode (dropout off) and `no_grad` for validation, evaluate and predict;
the model's own mode is restored afterwards.
"""

from __future__ import annotations

import contextlib
import copy
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from ..autograd import no_grad
from ..backend.devices import to_numpy, xp_of
from ..callbacks.base import Callback, CallbackList
from ..callbacks.history import History
from ..callbacks.overfit import OverfitDetector
from ..callbacks.progress import ProgressBar, format_logs
from ..distributed.training import DistributedFit
from ..nn.module import Module
from ..tensor import Tensor
from . import inputs, predict_fast, resume, steps
from .backward import backward
from .config import compile_model, config_of
from .running import BatchLogs, Running

__all__ = ["compile_model", "fit", "evaluate", "predict"]


def model_device(model: Module) -> str:
    """The device of the model's first parameter ('cpu' for a model without any)."""
    p = next(model.parameters(), None)
    return "cpu" if p is None else p.device


class _Mode:
    """Context manager: set train/eval mode on every submodule, restore each one's after."""

    def __init__(self, model, training: bool) -> None:
        self.model, self.training = model, training

    def __enter__(self):
        self.saved = [(m, m.training) for m in self.model.modules()]
        self.model.train(self.training)
        return self

    def __exit__(self, *exc) -> None:
        for m, mode in self.saved:
            object.__setattr__(m, "training", mode)


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"fit: {name} must be an int >= {low}, got {value!r}")
    return int(value)


def _as_list(callbacks) -> list:
    """The callbacks argument as a list (None, one Callback, or an iterable of them)."""
    if callbacks is None:
        return []
    return [callbacks] if isinstance(callbacks, Callback) else list(callbacks)


def _arrange(callbacks, history: History, verbose: int) -> list:
    """User callbacks, then History, ProgressBar and OverfitDetector (the defaults are added
    unless the user passed their own)."""
    user = list(callbacks or [])
    special = (History, ProgressBar, OverfitDetector)
    ordered = [cb for cb in user if not isinstance(cb, special)]
    ordered.append(history)
    bar = [cb for cb in user if isinstance(cb, ProgressBar)]
    ordered += bar or ([ProgressBar(verbose)] if verbose else [])
    detector = [cb for cb in user if isinstance(cb, OverfitDetector)]
    restores = any(getattr(cb, "restore_best_weights", False) for cb in user)
    return ordered + (detector or [OverfitDetector(verbose=verbose, restores=restores)])


def _pick_history(model, callbacks, initial_epoch: int) -> History:
    given = [cb for cb in callbacks or [] if isinstance(cb, History)]
    if given:
        return given[0]
    previous = model.__dict__.get("history")
    return previous if initial_epoch > 0 and isinstance(previous, History) else History()


def fit(model: Module, x: Any = None, y: Any = None, epochs: int = 1, batch_size: int = 32,
        validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
        callbacks: list | None = None, verbose: int | str = 1, initial_epoch: int = 0,
        distributed: Any = False) -> History:
    """Train `model` (see `Module.fit`); returns the History."""
    cfg = config_of(model, "fit")
    epochs = _check_int(epochs, "epochs", 0)
    batch_size = _check_int(batch_size, "batch_size", 1)
    initial_epoch = _check_int(initial_epoch, "initial_epoch", 0)
    verbose = 1 if verbose == "auto" else int(verbose)
    split = inputs.check_split(validation_split)
    device = model_device(model)
    callbacks = _as_list(callbacks)
    custom = steps.overrides(model, "train_step")
    checker = inputs.Checker(model, cfg, device, targets=not custom)
    saved = resume.take(model, initial_epoch)  # left by load_checkpoint: continue its order
    train, val = inputs.fit_loaders(checker, x, y, batch_size, split, validation_data,
                                    shuffle, need_y=not custom, seed=resume.seed_of(saved))
    dist = None
    if distributed:  # data parallel over MPI ranks (gradkit/distributed/training.py)

        dist = DistributedFit(model, distributed, callbacks, verbose, custom)
        train, val = dist.loaders(train, val, initial_epoch)
        callbacks, verbose = dist.callbacks, dist.verbose
    elif saved is not None:
        resume.restore(train, saved)
    history = _pick_history(model, callbacks, initial_epoch)
    object.__setattr__(model, "history", history)
    params = {"epochs": epochs, "steps": len(train), "samples": _samples(train),
              "batch_size": batch_size, "verbose": verbose, "initial_epoch": initial_epoch,
              "do_validation": val is not None}
    cbs = CallbackList(_arrange(callbacks, history, verbose), model, params)
    loop = _Loop(model, cfg, cbs, dist)
    handle = resume.attach(model, train)  # what save_checkpoint(path, model) stores
    try:
        with _Mode(model, True), dist.running() if dist else contextlib.nullcontext():
            loop.run(train, val, initial_epoch, epochs)
    finally:
        handle.freeze()
    return history


def _samples(loader) -> int:
    n = len(loader.sampler)
    return len(loader) * loader.batch_size if loader.drop_last else n


class _Loop:
    """The epoch and batch loops of fit."""

    def __init__(self, model, cfg, cbs: CallbackList, dist=None) -> None:
        self.model, self.cbs, self.opt, self.dist = model, cbs, model.optimizer, dist
        self.train_step = steps.train_step_fn(model, cfg, whole=dist is None)  # jit: whole
        self.test_step = steps.test_step_fn(model, cfg)
        self.auto = getattr(model, "automatic_optimization", True) and not getattr(
            self.train_step, "updates", False)  # a compiled step updates the weights itself
        self.running = Running(cfg.metrics)
        self.clip = cfg.clip  # compile's clipnorm / global_clipnorm / clipvalue
        self.scaler = cfg.scaler  # precision="16-mixed": dynamic loss scaling
        self.val_running = Running([copy.deepcopy(m) for m in cfg.metrics], prefix="val_")

    def run(self, train, val, initial_epoch: int, epochs: int) -> None:
        model, cbs = self.model, self.cbs
        object.__setattr__(model, "stop_training", False)
        cbs.call("on_train_begin", {})
        cbs.refresh_batch_hooks()
        logs: dict = {}
        for epoch in range(initial_epoch, epochs):
            model.train()
            self.running.reset()
            cbs.call("on_epoch_begin", epoch, {})
            self.train_epoch(train)
            logs = self.running.result()
            reduce = self.dist.reduce if self.dist else None  # means over all ranks
            if reduce:
                logs = reduce(logs, self.running.count)
            if val is not None:
                logs.update(run_eval(model, val, self.test_step, self.val_running, cbs, reduce))
            logs["lr"] = float(self.opt.param_groups[0]["lr"])
            cbs.call("on_epoch_end", epoch, logs)
            if self.dist.stop(model, per_batch=False) if self.dist else model.stop_training:
                break
        cbs.call("on_train_end", logs)

    def train_epoch(self, loader) -> None:
        model, opt, step, running, cbs = self.model, self.opt, self.train_step, self.running, \
            self.cbs
        auto, begin, end, dist = self.auto, cbs.batch_begin, cbs.batch_end, self.dist
        for i, batch in enumerate(loader):
            if begin:
                cbs.on_batch_begin(i)
            if auto:
                opt.zero_grad()
            loss, y, y_pred, extras = step(batch)
            if auto:
                self.update(loss)
            n = steps.batch_size_of(batch, y)
            running.update(loss, n, y, y_pred, extras)
            if end:
                cbs.on_batch_end(i, BatchLogs(running, i, n))
            if dist.stop(model) if dist is not None else model.stop_training:
                break


    def update(self, loss) -> None:
        """backward, gradient sync (distributed), clipping and the optimizer step; with a
        GradScaler (16-mixed) backward of the scaled loss, the gradients unscaled before
        clipping, a step skipped on inf/NaN gradients and the scale updated, as in PyTorch."""
        opt, scaler = self.opt, self.scaler
        backward(loss if scaler is None else scaler.scale(loss))
        if self.dist is not None:
            self.dist.sync()  # average the gradients over the ranks
        if scaler is not None:
            scaler.unscale_(opt)
        if self.clip is not None:
            self.clip([p for g in opt.param_groups for p in g["params"]])
        if scaler is None:
            opt.step()
        else:
            scaler.step(opt)
            scaler.update()


def run_eval(model: Module, loader: Iterable, step: Callable, running: Running,
             cbs: CallbackList | None = None,
             reduce: Callable[[dict, int], dict] | None = None) -> dict:
    """Loss and metrics over a loader in eval mode under no_grad (the model's modes are
    restored afterwards). `reduce(logs, count)` combines the ranks' logs (distributed fit)."""
    running.reset()
    if cbs is not None:
        cbs.call("on_test_begin", {})
    with _Mode(model, False), no_grad():
        for i, batch in enumerate(loader):
            loss, y, y_pred, extras = step(batch)
            n = steps.batch_size_of(batch, y)
            running.update(loss, n, y, y_pred, extras)
            if cbs is not None and cbs.test_batch_end:
                for cb in cbs.test_batch_end:
                    cb.on_test_batch_end(i, BatchLogs(running, i, n))
    logs = running.result()
    if reduce is not None:
        logs = reduce(logs, running.count)
    if cbs is not None:
        cbs.call("on_test_end", logs)
    return logs


def evaluate(model: Module, x: Any = None, y: Any = None, batch_size: int = 256,
             verbose: int = 0, callbacks: list | None = None) -> dict[str, float]:
    """Loss and metrics over (x, y) or a DataLoader, as a dict (see `Module.evaluate`)."""
    cfg = config_of(model, "evaluate")
    batch_size = _check_int(batch_size, "batch_size", 1)
    device = model_device(model)
    checker = inputs.Checker(model, cfg, device, not steps.overrides(model, "test_step"))
    loader = inputs.eval_loader(checker, x, y, batch_size, "evaluate")
    cbs = CallbackList(_as_list(callbacks), model, {"steps": len(loader), "verbose": verbose})
    logs = run_eval(model, loader, steps.test_step_fn(model, cfg), Running(cfg.metrics), cbs)
    if verbose:
        print(f"evaluate - {format_logs(logs)}")
    return logs


def predict(model: Module, x: Any, batch_size: int = 256, verbose: int = 0,
            callbacks: list | None = None) -> Any:
    """The model's outputs for x as NumPy array(s) (see `Module.predict`)."""
    batch_size = _check_int(batch_size, "batch_size", 1)
    fast = predict_fast.predict(model, x, batch_size, verbose, callbacks)
    if fast is not None:
        return fast
    loader = inputs.predict_loader(x, batch_size, model_device(model))
    step = steps.predict_step_fn(model)
    cbs = CallbackList(_as_list(callbacks), model, {"steps": len(loader), "verbose": verbose})
    cbs.call("on_predict_begin", {})
    outs = []
    with _Mode(model, False), no_grad():
        for i, batch in enumerate(loader):
            outs.append(_raw_tree(step(batch)))
            for cb in cbs.predict_batch_end:
                cb.on_predict_batch_end(i, {"batch": i, "size": steps.batch_size_of(batch,
                                                                                     None)})
    cbs.call("on_predict_end", {})
    return _concat(outs)


def _raw_tree(out):
    if isinstance(out, Tensor):
        return out._data
    if isinstance(out, (tuple, list)):
        return type(out)(_raw_tree(o) for o in out)
    if isinstance(out, dict):
        return {k: _raw_tree(v) for k, v in out.items()}
    return out


def _concat(outs: list):
    first = outs[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_concat([o[i] for o in outs]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _concat([o[k] for o in outs]) for k in first}
    return to_numpy(xp_of(first).concatenate(outs, axis=0))

