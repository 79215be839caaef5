"""Scaled dot-product attention as one fused node, with PyTorch's mask semantics.

    softmax(q @ k^T * scale + mask) @ v        q (..., L, E), k (..., S, E), v (..., S, Ev)

Forward keeps the attention probabilities P; the gradient rule is the classic one
(dV = P^T g, dS = P * (dP - rowsum(dP * P)), dQ = dS K scale, dK = dS^T Q scale), so no graph
of matmul/softmax/mask nodes is built. A row whose every key is masked gives zeros (PyTorch's
`scaled_dot_product_attention` does the same), not NaN. On recorded values (`create_graph=True`)
the rule differentiates the same computation written with gk ops (`_composed`) instead.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import register_differentiable
from ..backend import random as gkrandom
from ..backend.devices import to_device, xp_of
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor, _make, as_tensor
from . import recorded
from ._util import _check_devices
from .elementwise import exp
from .linalg import matmul
from .shape import swapaxes

__all__ = ["attention", "scaled_dot_product_attention", "additive_mask", "causal_mask"]


def causal_mask(xp, length: int, source: int):
    """The bool (L, S) mask of causal attention: query i sees keys 0..i (True = take part)."""
    return xp.tril(xp.ones((length, source), dtype=bool))


def additive_mask(mask, dtype, xp, true_means_keep: bool = True, opname: str = "attention"):
    """A mask as an array to add to the scores: a bool mask becomes 0 / -inf (True = take
    part, or with `true_means_keep=False` True = masked out, as nn.MultiheadAttention's
    masks); a float mask is used as it is (a Tensor stays a Tensor: it is differentiable)."""
    if mask is None:
        return None
    data = mask._data if isinstance(mask, Tensor) else mask
    data = xp.asarray(data) if xp_of(data) is np and xp is not np else data
    if not hasattr(data, "dtype"):
        data = xp.asarray(data)
    if data.dtype == bool:
        keep = data if true_means_keep else ~data
        return xp.where(keep, xp.zeros((), dtype=dtype), xp.asarray(-np.inf, dtype=dtype))
    if data.dtype.kind != "f":
        raise DTypeError(f"{opname}: a mask must be bool or floating, got dtype {data.dtype}")
    if isinstance(mask, Tensor):
        return mask if mask.dtype == dtype else mask.astype(dtype)
    return data.astype(dtype, copy=False)


def _operands(q, k, v, mask):
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.dtype.kind != "f":
            raise DTypeError(f"attention: {name} must be floating, got dtype {t.dtype}")
        if t.ndim < 2:
            raise ShapeError(f"attention: {name} needs at least 2 axes (..., length, "
                             f"features), got shape {t.shape}")
        if t.dtype != q.dtype:
            raise DTypeError(f"attention: query is {q.dtype} but {name} is {t.dtype}")
        _check_devices(q, t, "attention")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"attention: query {q.shape}, key {k.shape} and value {v.shape} do "
                         "not fit (query and key need the same last axis, key and value the "
                         "same length)")
    m = mask if isinstance(mask, Tensor) else None
    return q, k, v, m


def _softmax_rows_(s):
    """Softmax over the last axis in place; rows that are all -inf become zeros."""
    xp = xp_of(s)
    mx = s.max(axis=-1, keepdims=True)
    mx[~xp.isfinite(mx)] = 0
    s -= mx
    xp.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    total[total == 0] = 1
    s /= total


def attention(q, k, v, mask=None, dropout_p: float = 0.0, scale: float | None = None):
    """The fused node: softmax(q @ k^T * scale + mask) @ v, dropout on the probabilities.

    `mask` is additive (an array or a Tensor broadcastable to (..., L, S); a Tensor that
    requires grad gets its gradient). `scale` defaults to 1 / sqrt(E).
    """
    q, k, v, mt = _operands(q, k, v, mask)
    xp = q._xp
    sc = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    s = q._data @ xp.swapaxes(k._data, -1, -2)
    s *= sc
    if mask is not None:
        m = mt._data if mt is not None else mask
        if np.broadcast_shapes(s.shape, m.shape) == s.shape:
            s += m
        else:  # the mask has batch axes the scores lack
            s = s + m
    with np.errstate(invalid="ignore"):
        _softmax_rows_(s)
    p = s
    keep = None
    if dropout_p > 0:
        if dropout_p >= 1:
            keep = xp.zeros(p.shape, dtype=p.dtype)
        else:
            rng = gkrandom.generator(q.device)
            keep = (rng.random(p.shape, dtype=np.float32) >= dropout_p).astype(p.dtype)
            keep *= p.dtype.type(1.0 / (1.0 - dropout_p))
        p = p * keep
    out = p @ v._data
    parents = (q, k, v) if mt is None else (q, k, v, mt)
    const = mask if mt is None else None  # an additive mask array (or None)

    def vjp(g):
        if xp is recorded:  # differentiate the composition (the dropout mask a constant)
            return recorded.vjp_of(lambda *ts: _composed(*ts, mask=const, keep=keep, sc=sc),
                                   parents, g)
        return _attention_grads(xp, g, q._data, k._data, v._data, s, p, keep, sc,
                                [t.requires_grad for t in parents])

    return _make(out, parents, vjp, "attention")


register_differentiable("attention", strict=False)


def _composed(q, k, v, mt=None, mask=None, keep=None, sc: float = 1.0) -> Tensor:
    """`attention` with simple gk ops (what its rule differentiates on recorded values):
    softmax(q @ k^T * sc + mask) * keep @ v, rows whose keys are all masked giving zeros.
    Arrays enter as constants in their own dtype (`Tensor._wrap`, never rounded)."""
    const = Tensor._wrap
    s = matmul(q, swapaxes(k, -1, -2)) * sc
    if mt is not None:
        s = s + mt
    elif mask is not None:
        s = s + const(mask)
    xp = xp_of(s._data)
    top = s._data.max(axis=-1, keepdims=True)
    e = exp(s - const(xp.where(xp.isfinite(top), top, 0)))  # the shift is a constant
    total = e.sum(axis=-1, keepdims=True)
    p = e / (total + const((total._data == 0).astype(total.dtype)))  # all masked: 0 / 1
    if keep is not None:
        p = p * const(keep)
    return matmul(p, v)


def _attention_grads(xp, g, q, k, v, probs, dropped, keep, sc: float, need: list) -> tuple:
    """(dq, dk, dv[, dmask]) of `attention` (None where not needed)."""
    dv = xp.swapaxes(dropped, -1, -2) @ g if need[2] else None
    ds = g @ xp.swapaxes(v, -1, -2)
    if keep is not None:
        ds *= keep
    ds *= probs
    ds -= probs * ds.sum(axis=-1, keepdims=True)  # d(scores) = P * (dP - rowsum(dP * P))
    dmask = ds.copy() if len(need) > 3 and need[3] else None
    ds *= sc
    dq = ds @ k if need[0] else None
    dk = xp.swapaxes(ds, -1, -2) @ q if need[1] else None
    return (dq, dk, dv) if len(need) == 3 else (dq, dk, dv, dmask)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """PyTorch's `F.scaled_dot_product_attention`: softmax(Q K^T * scale + mask) V.

    `attn_mask`: bool (True = this query may attend to this key) or float (added to the
    scores), broadcastable to (..., L, S). `is_causal=True` masks the future (query i sees
    keys 0..i; not together with attn_mask). `scale` defaults to 1 / sqrt(E). Dropout with
    probability `dropout_p` applies whenever it is > 0 (pass 0.0 in evaluation, as in
    PyTorch). Rows whose keys are all masked give zeros.
    """
    q = as_tensor(query)
    xp = q._xp
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: pass attn_mask or is_causal=True, "
                             "not both")
        attn_mask = causal_mask(xp, q.shape[-2], as_tensor(key).shape[-2])
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got "
                         f"{dropout_p}")
    mask = additive_mask(attn_mask, q.dtype, xp, True, "scaled_dot_product_attention")
    if mask is not None and not isinstance(mask, Tensor) and xp_of(mask) is not xp:
        mask = to_device(mask, q.device)
    return attention(q, key, value, mask, dropout_p, scale)
