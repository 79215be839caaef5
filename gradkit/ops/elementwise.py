"""Elementwise ops: each forward with its gradient rule beside it (on raw arrays)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import register_differentiable
from ..backend.devices import to_device
from ..errors import DTypeError
from ..tensor import Tensor, _make, as_tensor
from ._util import _check_devices, float_tensor, operands, shape_error

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from ..backend.devices import DeviceLike
    from ..tensor_base import TensorLike

# ---- binary arithmetic -------------------------------------------------------------------


def _broadcast_failed(opname: str, a: Tensor, b: Tensor) -> Exception:
    return shape_error(opname, a.shape, b.shape, detail="they do not broadcast")


def add(a: TensorLike, b: TensorLike) -> Tensor:
    """a + b (broadcasting)."""
    a, b = operands(a, b, "add")
    try:
        out = a._data + b._data
    except ValueError:
        raise _broadcast_failed("add", a, b) from None
    return _make(out, (a, b), lambda g: (g, g), "add")


def sub(a: TensorLike, b: TensorLike) -> Tensor:
    """a - b (broadcasting)."""
    a, b = operands(a, b, "sub")
    try:
        out = a._data - b._data
    except ValueError:
        raise _broadcast_failed("sub", a, b) from None
    return _make(out, (a, b), lambda g: (g, -g if b.requires_grad else None), "sub")


def mul(a: TensorLike, b: TensorLike) -> Tensor:
    """a * b (broadcasting)."""
    a, b = operands(a, b, "mul")
    x, y = a._data, b._data
    try:
        out = x * y
    except ValueError:
        raise _broadcast_failed("mul", a, b) from None

    def vjp(g):
        return (g * y if a.requires_grad else None, g * x if b.requires_grad else None)

    return _make(out, (a, b), vjp, "mul")


def div(a: TensorLike, b: TensorLike) -> Tensor:
    """a / b (true division; integer operands give float32)."""
    a, b = operands(a, b, "div")
    if a._data.dtype.kind != "f":
        a, b = float_tensor(a, "div"), float_tensor(b, "div")
    x, y = a._data, b._data
    try:
        out = x / y
    except ValueError:
        raise _broadcast_failed("div", a, b) from None

    def vjp(g):
        ga = g / y
        return (ga if a.requires_grad else None, -ga * out if b.requires_grad else None)

    return _make(out, (a, b), vjp, "div")


def pow(a: TensorLike, b: TensorLike) -> Tensor:  # noqa: A001 - NumPy's name
    """a ** b (broadcasting)."""
    if isinstance(b, (int, float)) and isinstance(a, Tensor):
        return _pow_scalar(float_tensor(a, "pow") if isinstance(b, float) else a, b)
    a, b = operands(a, b, "pow")
    x, y = a._data, b._data
    xp = a._xp
    try:
        out = x**y
    except ValueError:
        raise _broadcast_failed("pow", a, b) from None

    def vjp(g):
        ga = g * y * x ** (y - 1) if a.requires_grad else None
        gb = None
        if b.requires_grad:
            safe = xp.where(x > 0, x, 1)
            gb = g * out * xp.log(safe)
        return ga, gb

    return _make(out, (a, b), vjp, "pow")


def _pow_scalar(a: Tensor, p: float) -> Tensor:
    x = a._data
    out = x * x if p == 2 else x**p

    def vjp(g):
        if p == 2:
            return (g * (2 * x),)
        return (g * (p * x ** (p - 1)),)

    return _make(out, (a,), vjp, "pow")


def maximum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise maximum; a tie sends half the gradient to each side."""
    return _minmax(a, b, "maximum")


