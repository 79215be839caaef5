"""sum, mean, prod, std/var (unbiased by default), logsumexp, norm, all/any, cumsum,
softmax/log_softmax, count_nonzero: PyTorch's reductions with `dim=`/`keepdim=` (and the
NumPy aliases `axis=`/`keepdims=`), over gradkit's ops.

PyTorch's dtypes: integer and bool sums, products and cumulative sums are int64; `mean`,
`std` and `var` of an integer tensor raise, as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops as _ops
from ..autograd import register_differentiable
from ..tensor import Tensor as _Native
from ..tensor_base import TensorBase
from .common import dim_arg, keep_arg, one_dim, tensor_of
from .dtypes import to_numpy_dtype, to_torch_dtype
from .select import amax, amin
from .tensor import Tensor, from_array, named, retag

__all__ = ["sum", "mean", "prod", "std", "var", "std_mean", "var_mean", "logsumexp", "norm",
           "all", "any", "cumsum", "softmax", "log_softmax", "count_nonzero", "nansum"]

_INT64 = np.dtype(np.int64)


def _as(x: _Native, dtype: Any, integers_to_int64: bool = True) -> _Native:
    """`x` cast to `dtype` (or integers/bools to int64, PyTorch's accumulation type)."""
    want = to_numpy_dtype(dtype)
    if want is None and integers_to_int64 and x._data.dtype.kind in "biu" \
            and x._data.dtype != _INT64:
        want = _INT64
    return x if want is None or want == x._data.dtype else _ops.astype(x, want)


def _floating(x: _Native, opname: str, dtype: Any = None) -> _Native:
    if dtype is not None:
        return _as(x, dtype)
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"{opname}(): could not infer output dtype. Input dtype must be "
                           f"either a floating point or complex dtype. Got: "
                           f"{_TYPE_WORDS.get(x._data.dtype.name, x._data.dtype.name)}")
    return x


_TYPE_WORDS = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
               "uint8": "Byte", "bool": "Bool"}


def sum(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
        axis: Any = None, keepdims: bool | None = None) -> Tensor:  # noqa: A001
    """The sum over `dim` (all elements when None)."""
    if axis is not None or keepdims is not None or dim.__class__ in (list, tuple):
        dim, keepdim = dim_arg(dim, axis), keep_arg(keepdim, keepdims)
    x = input if dtype is None and isinstance(input, TensorBase) and \
        input._data.dtype.kind in "fc" else _as(tensor_of(input), dtype)
    out: Any = _ops.sum(x, dim, keepdim)
    out.__class__ = Tensor  # a fresh native result
    if dim is not None and out._vjp is not None:
        out._op = "sum_dim"
    return out


