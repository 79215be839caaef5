"""view/reshape, permute, transpose(d0, d1), t, flatten(start_dim, end_dim), unsqueeze,
squeeze(dim), expand, repeat (= tile), repeat_interleave, flip, roll, narrow, chunk, split
(sizes or one size), unbind, cat/stack, movedim: PyTorch's shape functions over gradkit's
differentiable reshape/transpose/getitem/broadcast ops."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops as _ops
from ..autograd import register_differentiable
from ..tensor_base import TensorBase
from .common import index_array, one_dim, tensor_of
from .dtypes import to_numpy_dtype
from .tensor import Tensor, from_array, named, retag

__all__ = ["view", "reshape", "permute", "transpose", "t", "flatten", "unflatten",
           "unsqueeze", "squeeze", "expand", "expand_as", "repeat", "tile",
           "repeat_interleave", "flip", "roll", "narrow", "chunk", "split", "unbind", "cat",
           "stack", "movedim"]


def _shape_of(shape: Sequence[Any]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(map(int, shape))


def reshape(input: Any, *shape: Any) -> Tensor:
    """The same elements in `shape` (one entry may be -1); a view when possible."""
    return retag(_ops.reshape_packed(input, _shape_of(shape)))


def view(input: Any, *shape: Any) -> Tensor:
    """`reshape` that never copies: a tensor whose layout would need a copy (a transpose)
    raises, as in PyTorch; `view(dtype)` reinterprets the bytes (not differentiable)."""
    x = tensor_of(input)
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
        return from_array(x._data.view(to_numpy_dtype(shape[0])))
    out = _ops.reshape_packed(x, _shape_of(shape))
    copied = isinstance(x._data, np.ndarray) and not x._data.flags.c_contiguous and (
        out._data.base is None or not np.may_share_memory(out._data, x._data))
    if copied:
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (at least one "
            f"dimension spans across two contiguous subspaces) for shape {tuple(x.shape)} -> "
            f"{_shape_of(shape)}. Use .reshape(...) instead.")
    return retag(out)


def view_as(input: Any, other: Any) -> Tensor:
    """`view` to `other`'s shape."""
    return view(input, tuple(other.shape))


def reshape_as(input: Any, other: Any) -> Tensor:
    """`reshape` to `other`'s shape."""
    return reshape(input, tuple(other.shape))


def permute(input: Any, *dims: Any) -> Tensor:
    """The axes in the order `dims` (ints, or one tuple)."""
    x = tensor_of(input)
    order = _shape_of(dims)
    if sorted(o % max(x.ndim, 1) for o in order) != list(range(x.ndim)):
        raise RuntimeError(f"permute(): number of dims don't match or repeated dim in "
                           f"{order} for a {x.ndim}-d tensor")
    return retag(_ops.transpose_packed(x, (order,)))


def transpose(input: Any, dim0: int, dim1: int) -> Tensor:
    """Axes `dim0` and `dim1` exchanged."""
    x = tensor_of(input)
    return retag(_ops.swapaxes(x, one_dim(dim0, x.ndim, "transpose"),
                               one_dim(dim1, x.ndim, "transpose")))


swapaxes = swapdims = transpose


def t(input: Any) -> Tensor:
    """The transpose of a matrix (a 0-d or 1-D tensor as it is)."""
    x = tensor_of(input)
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{x.ndim}D")
    out = _ops.swapaxes(x, 0, 1) if x.ndim == 2 else _ops.reshape(x, x.shape)
    return named(out, "t")


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """The axes from `start_dim` to `end_dim` (inclusive) merged into one."""
    x = tensor_of(input)
    if x.ndim == 0:
        return retag(_ops.reshape(x, 1))
    s, e = one_dim(start_dim, x.ndim, "flatten"), one_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = x.shape[:s] + (-1,) + x.shape[e + 1:]
    return retag(_ops.reshape_packed(x, shape))


def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Tensor:
    """Axis `dim` split into `sizes`."""
    x = tensor_of(input)
    d = one_dim(dim, x.ndim, "unflatten")
    return retag(_ops.reshape_packed(x, x.shape[:d] + tuple(sizes) + x.shape[d + 1:]))


