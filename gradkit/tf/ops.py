"""TensorFlow's array functions (creation, shapes, casts, comparisons, indexing) over
gradkit's ops: each converts its inputs with TF's dtype rules, runs gradkit's op (same graph,
same gradients) and returns a `tf.Tensor`."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops as gko
from ..backend.devices import xp_of
from ..tensor_base import TensorBase
from .tensor import DEVICE, Tensor, from_array, retag, tf_array

__all__ = [
    "argmax", "argmin", "boolean_mask", "cast", "clip_by_value", "concat", "constant",
    "einsum", "equal", "expand_dims", "eye", "fill", "gather", "greater", "greater_equal",
    "identity", "less", "less_equal", "linspace", "logical_and", "logical_not", "logical_or",
    "logical_xor", "matmul", "not_equal", "one_hot", "ones", "ones_like", "pad", "range",
    "rank", "reshape", "shape", "size", "split", "squeeze", "stack", "stop_gradient", "tile",
    "transpose", "unstack", "where", "zeros", "zeros_like",
]

_SCALARS = (int, float, bool, np.number, np.bool_)


def t_(x: Any) -> Any:
    """`x` as a tensor: tensors as they are, other data with TF's dtype rules."""
    return x if isinstance(x, TensorBase) else from_array(tf_array(x))


def operand(x: Any) -> Any:
    """Like `t_`, but Python numbers stay numbers (they take the other operand's dtype)."""
    return x if isinstance(x, (TensorBase, *_SCALARS)) else from_array(tf_array(x))


def dims(shape: Any) -> tuple[int, ...]:
    """A shape given as an int, a list/tuple (of ints or 0-d tensors) or a 1-d tensor."""
    if isinstance(shape, TensorBase):
        shape = shape.tolist()
    if isinstance(shape, int | np.integer):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _fresh(make: Any, dtype: Any) -> Tensor:
    """A new tensor made by `make(xp)` on the tf device."""
    arr = make(np)
    if DEVICE.get() != "cpu":
        arr = tf_array(arr)
    return from_array(arr.astype(np.dtype(dtype), copy=False))


# ---- creation -------------------------------------------------------------------------------


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str | None = None) -> Tensor:
    """A constant tensor; Python floats become float32, ints int32 (TF's rules)."""
    arr = tf_array(value, dtype, copy=True)
    if shape is not None:
        want = dims(shape)
        xp = xp_of(arr)
        arr = xp.broadcast_to(arr.reshape(()), want).copy() if arr.size == 1 else \
            arr.reshape(want)
    return from_array(arr)


def zeros(shape: Any, dtype: Any = np.float32, name: str | None = None) -> Tensor:
    """Zeros (float32 unless `dtype`)."""
    return _fresh(lambda xp: xp.zeros(dims(shape)), dtype)


def ones(shape: Any, dtype: Any = np.float32, name: str | None = None) -> Tensor:
    """Ones (float32 unless `dtype`)."""
    return _fresh(lambda xp: xp.ones(dims(shape)), dtype)


def fill(dims_: Any, value: Any, name: str | None = None) -> Tensor:
    """`value` everywhere (its dtype by TF's rules)."""
    v = tf_array(value)
    return _fresh(lambda xp: xp.full(dims(dims_), v), v.dtype)


def zeros_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    """Zeros with the shape (and dtype) of `input`."""
    x = t_(input)
    return from_array(x._xp.zeros(x._data.shape, dtype or x._data.dtype))


def ones_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    """Ones with the shape (and dtype) of `input`."""
    x = t_(input)
    return from_array(x._xp.ones(x._data.shape, dtype or x._data.dtype))


def eye(num_rows: int, num_columns: int | None = None, batch_shape: Any = None,
        dtype: Any = np.float32, name: str | None = None) -> Tensor:
    """The identity matrix."""
    return _fresh(lambda xp: xp.eye(num_rows, num_columns), dtype)


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,
          name: str = "range") -> Tensor:
    """`[start, limit)` by `delta`: int32 for ints, float32 for floats (TF's rules)."""
    if limit is None:
        start, limit = 0, start
    if dtype is None:
        dtype = tf_array([start, limit, delta]).dtype
    return _fresh(lambda xp: xp.arange(start, limit, delta), dtype)


def linspace(start: Any, stop: Any, num: int, name: str | None = None, axis: int = 0) -> Tensor:
    """`num` evenly spaced values from `start` to `stop` (both included)."""
    kind = tf_array(start).dtype
    return _fresh(lambda xp: xp.linspace(start, stop, int(num)),
                  kind if kind.kind == "f" else np.float32)


# ---- metadata -------------------------------------------------------------------------------


def _about(x: Any, value: Any, dtype: Any) -> Tensor:
    """A small int tensor describing `x`, on `x`'s device (so it mixes with `x` in maths)."""
    return from_array(xp_of(x._data).asarray(value, dtype=np.dtype(dtype)))