def nansum(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The sum over `dim` counting NaNs as zero."""
    x = tensor_of(input)
    return sum(_ops.where(x._xp.isnan(x._data), 0.0, x), dim, keepdim, dtype=dtype)


def mean(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """The mean over `dim` (all elements when None); floating tensors only (or `dtype=`)."""
    if axis is not None or keepdims is not None or dim.__class__ in (list, tuple):
        dim, keepdim = dim_arg(dim, axis), keep_arg(keepdim, keepdims)
    x = input if dtype is None and isinstance(input, TensorBase) and \
        input._data.dtype.kind in "fc" else _floating(tensor_of(input), "mean", dtype)
    out: Any = _ops.mean(x, dim, keepdim)
    out.__class__ = Tensor  # a fresh native result
    if dim is not None and out._vjp is not None:
        out._op = "mean_dim"
    return out


def prod(input: Any, dim: int | None = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """The product over `dim` (all elements when None)."""
    out = _ops.prod(_as(tensor_of(input), dtype), dim_arg(dim), keepdim)
    return named(out, "prod" if dim is None else "prod_dim")


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def _count(shape: tuple[int, ...], d: Any) -> int:
    axes = range(len(shape)) if d is None else (d if isinstance(d, tuple) else (d,))
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def var(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """The variance over `dim`, unbiased (divided by n - 1) unless `unbiased=False` or
    `correction=0`; NaN where no degrees of freedom are left (PyTorch's)."""
    if isinstance(dim, bool):  # the old form var(input, unbiased)
        dim, unbiased = None, dim
    x = _floating(tensor_of(input), "var")
    d, keep, c = dim_arg(dim, axis), keep_arg(keepdim, keepdims), _correction(unbiased,
                                                                              correction)
    n = _count(x.shape, d)
    if n - c <= 0:
        return named(_ops.mul(_ops.var(x, d, keep, 0), math.nan), "var")
    return named(_ops.var(x, d, keep, c), "var")  # type: ignore[arg-type]


def std(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, axis: Any = None, keepdims: bool | None = None) -> Tensor:
    """The standard deviation over `dim`, unbiased unless `unbiased=False`/`correction=0`."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    v = var(input, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    return named(_ops.pow(v, 0.5), "std")


def var_mean(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """`(var, mean)` over `dim`."""
    return (named(var(input, dim, unbiased, keepdim, correction=correction), "var_mean"),
            named(mean(input, dim, keepdim), "var_mean"))


def std_mean(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """`(std, mean)` over `dim`."""
    return (named(std(input, dim, unbiased, keepdim, correction=correction), "std_mean"),
            named(mean(input, dim, keepdim), "std_mean"))


def logsumexp(input: Any, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over `dim`, without overflow."""
    return retag(_ops.logsumexp(_floating(tensor_of(input), "logsumexp"), dim_arg(dim),
                                keepdim))


def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False,
         dtype: Any = None) -> Tensor:
    """The vector p-norm over `dim` (all elements when None): p = 'fro' or 2 (Euclidean),
    1, inf, -inf, 0 (the count of non-zeros) or any other number."""
    x = _floating(tensor_of(input), "norm", dtype)
    d = dim_arg(dim)
    out: Any
    if p in ("fro", None, 2, 2.0):
        out = _ops.sqrt(_ops.sum(_ops.square(x), d, keepdim))
    elif p == 1:
        out = _ops.sum(_ops.abs(x), d, keepdim)
    elif p == math.inf:
        out = amax(_ops.abs(x), () if d is None else d, keepdim)
    elif p == -math.inf:
        out = amin(_ops.abs(x), () if d is None else d, keepdim)
    elif p == 0:
        return sum(_ops.astype(_ops.not_equal(x, 0), x._data.dtype), d, keepdim)
    elif isinstance(p, (int, float)):
        out = _ops.pow(_ops.sum(_ops.pow(_ops.abs(x), float(p)), d, keepdim), 1.0 / p)
    else:
        raise RuntimeError(f"norm(): p={p!r} is not supported by gradkit.torch (vector norms "
                           f"only: 'fro', 1, 2, inf, -inf, 0 or a number)")
    return named(out, "norm")


def all(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether every element (along `dim`) is non-zero."""
    return retag(_ops.all(tensor_of(input), dim_arg(dim), keepdim))


def any(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether any element (along `dim`) is non-zero."""
    return retag(_ops.any(tensor_of(input), dim_arg(dim), keepdim))


def count_nonzero(input: Any, dim: Any = None) -> Tensor:
    """The number of non-zero elements (along `dim`), int64."""
    x = tensor_of(input)
    return from_array(x._xp.asarray(x._xp.count_nonzero(x._data, axis=dim_arg(dim)),
                                    dtype=np.int64))


def cumsum(input: Any, dim: int, *, dtype: Any = None) -> Tensor:
    """The running sum along `dim`."""
    x = _as(tensor_of(input), dtype)
    return retag(_ops.cumsum(x, one_dim(dim, x.ndim, "cumsum")))


def softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`."""
    x = _as(tensor_of(input), dtype, integers_to_int64=False)
    return retag(_ops.softmax(x, _softmax_dim(x, dim, "softmax")))


def log_softmax(input: Any, dim: int | None = None, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along `dim`, computed stably."""
    x = _as(tensor_of(input), dtype, integers_to_int64=False)
    return retag(_ops.log_softmax(x, _softmax_dim(x, dim, "log_softmax")))


def _softmax_dim(x: _Native, dim: int | None, opname: str) -> int:
    if dim is None:  # PyTorch's legacy implicit choice (with a warning there)
        return 0 if x.ndim in (0, 1, 3) else 1
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{opname}: expected a floating tensor, got "
                           f"{to_torch_dtype(x._data.dtype)}")
    return one_dim(dim, x.ndim, opname)


register_differentiable("sum_dim", "mean_dim", "prod_dim", "norm", "std", "std_mean")
register_differentiable("var_mean", strict=False)  # var's own rule has recorded branches
