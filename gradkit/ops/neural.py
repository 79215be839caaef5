"""Neural-network maths: softmax family, one-hot, and the fused nodes training runs on
(linear = x @ W.T + b, softmax + cross-entropy, dropout).

The fused rules work on raw arrays; under create_graph they take a recorded branch (`xp is
recorded`, or a Tensor `g` where the forward has no `xp` at hand) that writes the same
gradient with gk ops, so it is differentiable again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..autograd import register_differentiable
from ..backend import gemm
from ..backend import kernels as ck
from ..backend import random as gkrandom
from ..backend.deferred import check_later
from ..backend.devices import device_name, xp_of
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor, _make, as_tensor
from . import recorded
from ._util import float_tensor, norm_axis, operands
from .autocast import high, low

if TYPE_CHECKING:
    from ..tensor_base import TensorLike


def softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis`, computed without overflow."""
    x = high(float_tensor(x, "softmax"))  # autocast: float32
    d = x._data
    xp = x._xp
    axis = norm_axis(axis, d.ndim, "softmax")
    e = xp.exp(d - d.max(axis=axis, keepdims=True))
    p = e / e.sum(axis=axis, keepdims=True)

    def vjp(g):
        gp = g * p
        return (gp - p * gp.sum(axis=axis, keepdims=True),)

    return _make(p, (x,), vjp, "softmax")


def log_softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along `axis`, computed without overflow."""
    x = high(float_tensor(x, "log_softmax"))  # autocast: float32
    xp = x._xp
    axis = norm_axis(axis, x.ndim, "log_softmax")
    out = ck.log_softmax(x._data, axis)

    def vjp(g):
        return (g - xp.exp(out) * g.sum(axis=axis, keepdims=True),)

    return _make(out, (x,), vjp, "log_softmax")


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _labels(labels, num_classes: int, opname: str, check: bool = True):
    """Integer class labels as an array, checked to lie in [0, num_classes).

    Host labels are checked at once. Labels on a GPU are counted by a kernel and the error
    raised at the next read of a value (gradkit.deferred), so no batch waits for the GPU;
    `check=False` leaves the range to the caller (cross_entropy, whose
    `kernels.log_softmax_xent` counts them in the same pass).
    """
    y = labels._data if isinstance(labels, Tensor) else labels
    y = np.asarray(y) if xp_of(y) is np else y
    if y.dtype.kind not in "iu":
        raise DTypeError(f"{opname}: class labels must be integers, got dtype {y.dtype}")
    if not check or not y.size:
        return y
    if isinstance(y, np.ndarray):
        # one pass: seen as unsigned, a negative label is huge, so max() catches both ends
        if y.view(_UNSIGNED[y.dtype.itemsize]).max() < num_classes:  # a bool (gk.compile)
            return y
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f"{opname}: labels must lie in [0, {num_classes}), got values from {lo} to {hi}"
            )
    else:
        check_later(ck.count_outside_labels(y, num_classes),
                    _label_error(opname, num_classes, y.size))
    return y


def _label_error(opname: str, num_classes: int, size: int):
    """The deferred error for labels found outside [0, num_classes) on a GPU."""
    return lambda count: ValueError(
        f"{opname}: labels must lie in [0, {num_classes}), but {count} of {size} did not "
        "(checked on the GPU without waiting for it, so reported at the next value read "
        "back; the loss of those rows is NaN or wrong)")


def one_hot(labels: TensorLike, num_classes: int) -> Tensor:
    """float32 one-hot rows for integer labels (a new last axis of length num_classes)."""
    if not isinstance(num_classes, (int, np.integer)) or num_classes <= 0:
        raise ValueError(f"one_hot: num_classes must be a positive int, got {num_classes!r}")
    device = labels.device if isinstance(labels, Tensor) else None
    y = _labels(labels, int(num_classes), "one_hot")
    xp = labels._xp if isinstance(labels, Tensor) else np
    y = xp.asarray(y)
    out = xp.zeros(y.shape + (int(num_classes),), dtype=np.float32)
    flat = y.reshape(-1)
    out.reshape(-1, int(num_classes))[xp.arange(flat.size), flat] = 1.0
    t = Tensor._wrap(out)
    return t if device is None or device == device_name(out) else t.to(device)


# Activations that fuse into `linear`: `forward(y, bias)` adds the bias (None: none) and
# applies the activation in place on the node's own fresh x @ W.T, and the gradient through
# the activation needs only its output y (the same expressions as the unfused `relu` and
# `tanh` ops, so the numbers are the same).
FUSED_ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "relu": (ck.bias_relu_, ck.relu_backward),
    "tanh": (ck.bias_tanh_, ck.tanh_backward),
}


def _fused_activation(activation: str | None) -> tuple:
    """(forward, backward) of a fused activation's kernels ((None, None) for none)."""
    if activation is None:
        return None, None
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"linear: activation must be one of "
                         f"{sorted(FUSED_ACTIVATIONS)} or None, got {activation!r}")
    return FUSED_ACTIVATIONS[activation]