def minimum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise minimum; a tie sends half the gradient to each side."""
    return _minmax(a, b, "minimum")


def _minmax(a: TensorLike, b: TensorLike, name: str) -> Tensor:
    a, b = operands(a, b, name)
    x, y = a._data, b._data
    xp = a._xp
    try:
        out = getattr(xp, name)(x, y)
    except ValueError:
        raise _broadcast_failed(name, a, b) from None

    def vjp(g):
        wa = (x > y) if name == "maximum" else (x < y)
        w = wa + 0.5 * (x == y)
        w = w.astype(g.dtype)
        return (g * w if a.requires_grad else None, g * (1 - w) if b.requires_grad else None)

    return _make(out, (a, b), vjp, name)


def where(cond: TensorLike, a: TensorLike, b: TensorLike) -> Tensor:
    """Choose from `a` where `cond` is true, else from `b` (broadcasting)."""
    a, b = operands(a, b, "where")
    if isinstance(cond, Tensor):
        _check_devices(cond, a, "where")
        c = cond._data
    else:
        c = a._xp.asarray(cond)
    if c.dtype != bool:
        raise DTypeError(f"where: the condition must be a bool tensor, got {c.dtype}")
    xp = a._xp
    try:
        out = xp.where(c, a._data, b._data)
    except ValueError:
        raise shape_error("where", c.shape, a.shape, b.shape) from None

    def vjp(g):
        zero = g.dtype.type(0)
        return (
            xp.where(c, g, zero) if a.requires_grad else None,
            xp.where(c, zero, g) if b.requires_grad else None,
        )

    if isinstance(cond, Tensor) and cond.requires_grad:  # a recorded rule's mask (IN_RULE)
        return _make(out, (a, b, cond), lambda g: (*vjp(g), g * 0), "where")
    return _make(out, (a, b), vjp, "where")


def clip(x: TensorLike, lo: float | None = None, hi: float | None = None) -> Tensor:
    """Limit values to [lo, hi] (either may be None); gradient passes inside the range."""
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi")
    x = as_tensor(x)
    d = x._data
    xp = x._xp
    out = xp.clip(d, lo, hi)

    def vjp(g):
        d = x._data  # raw even when recorded: clip's mask is a constant (as in PyTorch)
        inside = (d >= lo) if lo is not None else None
        if hi is not None:
            inside = (d <= hi) if inside is None else inside & (d <= hi)
        return (g * inside,)

    return _make(out, (x,), vjp, "clip")


def neg(x: TensorLike) -> Tensor:
    """-x."""
    x = as_tensor(x)
    return _make(-x._data, (x,), lambda g: (-g,), "neg")


# ---- unary maths, one line of gradient each ---------------------------------------------


def _unary(name: str, forward: Callable[..., Any], grad: Callable[..., Any],
           doc: str) -> Callable[[TensorLike], Tensor]:
    """Build a differentiable unary op from `forward(xp, x)` and `grad(xp, g, x, out)`."""

    def op(x: TensorLike) -> Tensor:
        x = float_tensor(x, name)
        d = x._data
        xp = x._xp
        out = forward(xp, d)
        return _make(out, (x,), lambda g: (grad(xp, g, d, out),), name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


_SQRT_2PI = math.sqrt(2 * math.pi)


_special: dict[str, Any] = {}


def _erf_impl(xp: Any) -> Any:
    """The best erf at hand: SciPy/CuPy's when installed, else a NumPy fallback."""
    key = xp.__name__
    if key not in _special:
        try:
            if xp is np:
                from scipy.special import erf as impl
            else:  # pragma: no cover - needs a GPU
                from cupyx.scipy.special import erf as impl
        except ImportError:
            impl = None
        _special[key] = impl
    return _special[key]


_math_erf = np.frompyfunc(math.erf, 1, 1)


