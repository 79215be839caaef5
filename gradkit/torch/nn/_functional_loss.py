"""The losses of `torch.nn.functional`, with PyTorch's arguments: `weight`, `ignore_index`
(default -100), `label_smoothing`, `pos_weight`, the legacy `size_average`/`reduce`, and
K-dimensional inputs (N, C, d1, ...) for `cross_entropy` and `nll_loss`.

The common case (no weight, no ignored label, (N, C) logits) is gradkit's fused node;
the others are composed from gradkit ops with PyTorch's formulas (a weighted mean divides
by the summed weights of the counted targets).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ...backend.devices import to_numpy
from ...errors import ShapeError
from ...nn import functional as _gkF
from ...ops import elementwise as _ew
from ...ops import neural as _neural
from ...ops import reduce as _red
from ...ops import shape as _shape
from ...ops.indexing import getitem
from ...ops.loss import check_reduction
from ...tensor import Tensor as _Native
from ...tensor import as_tensor
from ..tensor import retagging

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
           "kl_div", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "legacy_reduction"]


def legacy_reduction(size_average: Any, reduce: Any, reduction: str, name: str) -> str:
    """`reduction` from PyTorch's deprecated `size_average`/`reduce` when either is given."""
    if size_average is None and reduce is None:
        return check_reduction(reduction, name)
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  "reduction='mean' / 'sum' / 'none' instead.", UserWarning, stacklevel=3)
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _reduce(losses: _Native, reduction: str) -> _Native:
    if reduction == "mean":
        return _red.mean(losses)
    return _red.sum(losses) if reduction == "sum" else losses


def _classes_last(x: _Native, target: _Native, labels: bool, name: str):
    """(N*d1*..., C) logits and matching targets for K-dim input (N, C, d1, ...), and the
    shape the unreduced losses take back (None for 1-D and 2-D input)."""
    if x.ndim <= 2:
        return x, target, None
    n, c, rest = x.shape[0], x.shape[1], x.shape[2:]
    want = (n, *rest) if labels else x.shape
    if target.shape != want:
        raise ShapeError(f"{name}: input of shape {x.shape} needs a target of shape {want}, "
                         f"got {target.shape}")
    order = (0, *range(2, x.ndim), 1)
    flat = _shape.reshape(_shape.transpose(x, order), (-1, c))
    t = _shape.reshape(target, (-1,)) if labels else _shape.reshape(
        _shape.transpose(target, order), (-1, c))
    return flat, t, (n, *rest)


def _is_labels(target: Any) -> bool:
    data = target._data if isinstance(target, _Native) else np.asarray(target)
    return data.dtype.kind in "iu"


def _picked(logp: _Native, target: _Native, weight: Any, ignore_index: int, name: str):
    """For int labels y: -w[y] * logp[i, y] per row, w[y] per row (0 where ignored), the
    2-D log-probabilities, the class weights, the counted rows (1/0) and whether the input
    was a single (C,) row."""
    single = logp.ndim == 1
    lp = _shape.expand_dims(logp, 0) if single else logp
    n, c = lp.shape
    y = np.asarray(to_numpy(target._data)).reshape(-1).astype(np.int64)
    if y.shape[0] != n:
        raise ShapeError(f"{name}: {n} rows of input but {y.shape[0]} labels")
    valid = y != ignore_index
    bad = valid & ((y < 0) | (y >= c))
    if bad.any():
        raise ValueError(f"{name}: label {int(y[bad][0])} is outside [0, {c}) (and is not "
                         f"ignore_index={ignore_index})")
    safe = np.where(valid, y, 0)
    w = np.ones(c, np.float32) if weight is None else np.asarray(to_numpy(as_tensor(weight)._data))
    if w.shape != (c,):
        raise ShapeError(f"{name}: weight must have one value per class ({c}), got shape "
                         f"{w.shape}")
    wy = (w[safe] * valid).astype(lp.dtype)
    xp = lp._xp
    rows, safe_x, wy_x = xp.arange(n), xp.asarray(safe), xp.asarray(wy)
    nll = -getitem(lp, (rows, safe_x)) * _Native._wrap(wy_x)
    counted = _Native._wrap(xp.asarray(valid.astype(lp.dtype)))
    return nll, _Native._wrap(wy_x), lp, xp.asarray(w.astype(lp.dtype)), counted, single