def linear(x: TensorLike, weight: TensorLike, bias: TensorLike | None = None,
           activation: str | None = None) -> Tensor:
    """x @ weight.T + bias as one node (weight has shape (out_features, in_features)).

    `activation` ("relu" or "tanh") is applied inside the same node: the same numbers as
    `relu(linear(x, weight, bias))`, without a second node or a second array.
    """
    x, weight = low(*operands(x, weight, "linear"))  # autocast: float16/bfloat16 in a block
    xd, w = x._data, weight._data
    if w.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out, in), got shape {w.shape}")
    if xd.ndim == 0 or xd.shape[-1] != w.shape[1]:
        raise ShapeError(
            f"linear: input of shape {xd.shape} does not match in_features={w.shape[1]} "
            f"(its last axis must be {w.shape[1]})"
        )
    act_forward, act_grad = _fused_activation(activation)
    x2 = xd.reshape(-1, w.shape[1]) if xd.ndim != 2 else xd
    out = gemm.matmul(x2, w.T)  # a fresh array: the bias and the activation go in place
    parents: tuple[Tensor, ...] = (x, weight)
    if bias is not None:
        weight, bias = low(*operands(weight, bias, "linear"))
        if bias.shape != (w.shape[0],):
            raise ShapeError(f"linear: bias must have shape ({w.shape[0]},), got {bias.shape}")
        parents = (x, weight, bias)
    if act_forward is not None:  # bias and activation in place (one kernel on a GPU for ReLU)
        act_forward(out, None if bias is None else bias._data)
    elif bias is not None:
        out += bias._data
    y2 = out
    if xd.ndim != 2:
        out = out.reshape(xd.shape[:-1] + (w.shape[0],))

    def vjp(g):
        if isinstance(g, Tensor):  # a recorded pass (create_graph): the gradient as gk ops
            return _linear_recorded(g, parents, out, activation)
        g2 = g.reshape(-1, w.shape[0]) if g.ndim != 2 else g
        if act_grad is not None:
            g2 = act_grad(g2, y2)  # a new array: `g` itself is never written
        gx = None
        if x.requires_grad:
            gx = gemm.matmul(g2, w)
            if xd.ndim != 2:
                gx = gx.reshape(xd.shape)
        gw = gemm.matmul(g2.T, x2) if weight.requires_grad else None
        if len(parents) == 2:
            return gx, gw
        return gx, gw, (g2.sum(axis=0) if parents[2].requires_grad else None)

    return _make(out, parents, vjp, "linear" if activation is None else f"linear+{activation}")


# The gradient through each fused activation from its output y, with gk ops (recorded).
_RECORDED_ACTIVATION_GRADS: dict[str, Callable] = {
    "relu": lambda g, y: g * (y > 0),
    "tanh": lambda g, y: g * (1 - y * y),
}


