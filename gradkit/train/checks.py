"""Input checks that run once, before training: sizes, NaN/inf, and targets against the loss.

Every error names the call (`fit`, `evaluate`, `validation_data`...) and says how to fix it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..backend.devices import to_device, xp_of
from ..nn.module import Module
from ..tensor import Tensor
from .config import TrainConfig


def check_lengths(x: Any, y: Any, where: str) -> None:
    """Non-empty x, and as many targets as samples."""
    if len(x) == 0:
        raise ValueError(f"{where}: x is empty (0 samples); there is nothing to train on")
    if y is not None and len(y) != len(x):
        raise ValueError(f"{where}: x has {len(x)} samples but y has {len(y)}; they must "
                         "match (one target per sample)")


def check_finite(a: Any, name: str, where: str) -> None:
    """Refuse NaN/inf in a float array (one fast reduction; the details only on failure)."""
    if a.dtype.kind not in "fc":
        return
    xp = xp_of(a)
    with np.errstate(over="ignore", invalid="ignore"):
        if bool(xp.isfinite(a.sum())):
            return
    bad = ~xp.isfinite(a)
    if not bool(bad.any()):  # the sum overflowed; every value is finite
        return
    n_nan = int(xp.isnan(a).sum())
    first = int(bad.reshape(len(a), -1).any(axis=1).argmax())
    raise ValueError(
        f"{where}: {name} contains {n_nan} NaN and {int(bad.sum()) - n_nan} inf values "
        f"(first in sample {first}); remove or impute them before training"
    )


def probe_output(model: Module, x: Any, device: str) -> Tensor | None:
    """The model's output for the first two samples (eval mode, no graph), or None when the
    output is not a single tensor. Errors (e.g. a wrong input shape) surface here."""
    modes = [(m, m.training) for m in model.modules()]
    xb = Tensor._wrap(to_device(x[:2], device))
    try:
        model.eval()
        with no_grad():
            out = model(xb)
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
    return out if isinstance(out, Tensor) else None


def check_targets(cfg: TrainConfig, out_shape: tuple, y: Any, where: str) -> None:
    """Targets that the compiled loss can take, given the model's output shape."""
    if cfg.loss_kind == "labels":
        _check_labels(cfg.loss_name, out_shape, y, where)
    elif cfg.loss_kind in ("pointwise", "binary"):
        _check_pointwise(cfg, out_shape, y, where)


def _range(y) -> tuple[float, float]:
    return float(y.min()), float(y.max())


def _check_labels(loss: str, out_shape: tuple, y, where: str) -> None:
    classes = out_shape[-1] if len(out_shape) == 2 else None
    kind = y.dtype.kind
    if kind == "b" or (kind == "f" and (y.ndim == 1 or y.shape[1:] == (1,))):
        raise TypeError(
            f"{where}: loss '{loss}' needs integer class labels, but y has dtype {y.dtype}; "
            "convert it with y.astype(np.int64) (gradkit never casts float labels to int "
            "silently)" + ("" if loss == "nll" else
                           ", or pass one-hot / probability targets of shape (N, classes)"))
    if kind == "f":
        if loss == "nll" or y.shape[1:] != out_shape[1:]:
            raise ValueError(f"{where}: y has shape {y.shape} but the model outputs "
                             f"{out_shape[1:]} per sample; loss '{loss}' takes integer labels "
                             "of shape (N,) or probability targets matching the output")
        return
    if kind not in "iu":
        raise TypeError(f"{where}: y has dtype {y.dtype}; loss '{loss}' needs integer labels")
    if y.ndim > 1 and y.shape[1:] != (1,):
        raise ValueError(f"{where}: integer y of shape {y.shape}; loss '{loss}' takes labels of "
                         "shape (N,) (for one-hot rows pass y.argmax(axis=1), or "
                         "y.astype(np.float32) as probability targets)")
    lo, hi = _range(y)
    if classes is not None and (lo < 0 or hi >= classes):
        raise ValueError(
            f"{where}: y holds class labels from {lo:.0f} to {hi:.0f}, but the model outputs "
            f"{classes} classes, so loss '{loss}' needs labels in [0, {classes}); give the "
            f"last layer {int(hi) + 1} outputs or fix the labels"
        )


def _check_pointwise(cfg, out_shape: tuple, y, where: str) -> None:
    loss, per_sample = cfg.loss_name, tuple(y.shape[1:])
    if per_sample != out_shape[1:] and not (per_sample == () and out_shape[1:] == (1,)):
        hint = ""
        if y.dtype.kind in "iu" and len(out_shape) == 2 and out_shape[1] > 1:
            hint = "; for integer class labels use loss='cross_entropy'"
        raise ValueError(
            f"{where}: the model outputs {out_shape[1:]} per sample but y has {per_sample}; "
            f"loss '{loss}' compares them element by element, so they must match{hint}"
        )
    if cfg.loss_kind == "binary":
        lo, hi = _range(y)
        if lo < 0 or hi > 1:
            raise ValueError(
                f"{where}: loss '{loss}' needs targets in [0, 1], but y ranges from {lo:g} "
                f"to {hi:g}; for class labels 0..K-1 use loss='cross_entropy'"
            )