def unsqueeze(input: Any, dim: int) -> Tensor:
    """A length-1 axis inserted at `dim`."""
    x = tensor_of(input)
    return retag(_ops.expand_dims(x, one_dim(dim, x.ndim + 1, "unsqueeze")))


def squeeze(input: Any, dim: Any = None) -> Tensor:
    """Length-1 axes removed (only those of `dim`, an int or tuple, when given; others are
    kept, as in PyTorch)."""
    x = tensor_of(input)
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
        return named(_ops.reshape_packed(x, shape), "squeeze")
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    gone = {one_dim(d, x.ndim, "squeeze") for d in dims}
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in gone and n == 1))
    return named(_ops.reshape_packed(x, shape), "squeeze_dim")


def expand(input: Any, *sizes: Any) -> Tensor:
    """A broadcast view in `sizes` (-1 keeps an axis; new axes go in front)."""
    x = tensor_of(input)
    want = _shape_of(sizes)
    lead = len(want) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(want)}) must be "
                           f"greater or equal to the number of dimensions ({x.ndim})")
    shape = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(want))
    return retag(_ops.broadcast_to(x, shape))


def expand_as(input: Any, other: Any) -> Tensor:
    """`expand` to `other`'s shape."""
    return expand(input, tuple(other.shape))


def repeat(input: Any, *sizes: Any) -> Tensor:
    """The tensor tiled `sizes` times along each axis (NumPy's tile, not its repeat)."""
    x = tensor_of(input)
    reps = _shape_of(sizes)
    if len(reps) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                           "number of dimensions of tensor")
    src = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    spread = _ops.reshape_packed(x, tuple(v for n in src for v in (1, n)))
    tiled = _ops.broadcast_to(spread, tuple(v for r, n in zip(reps, src) for v in (r, n)))
    return named(_ops.reshape_packed(tiled, tuple(r * n for r, n in zip(reps, src))),
                 "repeat")


