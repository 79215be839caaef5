"""Argument handling shared by the dialect's functions: PyTorch's `dim=`/`keepdim=` (and
NumPy's `axis=`/`keepdims=` aliases, which PyTorch accepts too), `*size` tuples, operands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DeviceError
from ..tensor import Tensor as _Native
from ..tensor import as_tensor
from ..tensor_base import TensorBase

__all__ = ["dim_arg", "keep_arg", "one_dim", "size_arg", "tensor_of", "check_tensor",
           "open_index", "index_array"]

_INT = (int, np.integer)


def dim_arg(dim: Any, axis: Any = None) -> Any:
    """`dim` (or its alias `axis`) as None, an int or a tuple of ints."""
    if dim is None:
        dim = axis
    if isinstance(dim, (list, tuple)):
        return tuple(int(d) for d in dim) if len(dim) else None
    return None if dim is None else int(dim)


def keep_arg(keepdim: bool, keepdims: bool | None) -> bool:
    """`keepdim` (or its alias `keepdims`)."""
    return bool(keepdim if keepdims is None else keepdims)


def one_dim(dim: Any, ndim: int, opname: str) -> int:
    """One axis, checked and made non-negative (a 0-d tensor takes 0 and -1)."""
    if not isinstance(dim, _INT) or isinstance(dim, bool):
        raise TypeError(f"{opname}: dim must be an int, got {dim!r}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{opname}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return int(dim) % n


def size_arg(size: Sequence[Any], opname: str) -> tuple[int, ...]:
    """PyTorch's `*size`: ints, or one tuple/list/torch.Size of ints."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        dims = tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"{opname}: size must be ints or a tuple of ints, got "
                        f"{tuple(size)!r}") from None
    if any(s < 0 for s in dims):
        raise RuntimeError(f"{opname}: Trying to create tensor with negative dimension: "
                           f"{dims}")
    return dims


def tensor_of(x: Any) -> _Native:
    """`x` as a gradkit tensor (a tensor stays itself)."""
    return x if isinstance(x, TensorBase) else as_tensor(x)  # type: ignore[return-value]


def check_tensor(x: Any, opname: str) -> _Native:
    """`x` if it is a tensor, else a TypeError as PyTorch raises it."""
    if not isinstance(x, TensorBase):
        raise TypeError(f"{opname}(): argument 'input' must be Tensor, not "
                        f"{type(x).__name__}")
    return x  # type: ignore[return-value]


def open_index(index: Any, dim: int, xp: Any) -> tuple[Any, ...]:
    """The advanced index that reads `x[..., index[i, j, k], ...]` at axis `dim` for every
    position of `index` (an integer array with x's number of axes): torch.gather's."""
    if index.ndim == 0:
        return (index,)
    grids = []
    for axis, n in enumerate(index.shape):
        if axis == dim:
            grids.append(index)
            continue
        shape = [1] * index.ndim
        shape[axis] = n
        grids.append(xp.arange(n).reshape(shape))
    return tuple(grids)


def index_array(index: Any, x: TensorBase, opname: str) -> Any:
    """The integer array of an index tensor (or list), on `x`'s device."""
    arr = index._data if isinstance(index, TensorBase) else x._xp.asarray(index)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{opname}(): Expected dtype int64 for index, got {arr.dtype}")
    if type(arr) is not type(x._data):
        raise DeviceError(f"{opname}: the index is on another device than the tensor "
                         f"({x.device}); move it with .to()")
    return arr
