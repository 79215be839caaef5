"""Normalisation as fused nodes (batch_norm, layer_norm): forward and gradient on raw arrays.

Both keep x_hat = (x - mean) / sqrt(var + eps) and 1 / sqrt(var + eps) from the forward pass;
the gradient through batch statistics is the closed form
dx = invstd * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)).
Under create_graph the same formulas run on x_hat and invstd recomputed from the input with
gk ops (`_recorded_stats`), so the gradient is differentiable again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..autograd import register_differentiable
from ..errors import ShapeError
from ..tensor import Tensor, _make
from . import recorded
from ._util import _check_devices, float_tensor

if TYPE_CHECKING:
    from ..tensor_base import TensorLike


def _affine_arrays(x: Tensor, weight, bias, shape: tuple, bshape: tuple, opname: str):
    """weight and bias arrays (None where absent), checked and reshaped to broadcast."""
    out: list = []
    for t, label in ((weight, "weight"), (bias, "bias")):
        if t is None:
            out.append(None)
            continue
        _check_devices(x, t, opname)
        if t.shape != shape:
            raise ShapeError(f"{opname}: {label} must have shape {shape}, got {t.shape}")
        out.append(t._data.reshape(bshape))
    return out


def _normalise_node(x: Tensor, weight, bias, w, b, xc, var, eps, sum_axes, stat_axes,
                    opname: str) -> Tensor:
    """Scale, shift and record one node; `stat_axes` is None when mean/var were constants."""
    xp = x._xp
    invstd = 1.0 / xp.sqrt(var + eps)
    xhat = xc * invstd
    out = xhat * w if w is not None else xhat
    if b is not None:
        out = out + b
    parents = tuple(t for t in (x, weight, bias) if t is not None)

    def vjp(g):
        wv, xh, inv = w, xhat, invstd
        if xp is recorded:  # create_graph: the same formulas on recomputed Tensors
            wv, xh, inv = _recorded_stats(x, weight, w, xhat, invstd, stat_axes, eps)
        grads = [_input_grad(g, wv, xh, inv, stat_axes) if x.requires_grad else None]
        if weight is not None:
            grads.append((g * xh).sum(axis=sum_axes) if weight.requires_grad else None)
        if bias is not None:
            grads.append(g.sum(axis=sum_axes) if bias.requires_grad else None)
        return tuple(grads)

    return _make(out, parents, vjp, opname)


def _recorded_stats(x: Tensor, weight, w, xhat, invstd, stat_axes, eps) -> tuple:
    """(weight, x_hat, invstd) as gk ops on the recorded input `x`. Batch statistics (over
    `stat_axes`) are recomputed from `x`; with constant ones (None) x_hat is the forward's
    `xhat` + (x - its value) * the constant `invstd`: the same numbers, and running statistics
    written since are not read."""
    wt = None if weight is None else weight.reshape(w.shape)
    if stat_axes is None:  # the arrays as constants of their own dtype (Tensor(a) is float32)
        base = xhat._data if isinstance(xhat, Tensor) else xhat  # xhat was the result
        inv = Tensor._wrap(invstd)
        return wt, (x - Tensor._wrap(x._data)) * inv + Tensor._wrap(base), inv
    xc = x - x.mean(axis=stat_axes, keepdims=True)
    inv = 1.0 / recorded.sqrt((xc * xc).mean(axis=stat_axes, keepdims=True) + eps)
    return wt, xc * inv, inv


def _input_grad(g, w, xhat, invstd, stat_axes):
    gh = g * w if w is not None else g
    if stat_axes is None:
        return gh * invstd
    m1 = gh.mean(axis=stat_axes, keepdims=True)
    m2 = (gh * xhat).mean(axis=stat_axes, keepdims=True)
    return invstd * (gh - m1 - xhat * m2)


def batch_norm(x: TensorLike, running_mean: Tensor | None = None,
               running_var: Tensor | None = None, weight: Tensor | None = None,
               bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation of (N, C) or (N, C, L) input over every axis but C (one node).

    With `training` (or without running stats) the batch's statistics normalise, and the
    running stats, when given, are updated in place with the unbiased variance:
    `new = (1 - momentum) * old + momentum * batch_stat`. Otherwise the running stats
    normalise. Same meaning as torch.nn.functional.batch_norm.
    """
    x = float_tensor(x, "batch_norm")
    d = x._data
    c = next((t.shape[0] for t in (weight, running_mean) if t is not None), None)
    if d.ndim not in (2, 3) or (c is not None and d.shape[1] != c):
        want = "(N, C) or (N, C, L)" + (f" with C={c}" if c is not None else "")
        raise ShapeError(f"batch_norm: expected input of shape {want}, got {d.shape}")
    axes = (0,) if d.ndim == 2 else (0, 2)
    bshape = (1, d.shape[1]) + (1,) * (d.ndim - 2)
    w, b = _affine_arrays(x, weight, bias, (d.shape[1],), bshape, "batch_norm")
    stats = None if running_mean is None or running_var is None else (
        running_mean._data, running_var._data)
    stat_axes: tuple | None = axes
    if training or stats is None:
        mean, xc, var = _batch_stats(d, axes, training)
        if training and stats is not None:
            _update_running(*stats, mean, var, d.size // d.shape[1], momentum)
    else:
        xc = d - stats[0].reshape(bshape)
        var, stat_axes = stats[1].reshape(bshape), None
    return _normalise_node(x, weight, bias, w, b, xc, var, eps, axes, stat_axes, "batch_norm")


def _batch_stats(d, axes, training):
    """Mean, centred input and biased variance over `axes`."""
    if training and d.size // d.shape[1] <= 1:
        raise ShapeError(
            f"batch_norm: expected more than 1 value per channel when training, got input of "
            f"shape {d.shape}"
        )
    mean = d.mean(axis=axes, keepdims=True)
    xc = d - mean
    return mean, xc, (xc * xc).mean(axis=axes, keepdims=True)


def _update_running(rm, rv, mean, var, n, momentum):
    """In place: running = (1 - momentum) * running + momentum * batch (unbiased variance)."""
    rm *= 1.0 - momentum
    rm += momentum * mean.reshape(rm.shape)
    rv *= 1.0 - momentum
    rv += (momentum * n / (n - 1)) * var.reshape(rv.shape)


def layer_norm(x: TensorLike, normalized_shape: int | Sequence[int],
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) axes, then scale and shift (one node)."""
    x = float_tensor(x, "layer_norm")
    d = x._data
    ns = (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(
        normalized_shape)
    k = len(ns)
    if d.ndim < k or d.shape[d.ndim - k:] != ns:
        raise ShapeError(
            f"layer_norm: input of shape {d.shape} does not end with normalized_shape {ns}"
        )
    axes = tuple(range(d.ndim - k, d.ndim))
    w, b = _affine_arrays(x, weight, bias, ns, ns, "layer_norm")
    xc = d - d.mean(axis=axes, keepdims=True)
    var = (xc * xc).mean(axis=axes, keepdims=True)
    lead = tuple(range(d.ndim - k))
    return _normalise_node(x, weight, bias, w, b, xc, var, eps, lead, axes, "layer_norm")


register_differentiable("batch_norm", "layer_norm", strict=False)  # recorded branch