def _weighted_mean(losses: _Native, wy: _Native, reduction: str, single: bool) -> _Native:
    if reduction == "none":
        return _shape.reshape(losses, ()) if single else losses
    total = _red.sum(losses)
    return total / _red.sum(wy) if reduction == "mean" else total


def _xent_labels(x: _Native, t: _Native, weight: Any, ignore_index: int, reduction: str,
                 smoothing: float) -> _Native:
    logp = _neural.log_softmax(x, -1)
    nll, wy, lp, w, counted, single = _picked(logp, t, weight, ignore_index, "cross_entropy")
    if smoothing > 0:
        c = lp.shape[-1]
        smooth = -_red.sum(lp * _Native._wrap(w), axis=-1) * counted
        nll = nll * (1.0 - smoothing) + smooth * (smoothing / c)
    return _weighted_mean(nll, wy, reduction, single)


def _xent_probabilities(x: _Native, t: _Native, weight: Any, reduction: str,
                        smoothing: float) -> _Native:
    logp = _neural.log_softmax(x, -1)
    c = logp.shape[-1]
    q = as_tensor(t).astype(logp.dtype)
    if smoothing > 0:
        q = q * (1.0 - smoothing) + smoothing / c
    w = as_tensor(weight)._data.astype(logp.dtype)
    losses = -_red.sum(logp * q * _Native._wrap(w), axis=-1)
    return _reduce(losses, reduction)


def _xent_labels_fast(x: _Native, t: _Native, weight: Any, ignore_index: int,
                      reduction: str, smoothing: float) -> _Native:
    """gradkit's fused node unless a weight or an ignored label needs the composed form.

    On the CPU an `ignore_index` outside [0, C) (PyTorch's -100) costs nothing: the fused
    node refuses such labels, and only then are they looked for."""
    if weight is None:
        c = x.shape[-1]
        outside = not 0 <= ignore_index < c
        if outside and isinstance(t._data, np.ndarray):
            try:
                return _neural.cross_entropy(x, t, reduction, smoothing)
            except ValueError:
                if not (t._data == ignore_index).any():
                    raise
        elif not bool((t._data == ignore_index).any()):
            return _neural.cross_entropy(x, t, reduction, smoothing)
    return _xent_labels(x, t, weight, ignore_index, reduction, smoothing)


