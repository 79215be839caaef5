"""Shape ops: reshape, transpose, concatenate, split, pad, ... and their gradients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import register_differentiable
from ..errors import ShapeError
from ..tensor import Tensor, _make, as_tensor
from ._util import norm_axis, operands
from .indexing import getitem

if TYPE_CHECKING:
    from ..tensor_base import Axis, TensorLike


def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def reshape(x: TensorLike, *shape: int | Sequence[int]) -> Tensor:
    """The same elements in a new shape (one entry may be -1)."""
    return reshape_packed(x, shape)


def reshape_packed(x: TensorLike, shape: Sequence[Any]) -> Tensor:
    """`reshape` with its shape arguments in one sequence (Tensor.reshape calls it: no
    re-packing of `*shape` on the hot path)."""
    x = as_tensor(x)
    dims = _shape_arg(shape)
    d = x._data
    try:
        out = d.reshape(dims)
    except ValueError:
        raise ShapeError(
            f"reshape: cannot reshape a tensor of shape {d.shape} ({d.size} elements) "
            f"into {dims}"
        ) from None
    return _make(out, (x,), lambda g: (g.reshape(d.shape),), "reshape")


def flatten(x: TensorLike, start_axis: int = 0) -> Tensor:
    """Merge the axes from `start_axis` on into one."""
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape_packed(x, (1,))
    start = norm_axis(start_axis, x.ndim, "flatten")
    return reshape_packed(x, x.shape[:start] + (-1,))


def transpose(x: TensorLike, *axes: int | Sequence[int] | None) -> Tensor:
    """Permute axes (reverse them when none are given)."""
    return transpose_packed(x, axes)


def transpose_packed(x: TensorLike, axes: Sequence[Any]) -> Tensor:
    """`transpose` with its axes arguments in one sequence (what Tensor.transpose calls)."""
    x = as_tensor(x)
    perm = _shape_arg(axes) if axes and axes[0] is not None else None
    d = x._data
    if perm is not None and sorted(norm_axis(perm, d.ndim, "transpose")) != list(range(d.ndim)):
        raise ShapeError(f"transpose: axes {perm} are not a permutation of {d.ndim} axes")
    out = d.transpose(perm)
    inv = None  # the inverse permutation, as host ints (CuPy wants plain ints)
    if perm is not None:
        inv = tuple(int(i) for i in np.argsort([a % d.ndim for a in perm]))
    return _make(out, (x,), lambda g: (g.transpose(inv),), "transpose")


def swapaxes(x: TensorLike, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    x = as_tensor(x)
    a1 = norm_axis(axis1, x.ndim, "swapaxes")
    a2 = norm_axis(axis2, x.ndim, "swapaxes")
    xp = x._xp
    out = xp.swapaxes(x._data, a1, a2)
    return _make(out, (x,), lambda g: (xp.swapaxes(g, a1, a2),), "swapaxes")


def expand_dims(x: TensorLike, axis: int | Sequence[int]) -> Tensor:
    """Insert a length-1 axis at `axis`."""
    x = as_tensor(x)
    d = x._data
    try:
        out = x._xp.expand_dims(d, axis)
    except Exception:
        raise ShapeError(f"expand_dims: axis {axis} is out of range for shape {d.shape}") from None
    return _make(out, (x,), lambda g: (g.reshape(d.shape),), "expand_dims")


def squeeze(x: TensorLike, axis: Axis = None) -> Tensor:
    """Remove length-1 axes (only `axis` when given)."""
    x = as_tensor(x)
    d = x._data
    axis = norm_axis(axis, d.ndim, "squeeze")
    axes = axis if isinstance(axis, tuple) else (axis,) if axis is not None else None
    if axes is not None and any(d.shape[a] != 1 for a in axes):
        raise ShapeError(f"squeeze: axis {axis} of shape {d.shape} is not of length 1")
    out = d.squeeze(axis)
    return _make(out, (x,), lambda g: (g.reshape(d.shape),), "squeeze")


def broadcast_to(x: TensorLike, shape: Sequence[int]) -> Tensor:
    """A read-only broadcast view in `shape`; the gradient sums back."""
    x = as_tensor(x)
    shape = tuple(shape)
    try:
        out = x._xp.broadcast_to(x._data, shape)
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return _make(out, (x,), lambda g: (g,), "broadcast_to")


def _same_device(tensors: Sequence[TensorLike], opname: str) -> list[Tensor]:
    if not tensors:
        raise ValueError(f"{opname}: needs at least one tensor")
    ts = [as_tensor(t) for t in tensors]
    first = ts[0]
    for i in range(1, len(ts)):
        first, ts[i] = operands(first, ts[i], opname)
    ts[0] = first
    return ts


def concatenate(tensors: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    ts = _same_device(tensors, "concatenate")
    xp = ts[0]._xp
    try:
        out = xp.concatenate([t._data for t in ts], axis=axis)
    except (ValueError, np.exceptions.AxisError):
        shapes = ", ".join(str(t.shape) for t in ts)
        raise ShapeError(f"concatenate: cannot join shapes {shapes} along axis {axis}") from None
    axis = axis % out.ndim
    cuts = np.cumsum([t.shape[axis] for t in ts])[:-1].tolist()
    return _make(out, tuple(ts), lambda g: tuple(xp.split(g, cuts, axis=axis)), "concatenate")


def stack(tensors: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis."""
    ts = _same_device(tensors, "stack")
    xp = ts[0]._xp
    try:
        out = xp.stack([t._data for t in ts], axis=axis)
    except (ValueError, np.exceptions.AxisError):
        shapes = ", ".join(str(t.shape) for t in ts)
        raise ShapeError(f"stack: needs equal shapes, got {shapes} (axis {axis})") from None
    axis = axis % out.ndim

    def vjp(g):
        return tuple(xp.take(g, i, axis=axis) for i in range(len(ts)))

    return _make(out, tuple(ts), vjp, "stack")


