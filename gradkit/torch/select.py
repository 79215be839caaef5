"""max/min (values or `(values, indices)`), amax/amin, argmax/argmin, sort, argsort, topk,
median, mode, kthvalue: PyTorch's value-selecting reductions.

The values along a `dim` are a `gather` of the input at the indices NumPy finds, so the
gradient goes to the selected element only (PyTorch's rule) and every order of gradient
works; `torch.max(x)` over all elements shares the gradient among tied maxima (PyTorch's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops as _ops
from ..autograd import register_differentiable
from ..tensor import Tensor as _Native
from ..tensor_base import TensorBase
from .common import dim_arg, keep_arg, one_dim, open_index, tensor_of
from .indexing import gather
from .return_types import kthvalue as _kthvalue_t
from .return_types import max as _max_t
from .return_types import median as _median_t
from .return_types import min as _min_t
from .return_types import mode as _mode_t
from .return_types import sort as _sort_t
from .return_types import topk as _topk_t
from .tensor import Tensor, from_array, named, retag

__all__ = ["max", "min", "amax", "amin", "argmax", "argmin", "sort", "argsort", "topk",
           "median", "mode", "kthvalue", "maximum", "minimum"]


def _pick(x: _Native, d: int, idx: Any, keepdim: bool, name: str) -> Tensor:
    """x's values at `idx` (x's number of axes, length 1 along `d`), squeezed unless
    `keepdim`, the node named `name`."""
    if keepdim:
        return named(_ops.getitem(x, open_index(idx, d, x._xp)), name)
    return named(_ops.getitem(x, _reduced_index(idx, d, x._xp)), name)


def _reduced_index(idx: Any, d: int, xp: Any) -> tuple[Any, ...]:
    """The advanced index that reads x at `idx` (length 1 along `d`) without that axis."""
    flat = idx.reshape(idx.shape[:d] + idx.shape[d + 1:])
    grids: list[Any] = []
    for axis, n in enumerate(idx.shape):
        if axis == d:
            grids.append(flat)
            continue
        shape = [1] * flat.ndim
        shape[axis if axis < d else axis - 1] = n
        grids.append(xp.arange(n).reshape(shape))
    return tuple(grids)


def _extreme(input: Any, dim: Any, keepdim: bool, which: str, out_type: Any) -> Any:
    x = tensor_of(input)
    if isinstance(dim, TensorBase):  # torch.max(a, b): the elementwise maximum
        return retag(getattr(_ops, "maximum" if which == "max" else "minimum")(x, dim))
    if dim is None:
        return named(getattr(_ops, which)(x), which)
    d = one_dim(dim, x.ndim, which)
    if x.ndim == 0:
        return out_type(retag(_ops.reshape(x, ())), from_array(x._xp.zeros((), np.int64)))
    if x.shape[d] == 0:
        raise IndexError(f"{which}(): Expected reduction dim {d} to have non-zero size")
    idx = getattr(x._xp, "arg" + which)(x._data, axis=d, keepdims=True)
    values = _pick(x, d, idx, keepdim, which + "_dim")
    indices = from_array(idx if keepdim else idx.squeeze(d))
    return out_type(values, indices)


def max(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
        keepdims: bool | None = None) -> Any:  # noqa: A001 - PyTorch's name
    """The largest value; with `dim`, `(values, indices)` along it; with a tensor, the
    elementwise maximum."""
    return _extreme(input, dim if dim is not None else axis, keep_arg(keepdim, keepdims),
                    "max", _max_t)


def min(input: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
        keepdims: bool | None = None) -> Any:  # noqa: A001 - PyTorch's name
    """The smallest value; with `dim`, `(values, indices)` along it; with a tensor, the
    elementwise minimum."""
    return _extreme(input, dim if dim is not None else axis, keep_arg(keepdim, keepdims),
                    "min", _min_t)


def maximum(input: Any, other: Any) -> Tensor:
    """The elementwise maximum (a tie sends half the gradient to each side, as PyTorch)."""
    return retag(_ops.maximum(input, other))


def minimum(input: Any, other: Any) -> Tensor:
    """The elementwise minimum."""
    return retag(_ops.minimum(input, other))


def amax(input: Any, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The largest values over `dim` (all axes when empty); ties share the gradient."""
    out = _ops.max(input, dim_arg(dim), keepdim)
    return named(out, "amax")


def amin(input: Any, dim: Any = (), keepdim: bool = False) -> Tensor:
    """The smallest values over `dim` (all axes when empty); ties share the gradient."""
    return named(_ops.min(input, dim_arg(dim), keepdim), "amin")


def _arg(input: Any, dim: Any, keepdim: bool, which: str) -> Tensor:
    x = tensor_of(input)
    if dim is None:
        out = getattr(x._xp, which)(x._data.reshape(-1))
        arr = x._xp.asarray(out, dtype=np.int64)
        return from_array(arr.reshape((1,) * x.ndim) if keepdim else arr)
    d = one_dim(dim, x.ndim, which)
    return from_array(getattr(x._xp, which)(x._data, axis=d, keepdims=keepdim)
                      .astype(np.int64, copy=False))


