"""Neural-network maths: softmax family, one-hot, and the fused nodes training runs on
(linear = x @ W.T + b, softmax + cross-entropy, dropout)."""

from __future__ import annotations

import numpy as np

from ..backend import kernels as ck
from ..backend import random as gkrandom
from ..backend.deferred import check_later
from ..backend.devices import device_name, xp_of
from ..backend.kernels import row_index
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor, _make, as_tensor
from ._util import float_tensor, norm_axis, operands


def softmax(x, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis`, computed without overflow."""
    x = float_tensor(x, "softmax")
    d = x.data
    xp = x._xp
    axis = norm_axis(axis, d.ndim, "softmax")
    e = xp.exp(d - d.max(axis=axis, keepdims=True))
    p = e / e.sum(axis=axis, keepdims=True)

    def vjp(g):
        gp = g * p
        return (gp - p * gp.sum(axis=axis, keepdims=True),)

    return _make(p, (x,), vjp, "softmax")


def _log_softmax_array(xp, d, axis):
    if xp is np and d.shape[axis] == 2:  # two classes: one logaddexp, half the calls
        return d - np.logaddexp.reduce(d, axis=axis, keepdims=True)
    z = d - d.max(axis=axis, keepdims=True)
    return z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))


def log_softmax(x, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along `axis`, computed without overflow."""
    x = float_tensor(x, "log_softmax")
    xp = x._xp
    axis = norm_axis(axis, x.ndim, "log_softmax")
    out = _log_softmax_array(xp, x.data, axis)

    def vjp(g):
        return (g - xp.exp(out) * g.sum(axis=axis, keepdims=True),)

    return _make(out, (x,), vjp, "log_softmax")


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _labels(labels, num_classes: int, opname: str, check: bool = True):
    """Integer class labels as an array, checked to lie in [0, num_classes).

    Host labels are checked at once. Labels on a GPU are counted by a kernel and the error
    raised at the next read of a value (gradkit.deferred), so no batch waits for the GPU;
    `check=False` leaves the range to the caller (a fused kernel that counts them itself).
    """
    y = labels.data if isinstance(labels, Tensor) else labels
    y = np.asarray(y) if xp_of(y) is np else y
    if y.dtype.kind not in "iu":
        raise DTypeError(f"{opname}: class labels must be integers, got dtype {y.dtype}")
    if not check or not y.size:
        return y
    if isinstance(y, np.ndarray):
        # one pass: seen as unsigned, a negative label is huge, so max() catches both ends
        if int(y.view(_UNSIGNED[y.dtype.itemsize]).max()) < num_classes:
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


def one_hot(labels, num_classes: int) -> Tensor:
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


def _bias_tanh_(y, bias):
    if bias is not None:
        y += bias
    return xp_of(y).tanh(y, out=y)


# Activations that fuse into `linear`: `forward(y, bias)` adds the bias (None: none) and
# applies the activation in place on the node's own fresh x @ W.T, and the gradient through
# the activation needs only its output y (the same expressions as the unfused `relu` and
# `tanh` ops, so the numbers are the same).
FUSED_ACTIVATIONS = {
    "relu": (ck.bias_relu_, ck.relu_backward),
    "tanh": (_bias_tanh_, ck.tanh_backward),
}


def linear(x, weight, bias=None, activation: str | None = None) -> Tensor:
    """x @ weight.T + bias as one node (weight has shape (out_features, in_features)).

    `activation` ("relu" or "tanh") is applied inside the same node: the same numbers as
    `relu(linear(x, weight, bias))`, without a second node or a second array.
    """
    x, weight = operands(x, weight, "linear")
    xd, w = x.data, weight.data
    if w.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out, in), got shape {w.shape}")
    if xd.ndim == 0 or xd.shape[-1] != w.shape[1]:
        raise ShapeError(
            f"linear: input of shape {xd.shape} does not match in_features={w.shape[1]} "
            f"(its last axis must be {w.shape[1]})"
        )
    act_grad = None
    if activation is not None:
        if activation not in FUSED_ACTIVATIONS:
            raise ValueError(f"linear: activation must be one of "
                             f"{sorted(FUSED_ACTIVATIONS)} or None, got {activation!r}")
        act_forward, act_grad = FUSED_ACTIVATIONS[activation]
    x2 = xd.reshape(-1, w.shape[1]) if xd.ndim != 2 else xd
    out = x2 @ w.T  # a fresh array: the bias and the activation go in place
    parents = (x, weight)
    if bias is not None:
        weight, bias = operands(weight, bias, "linear")
        if bias.shape != (w.shape[0],):
            raise ShapeError(f"linear: bias must have shape ({w.shape[0]},), got {bias.shape}")
        parents = (x, weight, bias)
    if act_grad is not None:  # bias and activation in place (one kernel on a GPU for ReLU)
        act_forward(out, None if bias is None else bias.data)
    elif bias is not None:
        out += bias.data
    y2 = out
    if xd.ndim != 2:
        out = out.reshape(xd.shape[:-1] + (w.shape[0],))

    def vjp(g):
        g2 = g.reshape(-1, w.shape[0]) if g.ndim != 2 else g
        if act_grad is not None:
            g2 = act_grad(g2, y2)  # a new array: `g` itself is never written
        gx = None
        if x.requires_grad:
            gx = g2 @ w
            if xd.ndim != 2:
                gx = gx.reshape(xd.shape)
        gw = g2.T @ x2 if weight.requires_grad else None
        if len(parents) == 2:
            return gx, gw
        return gx, gw, (g2.sum(axis=0) if bias.requires_grad else None)

    return _make(out, parents, vjp, "linear" if activation is None else f"linear+{activation}")


def cross_entropy(logits, target, reduction: str = "mean", label_smoothing: float = 0.0):
    """Softmax + cross-entropy as one node. `target`: int labels (N,) or probabilities (N, C)."""
    logits = float_tensor(logits, "cross_entropy")
    z = logits.data
    if z.ndim not in (1, 2):
        raise ShapeError(f"cross_entropy: logits must be (N, C) or (C,), got shape {z.shape}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', "
                         f"got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], "
                         f"got {label_smoothing}")
    xp = logits._xp
    single = z.ndim == 1
    z2 = z[None] if single else z
    n, c = z2.shape
    t_tensor = None
    tdata = target.data if isinstance(target, Tensor) else target
    if (tdata.dtype if hasattr(tdata, "dtype") else np.asarray(tdata).dtype).kind in "iu":
        fused = (xp is not np and c <= ck.FUSED_XENT_MAX_CLASSES
                 and z.dtype in (np.float32, np.float64))
        on_host = xp_of(tdata) is np
        y = _labels(target, c, "cross_entropy", check=not fused or on_host)
        if type(y) is not type(z2):
            y = xp.asarray(y)
        if y.ndim != 1:
            y = y.reshape(-1)
        if y.shape[0] != n:
            raise ShapeError(f"cross_entropy: {n} rows of logits but {y.shape[0]} labels")
        q = None
        if fused:  # log-softmax, the picked losses and the label check in one kernel
            logp, losses, bad = ck.log_softmax_xent(z2, y, label_smoothing)
            if not on_host:
                check_later(bad, _label_error("cross_entropy", c, n))
        else:
            logp = _log_softmax_array(xp, z2, 1)
            losses = -logp[row_index(n) if xp is np else xp.arange(n), y]
            if label_smoothing:
                losses = ((1 - label_smoothing) * losses
                          - label_smoothing / c * logp.sum(axis=1))
    else:
        t_tensor = float_tensor(target, "cross_entropy")
        q = t_tensor.data.reshape(n, c) if single else t_tensor.data
        if q.shape != (n, c):
            if t_tensor.shape == z.shape[:-1]:  # one float per row: labels stored as floats
                raise DTypeError(
                    f"cross_entropy: targets of shape {t_tensor.shape} look like class labels "
                    f"but have dtype {t_tensor.dtype}; labels must be integers "
                    f"(y.astype('int64')), or pass probabilities of shape {z.shape}")
            raise ShapeError(f"cross_entropy: logits {z.shape} but probability targets "
                             f"{t_tensor.shape}")
        logp = _log_softmax_array(xp, z2, 1)
        if label_smoothing:
            q = (1 - label_smoothing) * q + label_smoothing / c
        losses = -(q * logp).sum(axis=1)
    if reduction == "none":
        out = losses[0] if single else losses
    else:  # sum / n: np.mean's numbers without its Python overhead
        out = losses.sum() / n if reduction == "mean" else losses.sum()

    def vjp(g):
        gi = g * (1.0 / n) if reduction == "mean" else g
        gi = gi if reduction != "none" else gi.reshape(-1, 1)
        if q is None:  # (softmax - onehot) * gi: one kernel on a GPU
            dz = ck.softmax_xent_grad(logp, y, gi, label_smoothing)
        else:
            dz = (xp.exp(logp) * q.sum(axis=1, keepdims=True) - q) * gi
        gz = dz[0] if single else dz
        if t_tensor is None:
            return (gz,)
        gt = None
        if t_tensor.requires_grad:
            gt = -logp * gi * (1 - label_smoothing)
            gt = gt[0] if single else gt
        return gz, gt

    parents = (logits,) if t_tensor is None else (logits, t_tensor)
    return _make(xp.asarray(out, dtype=z.dtype), parents, vjp, "cross_entropy")


def dropout(x, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (when training)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    d = x.data
    if p == 1.0:
        mask = x._xp.zeros(d.shape, dtype=d.dtype)
    else:
        rng = gkrandom.generator(x.device)
        keep = rng.random(d.shape, dtype=np.float32) >= p
        mask = keep.astype(d.dtype) * d.dtype.type(1.0 / (1.0 - p))
    return _make(d * mask, (x,), lambda g: (g * mask,), "dropout")