@retagging
def cross_entropy(input: Any, target: Any, weight: Any = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Any:
    """Softmax + cross-entropy of logits (N, C) (or (C,), or (N, C, d1, ...)) against int
    labels or class probabilities."""
    reduction = legacy_reduction(size_average, reduce, reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    x, t = as_tensor(input), as_tensor(target)
    labels = _is_labels(t)
    x2, t2, back = _classes_last(x, t, labels, "cross_entropy")
    inner = "none" if back is not None and reduction == "none" else reduction
    if labels:
        out = _xent_labels_fast(x2, t2, weight, ignore_index, inner, label_smoothing)
    elif weight is None:
        out = _neural.cross_entropy(x2, t2, inner, label_smoothing)
    else:
        out = _xent_probabilities(x2, t2, weight, inner, label_smoothing)
    return out if back is None or reduction != "none" else _shape.reshape(out, back)


@retagging
def nll_loss(input: Any, target: Any, weight: Any = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Any:
    """Negative log-likelihood of int labels given log-probabilities (N, C) (or K-dim)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "nll_loss")
    x, t = as_tensor(input), as_tensor(target)
    x2, t2, back = _classes_last(x, t, True, "nll_loss")
    inner = "none" if back is not None and reduction == "none" else reduction
    if weight is None and not bool((t2._data == ignore_index).any()):
        out = _gkF.nll_loss(x2, t2, inner)
    else:
        nll, wy, _, _, _, single = _picked(x2, t2, weight, ignore_index, "nll_loss")
        out = _weighted_mean(nll, wy, inner, single)
    return out if back is None or reduction != "none" else _shape.reshape(out, back)


def _weighted(losses: _Native, weight: Any, reduction: str, by_weight: bool = False
              ) -> _Native:
    """`losses` times `weight`, reduced; `by_weight`: the mean divides by the summed weights
    (PyTorch's weighted mse_loss and l1_loss), else by the number of elements."""
    if weight is None:
        return _reduce(losses, reduction)
    w = as_tensor(weight)
    if by_weight and w.shape != losses.shape:
        raise ShapeError(f"weight of shape {w.shape} for losses of shape {losses.shape}: "
                         "weights and input must have the same size")
    losses = losses * w
    if by_weight and reduction == "mean":
        return _red.sum(losses) / _red.sum(w)
    return _reduce(losses, reduction)


@retagging
def mse_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Any = None) -> Any:
    """(input - target) ** 2; the shapes must match (they are never broadcast)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "mse_loss")
    return _weighted(_gkF.mse_loss(input, target, "none"), weight, reduction, True)


@retagging
def l1_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Any = None) -> Any:
    """|input - target|; the shapes must match."""
    reduction = legacy_reduction(size_average, reduce, reduction, "l1_loss")
    return _weighted(_gkF.l1_loss(input, target, "none"), weight, reduction, True)


@retagging
def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0,
               weight: Any = None) -> Any:
    """0.5 d**2 where |d| < delta, else delta (|d| - delta / 2)."""
    check_reduction(reduction, "huber_loss")
    return _weighted(_gkF.huber_loss(input, target, "none", delta), weight, reduction)


@retagging
def smooth_l1_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Any:
    """0.5 d**2 / beta where |d| < beta, else |d| - beta / 2 (beta = 0: L1)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return _gkF.l1_loss(input, target, reduction)
    return _reduce(_gkF.huber_loss(input, target, "none", beta) / beta, reduction)


@retagging
def kl_div(input: Any, target: Any, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Any:
    """target * (log(target) - input) for log-probabilities `input`; reduction "batchmean"
    divides the sum by the batch size (the true KL divergence)."""
    if reduction != "batchmean":
        reduction = legacy_reduction(size_average, reduce, reduction, "kl_div")
    x, t = as_tensor(input), as_tensor(target)
    if log_target:
        losses = _ew.exp(t) * (t - x)
    else:
        safe = _ew.where(t._data > 0, t, 1.0)
        losses = t * _ew.log(safe) - t * x
    if reduction == "batchmean":
        return _red.sum(losses) / (x.shape[0] if x.ndim else 1)
    return _reduce(losses, reduction)


@retagging
def binary_cross_entropy(input: Any, target: Any, weight: Any = None,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Any:
    """BCE of probabilities in [0, 1] (logs clamped to >= -100)."""
    reduction = legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    if weight is None:
        return _gkF.binary_cross_entropy(input, target, reduction)
    return _weighted(_gkF.binary_cross_entropy(input, target, "none"), weight, reduction)


@retagging
def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None,
                                     size_average: Any = None, reduce: Any = None,
                                     reduction: str = "mean", pos_weight: Any = None) -> Any:
    """Sigmoid + BCE on logits, stable for any logit; `pos_weight` weighs the positives."""
    reduction = legacy_reduction(size_average, reduce, reduction,
                                 "binary_cross_entropy_with_logits")
    if pos_weight is None:
        if weight is None:
            return _gkF.binary_cross_entropy_with_logits(input, target, reduction)
        losses = _gkF.binary_cross_entropy_with_logits(input, target, "none")
        return _weighted(losses, weight, reduction)
    x, t = as_tensor(input), as_tensor(target)
    if x.shape != t.shape:
        raise ShapeError(f"binary_cross_entropy_with_logits: input of shape {x.shape} and "
                         f"target of shape {t.shape} must have the same shape")
    t = t.astype(x.dtype)
    pw = as_tensor(pos_weight)
    losses = (1.0 - t) * x + (1.0 + (pw - 1.0) * t) * _ew.softplus(-x)
    return _weighted(losses, weight, reduction)
