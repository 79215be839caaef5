"""Reductions (sum, mean, max, ..., logsumexp) and cumulative sums, with their gradients."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import RECORDED_NS, register_differentiable
from ..tensor import Tensor, _make, as_tensor
from ._util import float_tensor, norm_axis

if TYPE_CHECKING:
    from ..tensor_base import Axis, TensorLike


def _kept_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """`shape` with the reduced axes set to 1 (what keepdims=True would give)."""
    if axis is None:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape: tuple[int, ...], axis: Any) -> int:
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def sum(x: TensorLike, axis: Axis = None,
        keepdims: bool = False) -> Tensor:  # noqa: A001 - NumPy's name
    """Sum over `axis` (all axes when None)."""
    x = as_tensor(x)
    d = x._data
    axis = norm_axis(axis, d.ndim, "sum")
    out = d.sum(axis=axis, keepdims=keepdims)
    kshape = _kept_shape(d.shape, axis)
    xp = x._xp
    return _make(out, (x,), lambda g: (xp.broadcast_to(g.reshape(kshape), d.shape),), "sum")


def mean(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over `axis` (all axes when None); integer tensors give float32."""
    x = float_tensor(x, "mean")
    d = x._data
    axis = norm_axis(axis, d.ndim, "mean")
    out = d.mean(axis=axis, keepdims=keepdims)
    kshape = _kept_shape(d.shape, axis)
    scale = 1.0 / builtins.max(_count(d.shape, axis), 1)
    xp = x._xp

    def vjp(g):
        return (xp.broadcast_to(g.reshape(kshape) * scale, d.shape),)

    return _make(out, (x,), vjp, "mean")


def _extreme(x: TensorLike, axis: Axis, keepdims: bool, name: str) -> Tensor:
    x = as_tensor(x)
    d = x._data
    if d.size == 0:
        raise ValueError(f"{name}: the tensor is empty")
    axis = norm_axis(axis, d.ndim, name)
    out = getattr(d, name)(axis=axis, keepdims=keepdims)
    kshape = _kept_shape(d.shape, axis)

    def vjp(g):
        hit = (d == out.reshape(kshape)).astype(g.dtype)
        return (g.reshape(kshape) * (hit / hit.sum(axis=axis, keepdims=True)),)  # ties share

    return _make(out, (x,), vjp, name)


def max(x: TensorLike, axis: Axis = None,
        keepdims: bool = False) -> Tensor:  # noqa: A001 - NumPy's name
    """Maximum over `axis`; tied maxima share the gradient equally."""
    return _extreme(x, axis, keepdims, "max")


def min(x: TensorLike, axis: Axis = None,
        keepdims: bool = False) -> Tensor:  # noqa: A001 - NumPy's name
    """Minimum over `axis`; tied minima share the gradient equally."""
    return _extreme(x, axis, keepdims, "min")


