"""`tf.math`: elementwise maths and reductions with TensorFlow's names and dtype rules.

Differentiable functions run gradkit's ops; `round`, `floor`, `ceil` and the `is_*` tests
are not differentiable in TF either (their gradient is None), so they work on the arrays.
Reductions keep an integer input's dtype (TF: `reduce_sum` of int32 is int32, and
`reduce_mean` of ints divides as integers, toward zero).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import ops as gko
from ..tensor_base import TensorBase
from .missing import missing_attribute
from .ops import (  # noqa: F401 - tf.math has them too
    argmax,
    argmin,
    equal,
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    not_equal,
    operand,
    t_,
)
from .tensor import Tensor, from_array, retag


def _unary(fn: Callable[[Any], Any], name: str, doc: str) -> Callable[..., Tensor]:
    def op(x: Any, name: str | None = None) -> Tensor:
        return retag(fn(t_(x)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _binary(fn: Callable[[Any, Any], Any], name: str, doc: str) -> Callable[..., Tensor]:
    def op(x: Any, y: Any, name: str | None = None) -> Tensor:
        return retag(fn(operand(x), operand(y)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _raw(fn: Callable[[Any, Any], Any], name: str, doc: str) -> Callable[..., Tensor]:
    """A function TF does not differentiate: it works on the array of its input."""
    def op(x: Any, name: str | None = None) -> Tensor:
        t = t_(x)
        return from_array(fn(t._xp, t._data))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


exp = _unary(gko.exp, "exp", "e ** x.")
log = _unary(gko.log, "log", "Natural logarithm.")
sqrt = _unary(gko.sqrt, "sqrt", "Square root.")
square = _unary(gko.square, "square", "x ** 2.")
abs = _unary(gko.abs, "abs", "Absolute value.")  # noqa: A001 - TF's name
sin = _unary(gko.sin, "sin", "Sine.")
cos = _unary(gko.cos, "cos", "Cosine.")
tanh = _unary(gko.tanh, "tanh", "Hyperbolic tangent.")
sigmoid = _unary(gko.sigmoid, "sigmoid", "1 / (1 + exp(-x)).")
softplus = _unary(gko.softplus, "softplus", "log(1 + exp(x)).")
negative = _unary(gko.neg, "negative", "-x.")
sign = _unary(gko.sign, "sign", "-1, 0 or 1.")
reciprocal = _unary(gko.reciprocal, "reciprocal", "1 / x.")
log1p = _unary(lambda x: gko.log(1 + x), "log1p", "log(1 + x).")
expm1 = _unary(lambda x: gko.exp(x) - 1, "expm1", "exp(x) - 1.")
rsqrt = _unary(lambda x: gko.reciprocal(gko.sqrt(x)), "rsqrt", "1 / sqrt(x).")
log_sigmoid = _unary(lambda x: -gko.softplus(-x), "log_sigmoid", "log(sigmoid(x)), stable.")

round = _raw(lambda xp, x: xp.round(x), "round",  # noqa: A001 - TF's name
             "Round to the nearest integer, halves to even (TF's rule: 0.5 -> 0, 1.5 -> 2).")
floor = _raw(lambda xp, x: xp.floor(x), "floor", "Round down (not differentiable).")
ceil = _raw(lambda xp, x: xp.ceil(x), "ceil", "Round up (not differentiable).")
is_nan = _raw(lambda xp, x: xp.isnan(x), "is_nan", "Where x is NaN.")
is_inf = _raw(lambda xp, x: xp.isinf(x), "is_inf", "Where x is +-inf.")
is_finite = _raw(lambda xp, x: xp.isfinite(x), "is_finite", "Where x is finite.")

add = _binary(gko.add, "add", "x + y (broadcasting).")
subtract = _binary(gko.sub, "subtract", "x - y (broadcasting).")
multiply = _binary(gko.mul, "multiply", "x * y (broadcasting).")
divide = _binary(gko.div, "divide", "x / y (broadcasting).")
truediv = divide
pow = _binary(gko.pow, "pow", "x ** y (broadcasting).")  # noqa: A001 - TF's name
maximum = _binary(gko.maximum, "maximum", "The larger of x and y, elementwise.")
minimum = _binary(gko.minimum, "minimum", "The smaller of x and y, elementwise.")
squared_difference = _binary(lambda x, y: gko.square(gko.sub(x, y)), "squared_difference",
                             "(x - y) ** 2.")
floordiv = _binary(lambda x, y: x // y, "floordiv", "x // y (not differentiable).")
floormod = _binary(lambda x, y: x % y, "floormod", "x % y (not differentiable).")
mod = floormod


def add_n(inputs: Sequence[Any], name: str | None = None) -> Tensor:
    """The sum of a list of same-shaped tensors."""
    total = t_(inputs[0])
    for x in inputs[1:]:
        total = gko.add(total, t_(x))
    return retag(total)


def divide_no_nan(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x / y, and 0 where y is 0."""
    a, b = t_(x), t_(y)
    zero = gko.equal(b, 0)
    return retag(gko.where(zero, 0.0, gko.div(a, gko.where(zero, 1.0, b))))


