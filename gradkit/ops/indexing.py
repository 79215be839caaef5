"""Differentiable indexing: basic (ints, slices, None, ...), integer arrays and masks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import RECORDED_NS, register_differentiable
from ..backend.devices import is_gpu_array, scatter_add, to_device
from ..errors import DeviceError, ShapeError
from ..tensor import Tensor, _make, as_tensor

if TYPE_CHECKING:
    from ..tensor_base import Index, TensorLike

_BASIC = (int, slice, type(None), type(Ellipsis), np.integer)


def _raw_index(index: Index, x: Tensor) -> Any:
    """Replace tensors and lists in an index with arrays of `x`'s namespace.

    On a GPU tensor, host index arrays (NumPy, lists, CPU tensors) are copied to its device
    once, here, as PyTorch allows CPU indices into CUDA tensors; a GPU index into a CPU
    tensor is refused (DeviceError naming both devices).
    """
    if isinstance(index, tuple):
        return tuple(_raw_index(i, x) for i in index)
    xp = x._xp
    if isinstance(index, Tensor):
        data = index._data
        if xp is np:
            if not isinstance(data, np.ndarray):
                raise DeviceError(f"getitem: a tensor on {x.device} indexed with a tensor on "
                                  f"{index.device}; move the index with .to('cpu')")
            return data
        return data if is_gpu_array(data) else to_device(data, x.device)
    if isinstance(index, list):
        return xp.asarray(index)
    if xp is not np and isinstance(index, np.ndarray):
        return to_device(index, x.device)
    return index


def _is_basic(index: Any) -> bool:
    if isinstance(index, tuple):
        return all(isinstance(i, _BASIC) and not isinstance(i, bool) for i in index)
    return isinstance(index, _BASIC) and not isinstance(index, bool)


def getitem(x: TensorLike, index: Index) -> Tensor:
    """x[index]; repeated integer indices add up their gradients."""
    x = as_tensor(x)
    d = x._data
    xp = x._xp
    idx = _raw_index(index, x)
    try:
        out = d[idx]
    except IndexError as exc:
        raise IndexError(f"getitem: index {index!r} does not fit shape {d.shape} ({exc})") from None
    except ValueError as exc:
        raise ShapeError(f"getitem: index {index!r} does not fit shape {d.shape} ({exc})") from None
    basic = _is_basic(idx)

    def vjp(g):
        if xp is RECORDED_NS[0]:  # recorded: the same scatter, as a gk op
            return (scatter(g, d.shape, idx),)
        full = xp.zeros(d.shape, dtype=g.dtype)
        if basic:
            full[idx] = g
        else:
            scatter_add(full, idx, g)
        return (full,)

    return _make(out, (x,), vjp, "getitem")


def scatter(values: TensorLike, shape: tuple[int, ...], index: Index) -> Tensor:
    """Zeros of `shape` with `values` added at `index` (repeated indices add up): the adjoint
    of `getitem`, so its gradient is `getitem` again (differentiable to any order)."""
    v = as_tensor(values)
    xp = v._xp
    idx = _raw_index(index, v)
    full = xp.zeros(tuple(shape), dtype=v.dtype)
    try:
        if _is_basic(idx):
            full[idx] = v._data
        else:
            scatter_add(full, idx, v._data)
    except (IndexError, ValueError) as exc:
        raise ShapeError(f"scatter: values of shape {v.shape} do not fit index {index!r} "
                         f"into shape {tuple(shape)} ({exc})") from None
    return _make(full, (v,), lambda g: (g[idx],), "scatter")


register_differentiable("getitem", "scatter")
