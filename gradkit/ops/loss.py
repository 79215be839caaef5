"""Fused loss nodes on raw arrays: nll_loss and the two binary cross-entropies.

(Softmax + cross-entropy is `cross_entropy` in ops/neural.py.) Each takes
`reduction="mean" | "sum" | "none"` and has a one-line gradient rule, which runs on
recorded values too (create_graph): nll_loss and binary_cross_entropy through a recorded
branch (`xp is recorded`) where their raw-array rule keeps arrays made in the forward pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..autograd import register_differentiable
from ..backend.deferred import check_later
from ..backend.devices import xp_of
from ..backend.kernels import count_outside_unit, row_index
from ..errors import ShapeError
from ..tensor import Tensor, _make
from . import recorded
from ._util import float_tensor, operands
from .autocast import high
from .neural import _labels

if TYPE_CHECKING:
    from ..tensor_base import TensorLike

_REDUCTIONS = ("mean", "sum", "none")
_BCE_EPS = 1e-12  # PyTorch's floor for p * (1 - p) in the BCE gradient


def check_reduction(reduction: str, opname: str) -> str:
    """`reduction` itself, or a ValueError naming `opname`."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{opname}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _reduce(xp, losses, reduction: str, dtype):
    if reduction == "mean":
        return xp.asarray(losses.mean(), dtype=dtype)
    if reduction == "sum":
        return xp.asarray(losses.sum(), dtype=dtype)
    return losses


def _upstream(g, reduction: str, size: int):
    """The gradient reaching each element's loss from the reduced output."""
    if reduction == "mean":
        return g * (1.0 / max(size, 1))
    return g


def _pair(input, target, opname: str) -> tuple[Tensor, Tensor]:
    """Floating input and target tensors of the same shape (never broadcast)."""
    x = high(float_tensor(input, opname))  # autocast: float32
    t = high(float_tensor(target, opname))
    x, t = operands(x, t, opname)
    if t.dtype != x.dtype:
        t = t.astype(x.dtype)
    if x.shape != t.shape:
        raise ShapeError(
            f"{opname}: input of shape {x.shape} and target of shape {t.shape} must have the "
            f"same shape"
        )
    return x, t


def nll_loss(log_probs: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """-log_probs[i, target[i]] for (N, C) log-probabilities and int labels (N,) (or (C,), ())."""
    check_reduction(reduction, "nll_loss")
    x = high(float_tensor(log_probs, "nll_loss"))  # autocast: float32
    d, xp = x._data, x._xp
    if d.ndim not in (1, 2):
        raise ShapeError(f"nll_loss: input must be (N, C) or (C,), got shape {d.shape}")
    single = d.ndim == 1
    d2 = d[None] if single else d
    n, c = d2.shape
    y = xp.asarray(_labels(target, c, "nll_loss")).reshape(-1)
    if y.shape[0] != n:
        raise ShapeError(f"nll_loss: {n} rows of input but {y.shape[0]} labels")
    rows = row_index(n, xp)
    losses = -d2[rows, y]
    out = _reduce(xp, losses[0] if single else losses, reduction, d.dtype)

    def vjp(g):
        if xp is recorded:  # create_graph: -one_hot(y) * g, the one-hot a constant
            return (_nll_recorded(x, y, _upstream(g, reduction, n), n, c),)
        gi = _upstream(g, reduction, n).reshape(-1)
        full = xp.zeros(d2.shape, dtype=d.dtype)
        full[rows, y] = -gi
        return (full[0] if single else full,)

    return _make(out, (x,), vjp, "nll_loss")


def _nll_recorded(x: Tensor, y, gi: Tensor, n: int, c: int) -> Tensor:
    """nll_loss's gradient as a recorded product: -one_hot(y) times each row's `gi`."""
    xp = x._xp  # the array namespace, for the constant one-hot
    hot = xp.zeros((n, c), dtype=x.dtype)
    hot[row_index(n, xp), y] = -1.0
    hot = Tensor._wrap(hot)  # a constant of x's dtype (Tensor(hot) would be float32)
    return (gi.reshape(-1, 1) * hot if gi.ndim else gi * hot).reshape(x.shape)


_LOGITS_HINT = "for logits use binary_cross_entropy_with_logits (BCEWithLogitsLoss)"


def _check_probabilities(pd) -> None:
    """Refuse values outside [0, 1] (and NaN): at once on the CPU, deferred on a GPU."""
    if not pd.size:
        return
    if xp_of(pd) is not np:  # counted on the device, raised at the next read (no stall)
        size = pd.size
        check_later(count_outside_unit(pd), lambda count: ValueError(
            f"binary_cross_entropy: input must hold probabilities in [0, 1], but {count} of "
            f"{size} values did not (checked on the GPU without waiting for it, so reported "
            f"at the next value read back); {_LOGITS_HINT}"))
        return
    if bool(((pd >= 0) & (pd <= 1)).all()):  # also refuses NaN; one bool for gk.compile
        return
    lo, hi = float(pd.min()), float(pd.max())
    raise ValueError(
        f"binary_cross_entropy: input must hold probabilities in [0, 1], got values from "
        f"{lo:.4g} to {hi:.4g}; {_LOGITS_HINT}"
    )


def _clamped_logs(xp, pd):
    """log(p) and log(1 - p), each clamped to >= -100 (PyTorch's floor)."""
    with np.errstate(divide="ignore"):
        return xp.maximum(xp.log(pd), -100.0), xp.maximum(xp.log1p(-pd), -100.0)


def binary_cross_entropy(input: TensorLike, target: TensorLike,
                         reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p, each log clamped to >= -100."""
    check_reduction(reduction, "binary_cross_entropy")
    p, y = _pair(input, target, "binary_cross_entropy")
    pd, yd, xp = p._data, y._data, p._xp
    _check_probabilities(pd)
    log_p, log_q = _clamped_logs(xp, pd)
    losses = -(yd * log_p + (1 - yd) * log_q)
    out = _reduce(xp, losses, reduction, pd.dtype)

    def vjp(g):  # on recorded values pd, yd are p, y and the clamped logs are recomputed
        lp, lq = (log_p, log_q) if xp is not recorded else _clamped_logs(xp, pd)
        gi = _upstream(g, reduction, pd.size)
        gp = gi * (pd - yd) / xp.maximum(pd * (1 - pd), _BCE_EPS) if p.requires_grad else None
        gy = gi * (lq - lp) if y.requires_grad else None
        return gp, gy

    return _make(out, (p, y), vjp, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: TensorLike, target: TensorLike,
                                     reduction: str = "mean") -> Tensor:
    """Sigmoid + binary cross-entropy in one stable node: max(z, 0) - z y + log1p(exp(-|z|))."""
    check_reduction(reduction, "binary_cross_entropy_with_logits")
    z, y = _pair(input, target, "binary_cross_entropy_with_logits")
    zd, yd, xp = z._data, y._data, z._xp
    losses = xp.maximum(zd, 0) - zd * yd + xp.log1p(xp.exp(-xp.abs(zd)))
    out = _reduce(xp, losses, reduction, zd.dtype)

    def vjp(g):
        gi = _upstream(g, reduction, zd.size)
        gz = gi * (0.5 * xp.tanh(0.5 * zd) + 0.5 - yd) if z.requires_grad else None
        return gz, (-gi * zd if y.requires_grad else None)

    return _make(out, (z, y), vjp, "binary_cross_entropy_with_logits")


register_differentiable("binary_cross_entropy_with_logits")
register_differentiable("nll_loss", "binary_cross_entropy", strict=False)  # recorded branches
