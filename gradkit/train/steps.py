"""One step of training, evaluation or prediction, as the loop calls it.

A step function maps a batch to `(loss, y_true, y_pred, extras)`. When the model does not
override `train_step` / `test_step` / `predict_step`, the loop uses the lean closures built
here instead of the methods (same result, fewer calls per batch). An override returns the
loss Tensor or a dict with "loss" and, optionally, "y_pred" (updates the compiled metrics
against the batch's targets) and further scalars (averaged over the epoch and logged).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backend.autocast import autocast
from ..nn.module import Module
from ..nn.training import TrainingMixin
from ..tensor import Tensor
from . import compiled
from .config import TrainConfig

_RESERVED = ("loss", "y_pred", "y_true")


def overrides(model: Module, name: str) -> bool:
    """True when the model's class replaces TrainingMixin's `name` method."""
    return getattr(type(model), name) is not getattr(TrainingMixin, name)


def _fit_target(y_pred, y):
    """For element-wise losses: an (N,) target meets an (N, 1) output as (N, 1), and
    integer/bool targets take the output's float dtype."""
    if y.shape != y_pred.shape and y.ndim == 1 and y_pred.shape == (y.shape[0], 1):
        y = y.reshape(-1, 1)
    if y.dtype.kind != "f":
        y = y.astype(y_pred.dtype if y_pred.dtype.itemsize >= 4 else "float32")  # not fp16
    return y


def autocast_step(step: Callable, cfg: TrainConfig | None) -> Callable:
    """`step` run under `gk.autocast` when compile(precision=...) asks for mixed precision
    (the forward and the loss; backward and the update run outside, as in PyTorch)."""
    dtype = None if cfg is None else cfg.autocast_dtype
    if dtype is None:
        return step

    def mixed(batch):
        with autocast(dtype):
            return step(batch)

    return mixed


def _missing_loss(y_pred, y):
    raise RuntimeError("no loss: pass compile(loss=...) or override train_step / test_step "
                       "to compute one")


def loss_step(model: Module, cfg: TrainConfig, where: str) -> Callable:
    """`step(batch) -> (loss, y_true, y_pred, None)` for an (x, y) batch; y_true is the
    target as the loss and the metrics see it."""
    loss = cfg.loss if cfg.loss is not None else _missing_loss
    if cfg.loss_kind in ("pointwise", "binary"):
        def step(batch):
            x, y = _xy(batch, where)
            y_pred = model(x)
            y = _fit_target(y_pred, y)
            return loss(y_pred, y), y, y_pred, None
    else:
        def step(batch):
            x, y = _xy(batch, where)
            y_pred = model(x)
            return loss(y_pred, y), y, y_pred, None
    return step


def _xy(batch, where: str):
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    size = f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""
    raise ValueError(f"the default {where} needs (x, y) batches, got a "
                     f"{type(batch).__name__}{size}; override {where}(batch) for other "
                     "batch structures")


def default_step(model: Module, cfg: TrainConfig, batch: Any, where: str = "train_step") -> dict:
    """What `TrainingMixin.train_step/test_step` return: {"loss", "y_pred", "y_true"}."""
    loss, y, y_pred, _ = loss_step(model, cfg, where)(batch)
    return {"loss": loss, "y_pred": y_pred, "y_true": y}


def parse_output(out: Any, batch: Any, where: str) -> tuple:
    """(loss, y_true, y_pred, extras) from what an overridden step returned."""
    y = batch[1] if isinstance(batch, (tuple, list)) and len(batch) == 2 else None
    if isinstance(out, dict):
        if "loss" not in out:
            raise ValueError(f"{where} returned a dict without a 'loss' entry "
                             f"(keys: {sorted(out)})")
        extras = {k: v for k, v in out.items() if k not in _RESERVED}
        return out["loss"], out.get("y_true", y), out.get("y_pred"), extras or None
    if isinstance(out, (Tensor, float, int)):
        return out, y, None, None
    raise TypeError(f"{where} must return the loss (a Tensor) or a dict with 'loss', "
                    f"got {type(out).__name__}")


def _overridden(model: Module, where: str) -> Callable | None:
    """The model's own `train_step`/`test_step` with its output parsed, or None."""
    if not overrides(model, where):
        return None
    method = getattr(model, where)
    return lambda batch: parse_output(method(batch), batch, where)


def train_step_fn(model: Module, cfg: TrainConfig, whole: bool = False) -> Callable:
    """The per-batch training computation (without backward / optimizer step). With
    `whole` and `compile(jit_compile=True)`, the compiled step of compiled.py instead: it
    does zero_grad, backward, clipping and the update too, and says so (`updates`)."""
    step = autocast_step(_overridden(model, "train_step") or loss_step(model, cfg,
                                                                        "train_step"), cfg)
    if whole and cfg.jit_compile and getattr(model, "automatic_optimization", True):
        return compiled.train_step(model, cfg, step)
    return step


def test_step_fn(model: Module, cfg: TrainConfig) -> Callable:
    """The per-batch evaluation computation (called under no_grad; compiled with
    `jit_compile=True`)."""
    step = autocast_step(_overridden(model, "test_step") or loss_step(model, cfg, "test_step"),
                         cfg)
    return compiled.eval_step(model, cfg, step, "test")


def predict_step_fn(model: Module) -> Callable:
    """The per-batch prediction: the model applied to the batch's inputs (compiled with
    `jit_compile=True`)."""
    def step(batch):
        return model(batch[0] if isinstance(batch, (tuple, list)) else batch)

    if overrides(model, "predict_step"):
        step = model.predict_step
    cfg = model.__dict__.get("_train_config")
    return compiled.eval_step(model, cfg, autocast_step(step, cfg), "predict")


def batch_size_of(batch: Any, y: Any) -> int:
    """Samples in a batch: from the targets, else (also when the targets are a tuple, one
    per output of the model) from the first tensor in it."""
    if y is not None and not isinstance(y, (tuple, list, dict)):
        return len(y)
    while isinstance(batch, (tuple, list, dict)):
        batch = next(iter(batch.values() if isinstance(batch, dict) else batch))
    return len(batch)