def shape(input: Any, out_type: Any = np.int32, name: str | None = None) -> Tensor:
    """The shape as a 1-d int32 tensor."""
    x = t_(input)
    return _about(x, x._data.shape, out_type)


def rank(input: Any, name: str | None = None) -> Tensor:
    """The number of axes, as a 0-d int32 tensor."""
    x = t_(input)
    return _about(x, x._data.ndim, np.int32)


def size(input: Any, out_type: Any = np.int32, name: str | None = None) -> Tensor:
    """The number of elements, as a 0-d int32 tensor."""
    x = t_(input)
    return _about(x, x._data.size, out_type)


# ---- casts and copies -----------------------------------------------------------------------


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """`x` as `dtype` (differentiable between floating dtypes; floats to ints truncate)."""
    return retag(gko.astype(t_(x), np.dtype(dtype)))


def identity(input: Any, name: str | None = None) -> Tensor:
    """A copy of `input` (gradients pass through)."""
    x = t_(input)
    return retag(gko.astype(x, x._data.dtype))


def stop_gradient(input: Any, name: str | None = None) -> Tensor:
    """The same values, cut from the graph (no gradient flows back)."""
    return retag(t_(input).detach())


# ---- shapes ---------------------------------------------------------------------------------


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """The same elements in a new shape (one entry may be -1)."""
    return retag(gko.reshape(t_(tensor), dims(shape)))


def transpose(a: Any, perm: Sequence[int] | None = None, conjugate: bool = False,
              name: str = "transpose") -> Tensor:
    """Permute the axes (reverse them when `perm` is None)."""
    x = t_(a)
    return retag(gko.transpose(x) if perm is None else gko.transpose(x, dims(perm)))


def expand_dims(input: Any, axis: int, name: str | None = None) -> Tensor:
    """Insert an axis of length 1 at `axis`."""
    return retag(gko.expand_dims(t_(input), int(axis)))


def squeeze(input: Any, axis: Any = None, name: str | None = None) -> Tensor:
    """Remove axes of length 1 (all of them, or those in `axis`)."""
    ax = tuple(axis) if isinstance(axis, list) else axis
    return retag(gko.squeeze(t_(input), ax))


def concat(values: Sequence[Any], axis: int, name: str = "concat") -> Tensor:
    """Join tensors along an existing axis."""
    return retag(gko.concatenate([t_(v) for v in values], axis=int(axis)))


def stack(values: Sequence[Any], axis: int = 0, name: str = "stack") -> Tensor:
    """Join same-shaped tensors along a new axis."""
    return retag(gko.stack([t_(v) for v in values], axis=int(axis)))


def unstack(value: Any, num: int | None = None, axis: int = 0,
            name: str = "unstack") -> list[Tensor]:
    """The slices along `axis`, as a list."""
    x = t_(value)
    lead = (slice(None),) * (int(axis) % x.ndim)
    return [retag(x[lead + (i,)]) for i in builtins.range(x._data.shape[axis])]


def split(value: Any, num_or_size_splits: Any, axis: int = 0, num: int | None = None,
          name: str = "split") -> list[Tensor]:
    """Equal parts (an int) or parts of the given sizes (a list), as TF (not NumPy's cut
    indices)."""
    x = t_(value)
    if isinstance(num_or_size_splits, int | np.integer):
        return [retag(p) for p in gko.split(x, int(num_or_size_splits), axis=int(axis))]
    sizes = list(dims(num_or_size_splits))
    if -1 in sizes:
        sizes[sizes.index(-1)] = x._data.shape[axis] - (builtins.sum(sizes) + 1)
    cuts = np.cumsum(sizes)[:-1].tolist()
    return [retag(p) for p in gko.split(x, cuts, axis=int(axis))]


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:
    """`input` repeated `multiples[i]` times along each axis (differentiable)."""
    x = t_(input)
    reps = dims(multiples)
    if len(reps) != x.ndim:
        raise ValueError(f"tile: multiples has {len(reps)} entries for a {x.ndim}-d tensor")
    inter = tuple(v for n in x._data.shape for v in (1, n))
    big = tuple(v for r, n in zip(reps, x._data.shape) for v in (r, n))
    out = gko.broadcast_to(gko.reshape(x, inter), big)
    return retag(gko.reshape(out, tuple(r * n for r, n in zip(reps, x._data.shape))))


def pad(tensor: Any, paddings: Any, mode: str = "CONSTANT", constant_values: Any = 0,
        name: str | None = None) -> Tensor:
    """Pad with a constant (TF's `mode="CONSTANT"`)."""
    if mode.upper() != "CONSTANT":
        raise NotImplementedError(f"tf.pad: mode={mode!r} is not in gradkit.tf; "
                                  "gk.nn.functional.pad has reflect/replicate modes")
    widths = paddings.tolist() if isinstance(paddings, TensorBase) else paddings
    return retag(gko.pad(t_(tensor), widths, value=constant_values))


