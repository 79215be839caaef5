"""Reductions (sum, mean, max, ..., logsumexp) and cumulative sums, with their gradients."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

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
    d = x.data
    axis = norm_axis(axis, d.ndim, "sum")
    out = d.sum(axis=axis, keepdims=keepdims)
    kshape = _kept_shape(d.shape, axis)
    xp = x._xp
    return _make(out, (x,), lambda g: (xp.broadcast_to(g.reshape(kshape), d.shape),), "sum")


def mean(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over `axis` (all axes when None); integer tensors give float32."""
    x = float_tensor(x, "mean")
    d = x.data
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
    d = x.data
    if d.size == 0:
        raise ValueError(f"{name}: the tensor is empty")
    axis = norm_axis(axis, d.ndim, name)
    out = getattr(d, name)(axis=axis, keepdims=keepdims)
    kshape = _kept_shape(d.shape, axis)

    def vjp(g):
        hit = d == out.reshape(kshape)
        share = hit / hit.sum(axis=axis, keepdims=True)  # ties share the gradient
        return (g.reshape(kshape) * share.astype(g.dtype, copy=False),)

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
    d = x.data
    axis = norm_axis(axis, d.ndim, "prod")
    out = d.prod(axis=axis, keepdims=keepdims)
    kshape = _kept_shape(d.shape, axis)
    xp = x._xp

    def vjp(g):
        axes = tuple(range(d.ndim)) if axis is None else (
            axis if isinstance(axis, tuple) else (axis,))
        rest = [i for i in range(d.ndim) if i not in axes]
        moved = xp.transpose(d, rest + list(axes))
        flat = moved.reshape(moved.shape[: len(rest)] + (-1,))
        ones = xp.ones(flat.shape[:-1] + (1,), dtype=d.dtype)
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(xp.cumprod(xp.flip(
            xp.concatenate([flat[..., 1:], ones], axis=-1), axis=-1), axis=-1), axis=-1)
        others = (left * right).reshape(moved.shape)
        inverse = tuple(int(i) for i in np.argsort(rest + list(axes)))  # host ints for CuPy
        others = xp.transpose(others, inverse)
        return (g.reshape(kshape) * others,)

    return _make(out, (x,), vjp, "prod")


def var(x: TensorLike, axis: Axis = None, keepdims: bool = False,
        ddof: int = 0) -> Tensor:
    """Variance over `axis` with `ddof` delta degrees of freedom."""
    x = float_tensor(x, "var")
    d = x.data
    axis = norm_axis(axis, d.ndim, "var")
    n = _count(d.shape, axis)
    if n - ddof <= 0:
        raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {n} values")
    centred = d - d.mean(axis=axis, keepdims=True)
    out = (centred * centred).sum(axis=axis, keepdims=keepdims) / (n - ddof)
    kshape = _kept_shape(d.shape, axis)
    scale = 2.0 / (n - ddof)
    return _make(out, (x,), lambda g: (g.reshape(kshape) * (scale * centred),), "var")


def std(x: TensorLike, axis: Axis = None, keepdims: bool = False,
        ddof: int = 0) -> Tensor:
    """Standard deviation over `axis` with `ddof` delta degrees of freedom."""
    return var(x, axis, keepdims, ddof) ** 0.5


def logsumexp(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed without overflow."""
    x = float_tensor(x, "logsumexp")
    d = x.data
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
    return _make(out, (x,), lambda g: (g.reshape(kshape) * (e / s),), "logsumexp")


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
    d = x.data
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
    d = x.data
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


def any(x: TensorLike, axis: Axis = None,
        keepdims: bool = False) -> Tensor:  # noqa: A001 - NumPy's name
    """True where any element along `axis` is non-zero (not differentiable)."""
    x = as_tensor(x)
    return Tensor._wrap(x._xp.asarray(x.data.any(axis=axis, keepdims=keepdims)))


def all(x: TensorLike, axis: Axis = None,
        keepdims: bool = False) -> Tensor:  # noqa: A001 - NumPy's name
    """True where every element along `axis` is non-zero (not differentiable)."""
    x = as_tensor(x)
    return Tensor._wrap(x._xp.asarray(x.data.all(axis=axis, keepdims=keepdims)))