def argmax(input: Any, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """The index of the largest value (of the flattened tensor when `dim` is None)."""
    return _arg(input, dim if dim is not None else axis, keep_arg(keepdim, keepdims),
                "argmax")


def argmin(input: Any, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None, keepdims: bool | None = None) -> Tensor:
    """The index of the smallest value (of the flattened tensor when `dim` is None)."""
    return _arg(input, dim if dim is not None else axis, keep_arg(keepdim, keepdims),
                "argmin")


def _order(x: _Native, d: int, descending: bool) -> Any:
    """Stable sorting indices along `d` (descending keeps equal values in their order)."""
    xp = x._xp
    if not descending:
        return xp.argsort(x._data, axis=d, kind="stable")
    n = x.shape[d]
    flipped = xp.argsort(xp.flip(x._data, axis=d), axis=d, kind="stable")
    return (n - 1) - xp.flip(flipped, axis=d)


def sort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """`(values, indices)` sorted along `dim` (ascending unless `descending`)."""
    x = tensor_of(input)
    if x.ndim == 0:
        return _sort_t(retag(_ops.reshape(x, ())), from_array(x._xp.zeros((), np.int64)))
    d = one_dim(dim, x.ndim, "sort")
    idx = _order(x, d, descending)
    return _sort_t(named(gather(x, d, from_array(idx)), "sort"),
                   from_array(idx.astype(np.int64, copy=False)))


def argsort(input: Any, dim: int = -1, descending: bool = False,
            stable: bool = False) -> Tensor:
    """The indices that sort `input` along `dim`."""
    x = tensor_of(input)
    if x.ndim == 0:
        return from_array(x._xp.zeros((), np.int64))
    return from_array(_order(x, one_dim(dim, x.ndim, "argsort"), descending)
                      .astype(np.int64, copy=False))


def topk(input: Any, k: int, dim: int = -1, largest: bool = True,
         sorted: bool = True) -> Any:  # noqa: A002 - PyTorch's name
    """`(values, indices)` of the `k` largest (or smallest) elements along `dim`."""
    x = tensor_of(input)
    d = one_dim(dim, x.ndim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk(): selected index k={k} out of range for a dimension of "
                           f"size {n}")
    idx = _order(x, d, largest)
    idx = idx[(slice(None),) * d + (slice(0, k),)]
    return _topk_t(named(gather(x, d, from_array(idx)), "topk"),
                   from_array(idx.astype(np.int64, copy=False)))


def _kth_along(x: _Native, d: int, k: int, keepdim: bool, name: str, out_type: Any) -> Any:
    if not 1 <= k <= x.shape[d]:
        raise RuntimeError(f"{name}(): selected number k={k} out of range for dimension {d}")
    idx = _order(x, d, False)[(slice(None),) * d + (slice(k - 1, k),)]
    values = _pick(x, d, idx, keepdim, name if name != "median" else "median_dim")
    return out_type(values, from_array((idx if keepdim else idx.squeeze(d)).astype(np.int64)))


def median(input: Any, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median (a value of `input`); with `dim`, `(values, indices)` along it."""
    x = tensor_of(input)
    if dim is None:
        flat = _ops.reshape(x, -1)
        if flat.shape[0] == 0:
            return retag(_ops.mul(_ops.sum(flat), float("nan")))
        k = (flat.shape[0] + 1) // 2
        values = _kth_along(flat, 0, k, False, "median", _median_t).values
        return named(values, "median")
    d = one_dim(dim, x.ndim, "median")
    return _kth_along(x, d, (x.shape[d] + 1) // 2, keepdim, "median", _median_t)


def kthvalue(input: Any, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """`(values, indices)` of the k-th smallest element along `dim`."""
    x = tensor_of(input)
    return _kth_along(x, one_dim(dim, x.ndim, "kthvalue"), k, keepdim, "kthvalue",
                      _kthvalue_t)


def _mode_row(row: np.ndarray) -> int:
    """The index of `row`'s most frequent value (the smallest of tied ones), at its last
    occurrence (PyTorch's)."""
    values, counts = np.unique(row, return_counts=True)
    best = values[int(np.argmax(counts))]
    return int(np.flatnonzero(row == best)[-1])


def mode(input: Any, dim: int = -1, keepdim: bool = False) -> Any:
    """`(values, indices)` of the most frequent value along `dim` (not on the fast path:
    one NumPy pass per row)."""
    x = tensor_of(input)
    d = one_dim(dim, x.ndim, "mode")
    shape: tuple[int, ...] = tuple(x.shape) or (1,)
    host: Any = np.moveaxis(np.asarray(x.numpy()).reshape(shape), d, -1)
    found = np.array([_mode_row(r) for r in host.reshape(-1, host.shape[-1])], np.int64)
    idx = np.expand_dims(found.reshape(host.shape[:-1]), d) if x.ndim else found
    idx = x._xp.asarray(idx)
    return _mode_t(_pick(x, d, idx, keepdim, "mode"),
                   from_array(idx if keepdim or not x.ndim else idx.squeeze(d)))


register_differentiable("max_dim", "min_dim", "amax", "amin", "sort", "topk", "median",
                        "median_dim", "kthvalue", "mode")