# ---- indexing -------------------------------------------------------------------------------


def gather(params: Any, indices: Any, validate_indices: Any = None, axis: int = 0,
           batch_dims: int = 0, name: str | None = None) -> Tensor:
    """The slices of `params` at `indices` along `axis` (differentiable)."""
    x = t_(params)
    lead = (slice(None),) * (int(axis) % x.ndim)
    return retag(x[lead + (t_(indices),)])


def boolean_mask(tensor: Any, mask: Any, axis: int | None = None,
                 name: str = "boolean_mask") -> Tensor:
    """The elements (or rows) of `tensor` where `mask` is true."""
    return retag(t_(tensor)[t_(mask)])


def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """`x` where `condition` holds, else `y`; with only `condition`, the int64 indices of
    its true elements (one row each)."""
    c = t_(condition)
    if x is None and y is None:
        return from_array(c._xp.argwhere(c._data).astype(np.int64))
    return retag(gko.where(c, operand(x), operand(y)))


def one_hot(indices: Any, depth: int, on_value: Any = None, off_value: Any = None,
            axis: int | None = None, dtype: Any = None, name: str | None = None) -> Tensor:
    """One-hot vectors (float32 by default); an index outside [0, depth) gives a row of
    `off_value`, as TF."""
    idx = t_(indices)
    xp = idx._xp
    dtype = np.dtype(dtype or (tf_array(on_value).dtype if on_value is not None
                               else np.float32))
    hot = idx._data[..., None] == xp.arange(int(depth))
    on = 1 if on_value is None else on_value
    off = 0 if off_value is None else off_value
    out = xp.where(hot, xp.asarray(on, dtype), xp.asarray(off, dtype)).astype(dtype)
    if axis is not None and axis != -1:
        out = xp.moveaxis(out, -1, axis)
    return from_array(out)


# ---- maths that TF keeps at the top level ---------------------------------------------------


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, output_type: Any = None, name: str | None = None) -> Tensor:
    """The matrix product (batched over leading axes), optionally transposing either."""
    x, y = t_(a), t_(b)
    if transpose_a or adjoint_a:
        x = gko.swapaxes(x, -1, -2)
    if transpose_b or adjoint_b:
        y = gko.swapaxes(y, -1, -2)
    return retag(gko.matmul(x, y))


def einsum(equation: str, *inputs: Any, **kwargs: Any) -> Tensor:
    """Einstein summation."""
    return retag(gko.einsum(equation, *[t_(x) for x in inputs]))


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any,
                  name: str | None = None) -> Tensor:
    """Values limited to [min, max]; the gradient passes inside the range."""
    lo = clip_value_min.item() if isinstance(clip_value_min, TensorBase) else clip_value_min
    hi = clip_value_max.item() if isinstance(clip_value_max, TensorBase) else clip_value_max
    return retag(gko.clip(t_(t), lo, hi))


def _arg(fn: Any, input: Any, axis: Any, output_type: Any) -> Tensor:
    x = t_(input)
    out = fn(x, axis=0 if axis is None else int(axis))  # TF's default axis is 0
    return from_array(out._data.astype(np.dtype(output_type), copy=False))


def argmax(input: Any, axis: Any = None, output_type: Any = np.int64,
           name: str | None = None) -> Tensor:
    """The index of the largest value along `axis` (0 by default, as TF), int64."""
    return _arg(gko.argmax, input, axis, output_type)


def argmin(input: Any, axis: Any = None, output_type: Any = np.int64,
           name: str | None = None) -> Tensor:
    """The index of the smallest value along `axis` (0 by default, as TF), int64."""
    return _arg(gko.argmin, input, axis, output_type)


def _compare(fn: Any, name: str) -> Any:
    def compare(x: Any, y: Any, name: str | None = None) -> Tensor:
        return retag(fn(operand(x), operand(y)))
    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise `{name}` (a bool tensor; broadcasting)."
    return compare


equal = _compare(gko.equal, "equal")
not_equal = _compare(gko.not_equal, "not_equal")
less = _compare(gko.less, "less")
less_equal = _compare(gko.less_equal, "less_equal")
greater = _compare(gko.greater, "greater")
greater_equal = _compare(gko.greater_equal, "greater_equal")
logical_and = _compare(gko.logical_and, "logical_and")
logical_or = _compare(gko.logical_or, "logical_or")
logical_xor = _compare(gko.logical_xor, "logical_xor")


def logical_not(x: Any, name: str | None = None) -> Tensor:
    """Elementwise not of a bool tensor."""
    return retag(~t_(x))
