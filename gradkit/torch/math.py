"""Elementwise maths with PyTorch's names and arguments: add(alpha=), sub, mul, div
(rounding_mode=), pow, clamp/clip (numbers or tensors), round(decimals=), floor, ceil,
rsqrt, log1p, ..., comparisons and logic. Ops gradkit lacks are written here as gradkit ops
(one forward, one gradient rule that also runs recorded, for higher orders)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops as _ops
from ..autograd import register_differentiable
from ..backend.devices import xp_of
from ..ops.elementwise import _unary, erf_op
from ..tensor_base import TensorBase
from .common import tensor_of
from .tensor import Tensor, from_array, named, retag

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _zero(xp: Any, g: Any, x: Any, y: Any) -> Any:
    return g * 0


def _silu_grad(xp: Any, g: Any, x: Any) -> Any:
    s = 1 / (1 + xp.exp(-x))
    return g * s * (1 + x * (1 - s))


# ---- ops gradkit lacks: forward(xp, x) and grad(xp, g, x, y), as gradkit's own unary ops ---
_NEW = {
    "rsqrt": (lambda xp, x: 1 / xp.sqrt(x), lambda xp, g, x, y: g * (-0.5) * y * y * y),
    "floor": (lambda xp, x: xp.floor(x), _zero),
    "ceil": (lambda xp, x: xp.ceil(x), _zero),
    "round": (lambda xp, x: xp.round(x), _zero),
    "trunc": (lambda xp, x: xp.trunc(x), _zero),
    "frac": (lambda xp, x: x - xp.trunc(x), lambda xp, g, x, y: g),
    "log2": (lambda xp, x: xp.log2(x), lambda xp, g, x, y: g / (x * _LN2)),
    "log10": (lambda xp, x: xp.log10(x), lambda xp, g, x, y: g / (x * _LN10)),
    "log1p": (lambda xp, x: xp.log1p(x), lambda xp, g, x, y: g / (1 + x)),
    "expm1": (lambda xp, x: xp.expm1(x), lambda xp, g, x, y: g * (y + 1)),
    "exp2": (lambda xp, x: xp.exp2(x), lambda xp, g, x, y: g * y * _LN2),
    "tan": (lambda xp, x: xp.tan(x), lambda xp, g, x, y: g * (1 + y * y)),
    "atan": (lambda xp, x: xp.arctan(x), lambda xp, g, x, y: g / (1 + x * x)),
    "asin": (lambda xp, x: xp.arcsin(x), lambda xp, g, x, y: g / xp.sqrt(1 - x * x)),
    "acos": (lambda xp, x: xp.arccos(x), lambda xp, g, x, y: -g / xp.sqrt(1 - x * x)),
    "sinh": (lambda xp, x: xp.sinh(x), lambda xp, g, x, y: g * (xp.exp(x) + xp.exp(-x)) / 2),
    "cosh": (lambda xp, x: xp.cosh(x), lambda xp, g, x, y: g * (xp.exp(x) - xp.exp(-x)) / 2),
    "silu": (lambda xp, x: x / (1 + xp.exp(-x)), lambda xp, g, x, y: _silu_grad(xp, g, x)),
}
_OPS = {name: _unary(name, fwd, grad, f"PyTorch's torch.{name}.")
        for name, (fwd, grad) in _NEW.items()}
register_differentiable(*_NEW, "round_decimals", "rsub", "rdiv", "rpow", "pow_tensor",
                        "clamp_tensor",
                        "outer", "mm", "mv", "dot", "bmm")
_INTEGER_SAFE = {"floor", "ceil", "round", "trunc"}  # an identity on integer tensors


def _new_op(name: str) -> Any:
    op = _OPS[name]

    def fn(input: Any) -> Tensor:
        x = tensor_of(input)
        if name in _INTEGER_SAFE and x._data.dtype.kind in "biu":
            return from_array(x._data.copy())
        return retag(op(x))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"PyTorch's torch.{name} (differentiable, to any order)."
    return fn


rsqrt, floor, ceil, trunc, frac, log2, log10, log1p, expm1, exp2 = (
    _new_op(n) for n in ("rsqrt", "floor", "ceil", "trunc", "frac", "log2", "log10", "log1p",
                         "expm1", "exp2"))
tan, atan, asin, acos, sinh, cosh, silu = (
    _new_op(n) for n in ("tan", "atan", "asin", "acos", "sinh", "cosh", "silu"))
fix = trunc
arctan, arcsin, arccos = atan, asin, acos
_round = _new_op("round")


def round(input: Any, *, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Round half to even (to `decimals` places); its gradient is zero, as PyTorch's."""
    if decimals == 0:
        return _round(input)
    scale = 10.0 ** decimals
    return named(_ops.div(_round(_ops.mul(input, scale)), scale), "round_decimals")


# ---- gradkit's unary ops, PyTorch-named -------------------------------------------------------
_KEEPS_INTEGERS = {"abs": "abs", "sign": "sign", "relu": None, "square": "square"}


def _wrap(op: Any, name: str) -> Any:
    keeps = name in _KEEPS_INTEGERS

    def fn(input: Any) -> Tensor:
        if keeps and isinstance(input, TensorBase) and input._data.dtype.kind in "iu":
            return _integer(input._data, name)
        out: Any = op(input)
        out.__class__ = Tensor  # a fresh native result
        return out

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"PyTorch's torch.{name}."
    return fn


exp, log, sqrt, sin, cos, tanh, sigmoid, relu, abs, sign, neg, reciprocal, square = (  # noqa
    _wrap(getattr(_ops, n), n) for n in ("exp", "log", "sqrt", "sin", "cos", "tanh",
                                         "sigmoid", "relu", "abs", "sign", "neg",
                                         "reciprocal", "square"))