def prod(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Product over `axis`; the gradient is exact even where inputs are zero."""
    x = as_tensor(x)
    d = x._data
    axis = norm_axis(axis, d.ndim, "prod")
    out = d.prod(axis=axis, keepdims=keepdims)
    kshape = _kept_shape(d.shape, axis)
    xp = x._xp

    def vjp(g):
        axes = _axes(axis, d.ndim)
        rest = [i for i in range(d.ndim) if i not in axes]
        moved = xp.transpose(d, rest + list(axes))
        flat = moved.reshape(moved.shape[: len(rest)] + (-1,))
        if xp is RECORDED_NS[0]:  # recorded: the products of the others, as one gk prod
            others = _others_recorded(xp, flat).reshape(moved.shape)
        else:
            ones = xp.ones(flat.shape[:-1] + (1,), dtype=d.dtype)
            left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
            right = xp.flip(xp.cumprod(xp.flip(
                xp.concatenate([flat[..., 1:], ones], axis=-1), axis=-1), axis=-1), axis=-1)
            others = (left * right).reshape(moved.shape)
        inverse = tuple(int(i) for i in np.argsort(rest + list(axes)))  # host ints for CuPy
        others = xp.transpose(others, inverse)
        return (g.reshape(kshape) * others,)

    return _make(out, (x,), vjp, "prod")


def _others_recorded(xp: Any, flat: Tensor) -> Tensor:
    """For each i along the last axis of `flat` (a recorded Tensor), the product of the
    others: row i of an (n, n) copy with entry i set to 1, multiplied out (exact at zeros,
    and differentiable again through prod's own rule)."""
    n = flat.shape[-1]
    rows = xp.broadcast_to(xp.expand_dims(flat, -2), flat.shape[:-1] + (n, n))
    return xp.where(np.eye(n, dtype=bool), 1, rows).prod(axis=-1)


def var(x: TensorLike, axis: Axis = None, keepdims: bool = False,
        ddof: int = 0) -> Tensor:
    """Variance over `axis` with `ddof` delta degrees of freedom."""
    x = float_tensor(x, "var")
    d = x._data
    axis = norm_axis(axis, d.ndim, "var")
    n = _count(d.shape, axis)
    if n - ddof <= 0:
        raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {n} values")
    centred = d - d.mean(axis=axis, keepdims=True)
    out = (centred * centred).sum(axis=axis, keepdims=keepdims) / (n - ddof)
    kshape = _kept_shape(d.shape, axis)
    scale = 2.0 / (n - ddof)
    xp = x._xp

    def vjp(g):
        if xp is RECORDED_NS[0]:  # recorded: centre the input Tensor again
            return (g.reshape(kshape) * (scale * (d - d.mean(axis=axis, keepdims=True))),)
        return (g.reshape(kshape) * (scale * centred),)

    return _make(out, (x,), vjp, "var")


def std(x: TensorLike, axis: Axis = None, keepdims: bool = False,
        ddof: int = 0) -> Tensor:
    """Standard deviation over `axis` with `ddof` delta degrees of freedom."""
    return var(x, axis, keepdims, ddof) ** 0.5


def logsumexp(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed without overflow."""
    x = float_tensor(x, "logsumexp")
    d = x._data
    xp = x._xp
    axis = norm_axis(axis, d.ndim, "logsumexp")
    m = d.max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    e = xp.exp(d - m)
    s = e.sum(axis=axis, keepdims=True)
    out_k = xp.log(s) + m
    out = out_k if keepdims else out_k.reshape(
        tuple(n for i, n in enumerate(out_k.shape) if i not in _axes(axis, d.ndim)))
    kshape = out_k.shape

    def vjp(g):
        if xp is RECORDED_NS[0]:  # recorded: softmax from the input and the result Tensors
            return (g.reshape(kshape) * xp.exp(d - out.reshape(kshape)),)
        return (g.reshape(kshape) * (e / s),)

    return _make(out, (x,), vjp, "logsumexp")


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return axis if isinstance(axis, tuple) else (axis,)


def argmax(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the maximum (flattened when axis is None); int64, not differentiable."""
    return _arg(x, axis, keepdims, "argmax")


def argmin(x: TensorLike, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the minimum (flattened when axis is None); int64, not differentiable."""
    return _arg(x, axis, keepdims, "argmin")


def _arg(x: TensorLike, axis: int | None, keepdims: bool, name: str) -> Tensor:
    x = as_tensor(x)
    d = x._data
    if d.size == 0:
        raise ValueError(f"{name}: the tensor is empty")
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{name}: axis must be an int or None")
    axis = norm_axis(axis, d.ndim, name)
    out = getattr(d, name)(axis=axis, keepdims=keepdims)
    return Tensor._wrap(x._xp.asarray(out, dtype=np.int64))


def cumsum(x: TensorLike, axis: int | None = None) -> Tensor:
    """Cumulative sum along `axis` (over the flattened tensor when None)."""
    x = as_tensor(x)
    d = x._data
    xp = x._xp
    if axis is None:
        flat = d.reshape(-1)
        out = xp.cumsum(flat)
        return _make(out, (x,), lambda g: (_rev_cumsum(xp, g, 0).reshape(d.shape),), "cumsum")
    axis = norm_axis(axis, d.ndim, "cumsum")
    out = xp.cumsum(d, axis=axis)
    return _make(out, (x,), lambda g: (_rev_cumsum(xp, g, axis),), "cumsum")


def _rev_cumsum(xp: Any, g: Any, axis: int) -> Any:
    return xp.flip(xp.cumsum(xp.flip(g, axis=axis), axis=axis), axis=axis)


register_differentiable("sum", "mean", "max", "min", "prod", "cumsum")
register_differentiable("var", "logsumexp", strict=False)  # recorded branches: see their rules


def any(x: TensorLike, axis: Axis = None,
        keepdims: bool = False) -> Tensor:  # noqa: A001 - NumPy's name
    """True where any element along `axis` is non-zero (not differentiable)."""
    x = as_tensor(x)
    return Tensor._wrap(x._xp.asarray(x._data.any(axis=axis, keepdims=keepdims)))


def all(x: TensorLike, axis: Axis = None,
        keepdims: bool = False) -> Tensor:  # noqa: A001 - NumPy's name
    """True where every element along `axis` is non-zero (not differentiable)."""
    x = as_tensor(x)
    return Tensor._wrap(x._xp.asarray(x._data.all(axis=axis, keepdims=keepdims)))