def split(x: TensorLike, indices_or_sections: int | Sequence[int],
          axis: int = 0) -> list[Tensor]:
    """Split into pieces (equal sections, or at the given indices), like NumPy."""
    x = as_tensor(x)
    axis = norm_axis(axis, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ShapeError(
                f"split: axis {axis} of length {n} does not split into {k} equal parts"
            )
        bounds = list(range(0, n + 1, n // k))
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], n]
    lead = (slice(None),) * axis
    return [getitem(x, lead + (slice(lo, max(lo, hi)),)) for lo, hi in zip(bounds, bounds[1:])]


def flip(x: TensorLike, axis: Axis = None) -> Tensor:
    """Reverse the order of elements along `axis` (all axes when None)."""
    x = as_tensor(x)
    axis = norm_axis(axis, x.ndim, "flip")
    xp = x._xp
    return _make(xp.flip(x._data, axis=axis), (x,), lambda g: (xp.flip(g, axis=axis),), "flip")


def pad(x: TensorLike, pad_width: Any, value: float = 0) -> Tensor:
    """Pad with a constant `value`; `pad_width` as in NumPy's `pad`."""
    x = as_tensor(x)
    xp = x._xp
    d = x._data
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (d.ndim, 2))
    except ValueError:
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit shape {d.shape}") from None
    if (widths < 0).any():
        raise ValueError(f"pad: negative pad_width {pad_width!r}")
    out = xp.pad(d, [tuple(w) for w in widths.tolist()], constant_values=value)
    inner = tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(widths, d.shape))
    return _make(out, (x,), lambda g: (g[inner],), "pad")


def _triangle(x: TensorLike, k: int, name: str) -> Tensor:
    x = as_tensor(x)
    if x.ndim < 2:
        raise ShapeError(f"{name}: needs at least 2 axes, got shape {x.shape}")
    xp = x._xp
    lower = name == "tril"
    out = xp.tril(x._data, k) if lower else xp.triu(x._data, k)
    return _make(out, (x,), lambda g: (xp.tril(g, k) if lower else xp.triu(g, k),), name)


def tril(x: TensorLike, k: int = 0) -> Tensor:
    """Lower triangle (elements above the k-th diagonal set to zero)."""
    return _triangle(x, k, "tril")


def triu(x: TensorLike, k: int = 0) -> Tensor:
    """Upper triangle (elements below the k-th diagonal set to zero)."""
    return _triangle(x, k, "triu")


register_differentiable(
    "reshape", "transpose", "swapaxes", "expand_dims", "squeeze", "broadcast_to",
    "concatenate", "stack", "flip", "pad", "tril", "triu")