def _linear_recorded(g: Tensor, parents: tuple, y: Tensor, activation: str | None) -> tuple:
    """linear's gradient as recorded gk ops: `parents` (x, weight[, bias]), `y` its result."""
    x, weight = parents[0], parents[1]
    n_out, n_in = weight.shape
    g2 = g.reshape(-1, n_out)
    if activation is not None:
        g2 = _RECORDED_ACTIVATION_GRADS[activation](g2, y.reshape(-1, n_out))
    gx = (g2 @ weight).reshape(x.shape) if x.requires_grad else None
    gw = g2.T @ x.reshape(-1, n_in) if weight.requires_grad else None
    if len(parents) == 2:
        return gx, gw
    return gx, gw, (g2.sum(axis=0) if parents[2].requires_grad else None)


def cross_entropy(logits: TensorLike, target: TensorLike, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax + cross-entropy as one node. `target`: int labels (N,) or probabilities (N, C)."""
    logits = high(float_tensor(logits, "cross_entropy"))  # autocast: float32
    z = logits._data
    if z.ndim not in (1, 2):
        raise ShapeError(f"cross_entropy: logits must be (N, C) or (C,), got shape {z.shape}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', "
                         f"got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], "
                         f"got {label_smoothing}")
    tdata = target._data if isinstance(target, Tensor) else target
    if (tdata.dtype if hasattr(tdata, "dtype") else np.asarray(tdata).dtype).kind in "iu":
        return _xent_labels(logits, target, reduction, label_smoothing)
    return _xent_probabilities(logits, target, reduction, label_smoothing)


def _xent_labels(logits: Tensor, target, reduction: str, ls: float) -> Tensor:
    """cross_entropy against int labels: the fused log-softmax + pick, (softmax - onehot) back."""
    z, xp = logits._data, logits._xp
    z2 = z[None] if z.ndim == 1 else z
    n, c = z2.shape
    on_host = xp_of(target._data if isinstance(target, Tensor) else target) is np
    y = _labels(target, c, "cross_entropy", check=on_host)  # GPU labels: counted below
    if type(y) is not type(z2):
        y = xp.asarray(y)
    if y.ndim != 1:
        y = y.reshape(-1)
    if y.shape[0] != n:
        raise ShapeError(f"cross_entropy: {n} rows of logits but {y.shape[0]} labels")
    logp, losses, bad = ck.log_softmax_xent(z2, y, ls, count_bad=not on_host)
    if not on_host:  # counted on the device, raised at the next read (no stall)
        check_later(bad, _label_error("cross_entropy", c, n))

    def vjp(g):
        if xp is recorded:  # create_graph: (softmax - smoothed one-hot) * g, with gk ops
            return (_xent_labels_recorded(logits, y, g, reduction, ls),)
        dz = ck.softmax_xent_grad(logp, y, _row_grads(g, reduction, n), ls)
        return (dz[0] if z.ndim == 1 else dz,)

    return _xent_node(logits, losses, reduction, (logits,), vjp)


def _xent_probabilities(logits: Tensor, target, reduction: str, ls: float) -> Tensor:
    """cross_entropy against class probabilities (N, C) (or (C,) for (C,) logits)."""
    z, xp = logits._data, logits._xp
    single = z.ndim == 1
    z2 = z[None] if single else z
    n, c = z2.shape
    t = float_tensor(target, "cross_entropy")
    q = t._data.reshape(n, c) if single else t._data
    if q.shape != (n, c):
        if t.shape == z.shape[:-1]:  # one float per row: labels stored as floats
            raise DTypeError(
                f"cross_entropy: targets of shape {t.shape} look like class labels "
                f"but have dtype {t.dtype}; labels must be integers "
                f"(y.astype('int64')), or pass probabilities of shape {z.shape}")
        raise ShapeError(f"cross_entropy: logits {z.shape} but probability targets {t.shape}")
    logp = ck.log_softmax(z2, 1)
    if ls:
        q = (1 - ls) * q + ls / c
    losses = -(q * logp).sum(axis=1)

    def vjp(g):
        if xp is recorded:  # create_graph: the same rule with gk ops
            return _xent_probabilities_recorded(logits, t, g, reduction, ls)
        gi = _row_grads(g, reduction, n)
        dz = (xp.exp(logp) * q.sum(axis=1, keepdims=True) - q) * gi
        gt = -logp * gi * (1 - ls) if t.requires_grad else None
        if single:
            return dz[0], (None if gt is None else gt[0])
        return dz, gt

    return _xent_node(logits, losses, reduction, (logits, t), vjp)


def _xent_labels_recorded(logits: Tensor, y, g: Tensor, reduction: str, ls: float) -> Tensor:
    """cross_entropy's gradient for int labels `y` (N,) as recorded gk ops."""
    c = logits.shape[-1]
    z2 = logits.reshape(-1, c)
    n = z2.shape[0]
    xp = logits._xp  # the array namespace, for the constant targets
    q = xp.zeros((n, c), dtype=logits.dtype)
    q[ck.row_index(n, xp), y] = 1.0 - ls
    if ls:
        q += ls / c
    dz = (softmax(z2, axis=1) - Tensor._wrap(q)) * _row_grads(g, reduction, n)
    return dz.reshape(logits.shape)


def _xent_probabilities_recorded(logits: Tensor, t: Tensor, g: Tensor, reduction: str,
                                 ls: float) -> tuple:
    """cross_entropy's gradient for probability targets `t` as recorded gk ops."""
    c = logits.shape[-1]
    z2 = logits.reshape(-1, c)
    n = z2.shape[0]
    q = t.reshape(n, c)
    if ls:
        q = (1 - ls) * q + ls / c
    gi = _row_grads(g, reduction, n)
    dz = (softmax(z2, axis=1) * q.sum(axis=1, keepdims=True) - q) * gi
    gt = (-log_softmax(z2, axis=1) * gi * (1 - ls)).reshape(t.shape) if t.requires_grad else None
    return dz.reshape(logits.shape), gt


def _row_grads(g, reduction: str, n: int):
    """The upstream gradient of each row's loss: 0-d for 'mean'/'sum', an (N, 1) column for
    'none'."""
    if reduction == "mean":
        return g * (1.0 / n)
    return g.reshape(-1, 1) if reduction == "none" else g


def _xent_node(logits: Tensor, losses, reduction: str, parents: tuple, vjp) -> Tensor:
    """Reduce the per-row losses and record the cross_entropy node."""
    z = logits._data
    if reduction == "none":
        out = losses[0] if z.ndim == 1 else losses
    else:  # sum / n: np.mean's numbers without its Python overhead
        out = losses.sum() / losses.shape[0] if reduction == "mean" else losses.sum()
    return _make(logits._xp.asarray(out, dtype=z.dtype), parents, vjp, "cross_entropy")


def dropout(x: TensorLike, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (when training)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    d = x._data
    if p == 1.0:
        mask = x._xp.zeros(d.shape, dtype=d.dtype)
    else:
        rng = gkrandom.generator(x.device)
        keep = rng.random(d.shape, dtype=np.float32) >= p
        mask = keep.astype(d.dtype) * d.dtype.type(1.0 / (1.0 - p))

    def vjp(g):  # a recorded pass: the mask a constant of its own dtype (Tensor(m) is float32)
        return (g * (Tensor._wrap(mask) if isinstance(g, Tensor) else mask),)

    return _make(d * mask, (x,), vjp, "dropout")


register_differentiable("softmax", "log_softmax")
# fused rules with a recorded branch; dropout's mask is a constant
register_differentiable("linear", *(f"linear+{a}" for a in FUSED_ACTIVATIONS), "cross_entropy",
                        "dropout", strict=False)