erf = _wrap(erf_op, "erf")


def _integer(d: Any, name: str) -> Tensor:
    """abs/sign/relu/square of an integer tensor: integers, as in PyTorch (no gradient)."""
    xp = xp_of(d)
    if name == "relu":
        return from_array(xp.maximum(d, 0))
    return from_array(getattr(xp, name)(d))
absolute, negative, sgn = abs, neg, sign


# ---- binary arithmetic ------------------------------------------------------------------------
def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """input + alpha * other."""
    out: Any = _ops.add(input, other if alpha == 1 else _ops.mul(other, alpha))
    out.__class__ = Tensor  # a fresh native result
    return out


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """input - alpha * other."""
    return retag(_ops.sub(input, other if alpha == 1 else _ops.mul(other, alpha)))


def rsub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """other - alpha * input."""
    return named(_ops.sub(other, input if alpha == 1 else _ops.mul(input, alpha)), "rsub")


def mul(input: Any, other: Any) -> Tensor:
    """input * other."""
    out: Any = _ops.mul(input, other)
    out.__class__ = Tensor  # a fresh native result
    return out


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """input / other (true division; `rounding_mode='trunc'|'floor'` rounds the quotient)."""
    if rounding_mode is None:
        return retag(_ops.div(input, other))
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div(): rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    a, b = tensor_of(input), tensor_of(other)
    if a._data.dtype.kind in "biu" and b._data.dtype.kind in "biu":
        xp = a._xp
        q = xp.floor_divide(a._data, b._data) if rounding_mode == "floor" else \
            (xp.trunc(a._data / b._data)).astype(np.result_type(a._data, b._data))
        return from_array(q)
    q = _ops.div(a, b)
    return floor(q) if rounding_mode == "floor" else trunc(q)


multiply, divide, true_divide, subtract = mul, div, div, sub


def floor_divide(input: Any, other: Any) -> Tensor:
    """input // other, rounded toward minus infinity (not differentiable)."""
    return retag(_ops.floor_divide(input, other))


def remainder(input: Any, other: Any) -> Tensor:
    """Python's modulus (the sign of `other`); not differentiable."""
    return retag(_ops.remainder(input, other))


def fmod(input: Any, other: Any) -> Tensor:
    """C's remainder (the sign of `input`); not differentiable."""
    a = tensor_of(input)
    b = other._data if isinstance(other, TensorBase) else other
    return from_array(a._xp.fmod(a._data, b))


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """input ** exponent (either may be a number)."""
    if not isinstance(input, TensorBase):
        return named(_ops.pow(input, exponent), "rpow")
    out = _ops.pow(input, exponent)
    return named(out, "pow_tensor") if isinstance(exponent, TensorBase) else retag(out)


float_power = pow


def clamp(input: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Values limited to [min, max] (numbers or tensors; either may be None); the gradient
    passes where min <= x <= max."""
    if min is None and max is None:
        raise RuntimeError("clamp(): At least one of 'min' or 'max' must not be None")
    if not isinstance(min, TensorBase) and not isinstance(max, TensorBase):
        return retag(_ops.clip(input, min, max))
    out: Any = tensor_of(input)
    if min is not None:
        out = _ops.where(_ops.less(out, min)._data, _ops.astype(min, out._data.dtype)
                         if isinstance(min, TensorBase) else min, out)
    if max is not None:
        out = _ops.where(_ops.greater(out, max)._data, _ops.astype(max, out._data.dtype)
                         if isinstance(max, TensorBase) else max, out)
    return named(out, "clamp_tensor")


clip = clamp


def lerp(input: Any, end: Any, weight: Any) -> Tensor:
    """input + weight * (end - input)."""
    return retag(_ops.add(input, _ops.mul(weight, _ops.sub(end, input))))


# ---- linear algebra ----------------------------------------------------------------------------
def mm(input: Any, mat2: Any) -> Tensor:
    """The product of two matrices (2-D only)."""
    a, b = tensor_of(input), tensor_of(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm(): expected 2-D tensors, got {a.ndim}-D and {b.ndim}-D")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mm(): mat1 and mat2 shapes cannot be multiplied "
                           f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    return named(_ops.matmul(a, b), "mm")


def bmm(input: Any, mat2: Any) -> Tensor:
    """Batched matrix products of two 3-D tensors."""
    a, b = tensor_of(input), tensor_of(mat2)
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm(): expected 3-D tensors, got {a.ndim}-D and {b.ndim}-D")
    return named(_ops.matmul(a, b), "bmm")


def mv(input: Any, vec: Any) -> Tensor:
    """A matrix times a vector."""
    a, v = tensor_of(input), tensor_of(vec)
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv(): expected a 2-D and a 1-D tensor, got {a.ndim}-D and "
                           f"{v.ndim}-D")
    return named(_ops.matmul(a, v), "mv")


def dot(input: Any, other: Any) -> Tensor:
    """The dot product of two 1-D tensors."""
    a, b = tensor_of(input), tensor_of(other)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot(): 1D tensors expected, but got {a.ndim}D and {b.ndim}D "
                           f"tensors")
    return named(_ops.matmul(a, b), "dot")


def outer(input: Any, vec2: Any) -> Tensor:
    """The outer product of two 1-D tensors."""
    a, b = tensor_of(input), tensor_of(vec2)
    return named(_ops.mul(_ops.reshape(a, -1, 1), _ops.reshape(b, 1, -1)), "outer")


ger = outer


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation (operands as arguments or one list)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return retag(_ops.einsum(equation, *operands))