def erf(xp: Any, x: Any) -> Any:
    """The error function elementwise, in any namespace.

    Uses SciPy (or CuPy) when available. Without SciPy, float64 goes through `math.erf`
    (exact) and float32 through Numerical Recipes' Chebyshev fit (|error| < 1.2e-7).
    """
    if hasattr(xp, "erf"):  # the recorded namespace: the differentiable op
        return xp.erf(x)
    impl = _erf_impl(xp)
    if impl is not None:
        return impl(x)
    if x.dtype == np.float64 and xp is np:
        return _math_erf(x).astype(np.float64)
    z = xp.abs(x).astype(np.float64)  # float64 inside: 1 - erfc cancels near 0
    t = 1 / (1 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    return (xp.sign(x) * (1 - t * xp.exp(-z * z + poly))).astype(x.dtype)


def _gelu(xp: Any, x: Any) -> Any:
    return 0.5 * x * (1 + erf(xp, x / math.sqrt(2)))


def _gelu_grad(xp: Any, g: Any, x: Any, out: Any) -> Any:
    cdf = 0.5 * (1 + erf(xp, x / math.sqrt(2)))
    return g * (cdf + x * xp.exp(-0.5 * x * x) / _SQRT_2PI)


def _softplus(xp: Any, x: Any) -> Any:
    return xp.logaddexp(0, x).astype(x.dtype, copy=False)


def _sigmoid(xp: Any, x: Any) -> Any:
    return 0.5 * xp.tanh(0.5 * x) + 0.5


exp = _unary("exp", lambda xp, x: xp.exp(x), lambda xp, g, x, y: g * y, "e ** x")
log = _unary("log", lambda xp, x: xp.log(x), lambda xp, g, x, y: g / x, "Natural logarithm.")
sqrt = _unary("sqrt", lambda xp, x: xp.sqrt(x), lambda xp, g, x, y: g / (2 * y), "Square root.")
sin = _unary("sin", lambda xp, x: xp.sin(x), lambda xp, g, x, y: g * xp.cos(x), "Sine.")
cos = _unary("cos", lambda xp, x: xp.cos(x), lambda xp, g, x, y: -g * xp.sin(x), "Cosine.")
tanh = _unary("tanh", lambda xp, x: xp.tanh(x), lambda xp, g, x, y: g * (1 - y * y), "tanh.")
square = _unary("square", lambda xp, x: x * x, lambda xp, g, x, y: g * (2 * x), "x ** 2")
reciprocal = _unary(
    "reciprocal", lambda xp, x: 1 / x, lambda xp, g, x, y: -g * y * y, "1 / x"
)
abs = _unary(  # noqa: A001 - NumPy's name
    "abs", lambda xp, x: xp.abs(x), lambda xp, g, x, y: g * xp.sign(x), "|x|"
)
sign = _unary("sign", lambda xp, x: xp.sign(x), lambda xp, g, x, y: g * 0, "Sign (-1, 0, 1).")
sigmoid = _unary(
    "sigmoid", _sigmoid, lambda xp, g, x, y: g * y * (1 - y), "1 / (1 + exp(-x)), stable."
)
relu = _unary(
    "relu", lambda xp, x: xp.maximum(x, 0), lambda xp, g, x, y: g * (x > 0), "max(x, 0)"
)
gelu = _unary("gelu", _gelu, _gelu_grad, "x * Phi(x) (exact, erf-based, like PyTorch).")
softplus = _unary(
    "softplus", _softplus, lambda xp, g, x, y: g * _sigmoid(xp, x), "log(1 + exp(x)), stable."
)


def leaky_relu(x: TensorLike, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    x = float_tensor(x, "leaky_relu")
    d = x._data
    pos = d > 0
    xp = x._xp
    out = xp.where(pos, d, d * negative_slope)

    def vjp(g: Any) -> tuple:
        mask = d > 0 if isinstance(d, Tensor) else pos  # recorded: the mask stays connected
        return (xp.where(mask, g, g * negative_slope),)

    return _make(out, (x,), vjp, "leaky_relu")


def elu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1)."""
    x = float_tensor(x, "elu")
    d = x._data
    xp = x._xp
    pos = d > 0
    out = xp.where(pos, d, alpha * xp.expm1(xp.minimum(d, 0)))
    return _make(out, (x,), lambda g: (xp.where(pos, g, g * (out + alpha)),), "elu")


erf_op = _unary(
    "erf", erf, lambda xp, g, x, y: g * (2 / math.sqrt(math.pi)) * xp.exp(-x * x),
    "The error function (differentiable).")

register_differentiable(
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "where", "clip", "neg", "exp",
    "log", "sqrt", "sin", "cos", "tanh", "square", "reciprocal", "abs", "sign", "sigmoid",
    "relu", "gelu", "softplus", "erf", "leaky_relu", "elu", "astype", "to")

# ---- dtype and device moves ---------------------------------------------------------------


def astype(x: TensorLike, dtype: DTypeLike) -> Tensor:
    """A copy with another dtype; differentiable between floating dtypes."""
    x = as_tensor(x)
    dtype = np.dtype(dtype)
    out = x._data.astype(dtype)
    if dtype.kind != "f" or x._data.dtype.kind != "f":
        return Tensor._wrap(out)
    src = x._data.dtype
    return _make(out, (x,), lambda g: (g.astype(src),), "astype")


def to_device_op(x: Tensor, device: DeviceLike) -> Tensor:
    """`x` moved to `device`; gradients flow back to the source device."""
    out = to_device(x._data, device)
    if out is x._data:
        return x
    src = x.device

    def vjp(g):
        return (g.to(src) if isinstance(g, Tensor) else to_device(g, src),)

    return _make(out, (x,), vjp, "to")
