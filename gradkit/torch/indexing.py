"""gather, scatter, scatter_add, index_select, masked_fill, masked_select, where, nonzero:
PyTorch's indexing functions, built from gradkit's differentiable `getitem`, its adjoint
`scatter` and `where` (so every order of gradient flows through them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops as _ops
from ..autograd import register_differentiable
from ..ops.indexing import scatter as _scatter
from ..tensor import Tensor as _Native
from ..tensor_base import TensorBase
from .common import index_array, one_dim, open_index, tensor_of
from .tensor import Tensor, from_array, named, retag

__all__ = ["gather", "scatter", "scatter_add", "index_select", "masked_fill",
           "masked_select", "where", "nonzero", "argwhere", "take_along_dim"]


def _checked_index(x: _Native, dim: Any, index: Any, opname: str) -> tuple[int, Any]:
    d = one_dim(dim, x.ndim, opname)
    idx = index_array(index, x, opname)
    if idx.ndim != x.ndim:
        raise RuntimeError(f"{opname}(): Index tensor must have the same number of "
                           f"dimensions as input tensor ({idx.ndim} vs {x.ndim})")
    for axis, (n, m) in enumerate(zip(idx.shape, x.shape)):
        if axis != d and n > m:
            raise RuntimeError(f"{opname}(): Size does not match at dimension {axis}: index "
                               f"{tuple(idx.shape)} vs input {tuple(x.shape)}")
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= x.shape[d]):
        raise IndexError(f"{opname}(): index {int(idx.max())} is out of bounds for dimension "
                         f"{d} with size {x.shape[d]}")
    return d, idx


def gather(input: Any, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
    """Values of `input` along `dim` at `index` (`out[i][j] = input[i][index[i][j]]` for
    dim=1); the gradient is added back at those places."""
    x = tensor_of(input)
    d, idx = _checked_index(x, dim, index, "gather")
    return named(_ops.getitem(x, open_index(idx, d, x._xp)), "gather")


def take_along_dim(input: Any, indices: Any, dim: int | None = None) -> Tensor:
    """`gather` with `indices` broadcast against `input` (NumPy's take_along_axis)."""
    x = tensor_of(input)
    if dim is None:
        return gather(_ops.reshape(x, -1), 0, tensor_of(indices).reshape(-1))
    idx = index_array(indices, x, "take_along_dim")
    d = one_dim(dim, x.ndim, "take_along_dim")
    shape = list(np.broadcast_shapes(x.shape[:d] + (1,) + x.shape[d + 1:],
                                     idx.shape[:d] + (1,) + idx.shape[d + 1:]))
    xs, shape[d] = list(shape), idx.shape[d]
    xs[d] = x.shape[d]
    idx = x._xp.broadcast_to(idx, tuple(shape))
    return gather(_ops.broadcast_to(x, tuple(xs)), d, from_array(idx))


def _placed(x: _Native, d: int, idx: Any, src: Any, opname: str) -> tuple[Any, Any]:
    """(the places `index` names, `src` written there into zeros of x's shape)."""
    pos = open_index(idx, d, x._xp)
    s = tensor_of(src)
    if s.ndim != idx.ndim or any(n > m for n, m in zip(idx.shape, s.shape)):
        raise RuntimeError(f"{opname}(): src of shape {tuple(s.shape)} must be at least as "
                           f"large as index {tuple(idx.shape)} in every dimension")
    if s.shape != idx.shape:
        s = _ops.getitem(s, tuple(slice(0, n) for n in idx.shape))
    if s._data.dtype != x._data.dtype:
        s = _ops.astype(s, x._data.dtype)
    return pos, _scatter(s, x.shape, pos)


def scatter(input: Any, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """`input` with `src` (a tensor, or a number: `value`) written at `index` along `dim`
    (`out[i][index[i][j]] = src[i][j]` for dim=1); `reduce='add'|'multiply'` combines."""
    x = tensor_of(input)
    d, idx = _checked_index(x, dim, index, "scatter")
    if src is None:
        src = value
    if reduce not in (None, "add", "multiply"):
        raise ValueError(f"scatter(): reduce must be 'add' or 'multiply', got {reduce!r}")
    if not isinstance(src, TensorBase):
        src = from_array(x._xp.full(idx.shape, src, dtype=x._data.dtype))
        name = "scatter_value"
    else:
        name = "scatter_src"
    pos, placed = _placed(x, d, idx, src, "scatter")
    mask = x._xp.zeros(x.shape, dtype=bool)
    mask[pos] = True
    if reduce == "add":
        return named(_ops.add(x, placed), name)
    if reduce == "multiply":
        ones = _ops.where(mask, placed, 1.0) if x._data.dtype.kind == "f" else \
            _ops.where(mask, placed, 1)
        return named(_ops.mul(x, ones), name)
    return named(_ops.where(mask, placed, x), name)


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Tensor:
    """`input` with `src` added at `index` along `dim` (repeated indices add up)."""
    x = tensor_of(input)
    d, idx = _checked_index(x, dim, index, "scatter_add")
    _, placed = _placed(x, d, idx, src, "scatter_add")
    return named(_ops.add(x, placed), "scatter_add")


def index_select(input: Any, dim: int, index: Any) -> Tensor:
    """The slices of `input` along `dim` at the positions in the 1-D `index`."""
    x = tensor_of(input)
    d = one_dim(dim, x.ndim, "index_select")
    idx = index_array(index, x, "index_select")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    return named(_ops.getitem(x, (slice(None),) * d + (idx.reshape(-1),)), "index_select")


def _bool_mask(mask: Any, x: _Native, opname: str) -> Any:
    m = mask._data if isinstance(mask, TensorBase) else x._xp.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"{opname}: expected a bool mask, got {m.dtype}; compare to make "
                           f"one (x > 0)")
    return m


def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:
    """`input` with `value` where the (broadcast) bool `mask` is True."""
    x = tensor_of(input)
    m = _bool_mask(mask, x, "masked_fill")
    if isinstance(value, TensorBase):
        if value.ndim:
            raise RuntimeError("masked_fill only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s)")
        value = value if value._data.dtype == x._data.dtype else _ops.astype(value,
                                                                            x._data.dtype)
    elif x._data.dtype.kind in "iub":
        value = x._xp.asarray(value).astype(x._data.dtype)  # PyTorch casts the number
    return named(_ops.where(m, value, x), "masked_fill")


def masked_select(input: Any, mask: Any) -> Tensor:
    """The elements of `input` where `mask` (broadcast) is True, as a 1-D tensor."""
    x = tensor_of(input)
    m = _bool_mask(mask, x, "masked_select")
    shape = np.broadcast_shapes(x.shape, m.shape)
    if tuple(x.shape) != shape:
        x = _ops.broadcast_to(x, shape)
    return named(_ops.getitem(x, x._xp.broadcast_to(m, shape)), "masked_select")


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """`input` where `condition`, else `other` (broadcast); with the condition alone, the
    indices where it holds (`nonzero(as_tuple=True)`)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    return retag(_ops.where(condition, input, other))


def nonzero(input: Any, *, as_tuple: bool = False) -> Any:
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per
    axis with `as_tuple=True` (not differentiable)."""
    x = tensor_of(input)
    xp = x._xp
    found = xp.nonzero(x._data) if x.ndim else xp.nonzero(x._data.reshape(1))
    if as_tuple:
        return tuple(from_array(i.astype(np.int64)) for i in found)
    return from_array(xp.stack(found, axis=1).astype(np.int64) if found else
                      xp.zeros((0, 0), np.int64))


def argwhere(input: Any) -> Tensor:
    """`nonzero(input)`: the (n, ndim) indices of the non-zero elements."""
    return nonzero(input)


register_differentiable("gather", "scatter_src", "scatter_value", "scatter_add",
                        "index_select", "masked_fill", "masked_select", "select", "slice")