def tile(input: Any, dims: Sequence[int]) -> Tensor:
    """`repeat`, with missing leading repeats taken as 1."""
    x = tensor_of(input)
    reps = tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(reps)) + reps)


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (each slice along `dim`) repeated `repeats` times, in place (NumPy's
    repeat); `repeat_interleave(counts)` alone repeats the indices 0, 1, ..."""
    x = tensor_of(input)
    if repeats is None:
        counts = index_array(x, x, "repeat_interleave")
        return from_array(x._xp.repeat(x._xp.arange(counts.shape[0]), counts))
    if dim is None:
        x, d = _ops.reshape(x, -1), 0
    else:
        d = one_dim(dim, x.ndim, "repeat_interleave")
    reps = index_array(repeats, x, "repeat_interleave") if isinstance(repeats, TensorBase) \
        else int(repeats)
    idx = x._xp.repeat(x._xp.arange(x.shape[d]), reps)
    return named(_ops.getitem(x, (slice(None),) * d + (idx,)), "repeat_interleave")


def flip(input: Any, *dims: Any) -> Tensor:
    """The elements in reverse order along `dims`."""
    x = tensor_of(input)
    axes = tuple(one_dim(d, x.ndim, "flip") for d in _shape_of(dims))
    return retag(_ops.flip(x, axes))


def fliplr(input: Any) -> Tensor:
    """Reversed along axis 1."""
    return flip(input, 1)


def flipud(input: Any) -> Tensor:
    """Reversed along axis 0."""
    return flip(input, 0)


def roll(input: Any, shifts: Any, dims: Any = None) -> Tensor:
    """Elements shifted cyclically by `shifts` along `dims` (the flattened tensor when
    None)."""
    x = tensor_of(input)
    if dims is None:
        return retag(_ops.reshape_packed(roll(_ops.reshape(x, -1), shifts, 0), x.shape))
    shifts = shifts if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    out = x
    for s, d in zip(shifts, dims):
        d = one_dim(d, x.ndim, "roll")
        idx = (x._xp.arange(x.shape[d]) - int(s)) % x.shape[d]
        out = _ops.getitem(out, (slice(None),) * d + (idx,))
    return named(out, "roll")


def narrow(input: Any, dim: int, start: int, length: int) -> Tensor:
    """`length` elements of axis `dim` from `start`."""
    x = tensor_of(input)
    d = one_dim(dim, x.ndim, "narrow")
    start = int(start) % x.shape[d] if start < 0 else int(start)
    if start + length > x.shape[d]:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension "
                           f"size ({x.shape[d]}).")
    return named(_ops.getitem(x, (slice(None),) * d + (slice(start, start + length),)),
                 "slice")


def _pieces(x: Any, d: int, sizes: Sequence[int], name: str) -> tuple[Tensor, ...]:
    lead, out, at = (slice(None),) * d, [], 0
    for n in sizes:
        out.append(named(_ops.getitem(x, lead + (slice(at, at + n),)), name))
        at += n
    return tuple(out)


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces along `dim`: each of `split_size` (the last may be smaller), or of the given
    sizes (which must add up to the axis' length)."""
    x = tensor_of(tensor)
    d = one_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise RuntimeError(f"split(): split_size must be positive, got {size}")
        return _pieces(x, d, [min(size, n - i) for i in range(0, n, size)] or [0], "split")
    sizes = [int(s) for s in split_size_or_sections]
    if sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                           f"(input tensor's size at dimension {d}), but got "
                           f"split_sizes={sizes}")
    return _pieces(x, d, sizes, "split_sizes")


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most `chunks` pieces of equal size (ceil(n / chunks); the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    x = tensor_of(input)
    d = one_dim(dim, x.ndim, "chunk")
    return split(x, max(1, -(-x.shape[d] // chunks)), d)


def unbind(input: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along `dim`, each without that axis."""
    x = tensor_of(input)
    d = one_dim(dim, x.ndim, "unbind")
    lead = (slice(None),) * d
    return tuple(named(_ops.getitem(x, lead + (i,)), "unbind") for i in range(x.shape[d]))


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Tensors joined along axis `dim`."""
    ts = [tensor_of(t) for t in tensors]
    if not ts:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    return retag(_ops.concatenate(ts, one_dim(dim, ts[0].ndim, "cat")))


concat = concatenate = cat


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Same-shaped tensors joined along a new axis `dim`."""
    ts = [tensor_of(t) for t in tensors]
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    return retag(_ops.stack(ts, one_dim(dim, ts[0].ndim + 1, "stack")))


def hstack(tensors: Sequence[Any]) -> Tensor:
    """Joined along axis 1 (axis 0 for 1-D tensors)."""
    ts = [tensor_of(t) for t in tensors]
    return cat(ts, 0 if ts and ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """Joined along axis 0 (1-D tensors as rows)."""
    return cat([_ops.reshape(t, 1, -1) if tensor_of(t).ndim == 1 else t for t in tensors], 0)


def movedim(input: Any, source: Any, destination: Any) -> Tensor:
    """Axes `source` moved to positions `destination` (ints or sequences)."""
    x = tensor_of(input)
    src = [one_dim(s, x.ndim, "movedim") for s in np.atleast_1d(source).tolist()]
    dst = [one_dim(s, x.ndim, "movedim") for s in np.atleast_1d(destination).tolist()]
    order = [i for i in range(x.ndim) if i not in src]
    for s, dd in sorted(zip(dst, src)):
        order.insert(s, dd)
    return retag(_ops.transpose_packed(x, (tuple(order),)))


moveaxis = movedim


def tril(input: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle (above `diagonal` zeroed)."""
    return retag(_ops.tril(input, diagonal))


def triu(input: Any, diagonal: int = 0) -> Tensor:
    """The upper triangle (below `diagonal` zeroed)."""
    return retag(_ops.triu(input, diagonal))


def atleast_2d(input: Any) -> Tensor:
    """A tensor with at least 2 axes."""
    x = tensor_of(input)
    return reshape(x, (1,) * (2 - x.ndim) + tuple(x.shape)) if x.ndim < 2 else reshape(x, x.shape)


register_differentiable("t", "squeeze_dim", "repeat", "repeat_interleave", "roll", "split",
                        "split_sizes", "unbind")