# ---- reductions -----------------------------------------------------------------------------


def _axis(axis: Any) -> Any:
    if isinstance(axis, TensorBase):
        axis = axis.tolist()
    return tuple(int(a) for a in axis) if isinstance(axis, list | tuple) else axis


def _keep_int(out: Any, x: Any) -> Tensor:
    """An integer reduction's result in its input's dtype (TF keeps int32 as int32)."""
    if x._data.dtype.kind in "iub" and out._data.dtype != x._data.dtype:
        return from_array(out._data.astype(x._data.dtype))
    return retag(out)


def reduce_sum(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    """The sum over `axis` (all axes when None)."""
    x = t_(input_tensor)
    return _keep_int(gko.sum(x, _axis(axis), keepdims), x)


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                name: str | None = None) -> Tensor:
    """The mean over `axis`; of integers, an integer (divided toward zero, as TF)."""
    x = t_(input_tensor)
    if x._data.dtype.kind in "iu":
        total = gko.sum(x, _axis(axis), keepdims)._data
        count = x._data.size // builtins.max(total.size, 1) if x._data.size else 1
        xp = x._xp
        return from_array(xp.trunc(total / count).astype(x._data.dtype))
    return retag(gko.mean(x, _axis(axis), keepdims))


def reduce_max(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    """The largest value over `axis`."""
    return retag(gko.max(t_(input_tensor), _axis(axis), keepdims))


def reduce_min(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    """The smallest value over `axis`."""
    return retag(gko.min(t_(input_tensor), _axis(axis), keepdims))


def reduce_prod(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                name: str | None = None) -> Tensor:
    """The product over `axis`."""
    x = t_(input_tensor)
    return _keep_int(gko.prod(x, _axis(axis), keepdims), x)


def reduce_variance(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                    name: str | None = None) -> Tensor:
    """The (biased) variance over `axis`."""
    return retag(gko.var(t_(input_tensor), _axis(axis), keepdims))


def reduce_std(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    """The (biased) standard deviation over `axis`."""
    return retag(gko.std(t_(input_tensor), _axis(axis), keepdims))


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: bool = False,
                     name: str | None = None) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed stably."""
    return retag(gko.logsumexp(t_(input_tensor), _axis(axis), keepdims))


def reduce_any(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    """Whether any element over `axis` is true."""
    return retag(gko.any(t_(input_tensor), _axis(axis), keepdims))


def reduce_all(input_tensor: Any, axis: Any = None, keepdims: bool = False,
               name: str | None = None) -> Tensor:
    """Whether every element over `axis` is true."""
    return retag(gko.all(t_(input_tensor), _axis(axis), keepdims))


def count_nonzero(input: Any, axis: Any = None, keepdims: bool = False,
                  dtype: Any = np.int64, name: str | None = None) -> Tensor:
    """How many elements over `axis` are not zero (int64)."""
    x = t_(input)
    nz = x._xp.count_nonzero(x._data, axis=_axis(axis))
    if keepdims:
        nz = x._xp.asarray(nz).reshape(gko.sum(x, _axis(axis), keepdims=True).shape)
    return from_array(x._xp.asarray(nz).astype(dtype))


def cumsum(x: Any, axis: int = 0, exclusive: bool = False, reverse: bool = False,
           name: str | None = None) -> Tensor:
    """Running sums along `axis` (0 by default, as TF)."""
    if exclusive or reverse:
        raise NotImplementedError("tf.math.cumsum: exclusive= and reverse= are not in "
                                  "gradkit.tf; use gk.cumsum on a flipped or shifted tensor")
    return retag(gko.cumsum(t_(x), int(axis)))


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12,
                 name: str | None = None) -> Tensor:
    """x / sqrt(max(sum(x ** 2), epsilon)) over `axis`."""
    t = t_(x)
    norm2 = gko.sum(gko.square(t), _axis(axis), keepdims=True)
    return retag(t * gko.reciprocal(gko.sqrt(gko.maximum(norm2, epsilon))))


def __getattr__(name: str) -> Any:
    raise missing_attribute("tf.math", name)
