"""Differentiable indexing: basic (ints, slices, None, ...), integer arrays and masks."""

from __future__ import annotations

import numpy as np

from ..backend import scatter_add
from ..errors import ShapeError
from ..tensor import Tensor, _make, as_tensor

_BASIC = (int, slice, type(None), type(Ellipsis), np.integer)


def _raw_index(index, xp):
    """Replace tensors and lists in an index with arrays of the tensor's namespace."""
    if isinstance(index, tuple):
        return tuple(_raw_index(i, xp) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def _is_basic(index) -> bool:
    if isinstance(index, tuple):
        return all(isinstance(i, _BASIC) and not isinstance(i, bool) for i in index)
    return isinstance(index, _BASIC) and not isinstance(index, bool)


def getitem(x, index) -> Tensor:
    """x[index]; repeated integer indices add up their gradients."""
    x = as_tensor(x)
    d = x.data
    xp = x._xp
    idx = _raw_index(index, xp)
    try:
        out = d[idx]
    except IndexError as exc:
        raise IndexError(f"getitem: index {index!r} does not fit shape {d.shape} ({exc})") from None
    except ValueError as exc:
        raise ShapeError(f"getitem: index {index!r} does not fit shape {d.shape} ({exc})") from None
    basic = _is_basic(idx)

    def vjp(g):
        full = xp.zeros(d.shape, dtype=g.dtype)
        if basic:
            full[idx] = g
        else:
            scatter_add(full, idx, g)
        return (full,)

    return _make(out, (x,), vjp, "getitem")
