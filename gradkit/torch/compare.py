"""Comparisons and logic: eq/ne/lt/le/gt/ge (bool tensors, never differentiable), equal,
allclose, isclose, isnan/isinf/isfinite, logical_and/or/xor/not, with PyTorch's names."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops as _ops
from ..tensor_base import TensorBase
from .common import tensor_of
from .tensor import Tensor, from_array, retag

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal",
           "less_equal", "not_equal", "equal", "allclose", "isclose", "isnan", "isinf",
           "isfinite", "logical_and", "logical_or", "logical_xor", "logical_not"]


def eq(input: Any, other: Any) -> Tensor:
    """input == other, elementwise."""
    return retag(_ops.equal(input, other))


def ne(input: Any, other: Any) -> Tensor:
    """input != other, elementwise."""
    return retag(_ops.not_equal(input, other))


def lt(input: Any, other: Any) -> Tensor:
    """input < other, elementwise."""
    return retag(_ops.less(input, other))


def le(input: Any, other: Any) -> Tensor:
    """input <= other, elementwise."""
    return retag(_ops.less_equal(input, other))


def gt(input: Any, other: Any) -> Tensor:
    """input > other, elementwise."""
    return retag(_ops.greater(input, other))


def ge(input: Any, other: Any) -> Tensor:
    """input >= other, elementwise."""
    return retag(_ops.greater_equal(input, other))


greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne


def equal(input: Any, other: Any) -> bool:
    """True when both have the same shape and the same values."""
    a, b = tensor_of(input), tensor_of(other)
    if a.shape != b.shape:
        return False
    return bool((a._data == b._data).all())


def _data(x: Any) -> Any:
    return x._data if isinstance(x, TensorBase) else x


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other|, elementwise."""
    a = tensor_of(input)
    return from_array(a._xp.isclose(a._data, _data(other), rtol=rtol, atol=atol,
                                    equal_nan=equal_nan))


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether every element `isclose`."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def isnan(input: Any) -> Tensor:
    """Where the values are NaN."""
    x = tensor_of(input)
    return from_array(x._xp.isnan(x._data))


def isinf(input: Any) -> Tensor:
    """Where the values are +-inf."""
    x = tensor_of(input)
    return from_array(x._xp.isinf(x._data))


def isfinite(input: Any) -> Tensor:
    """Where the values are finite."""
    x = tensor_of(input)
    return from_array(x._xp.isfinite(x._data))


def logical_and(input: Any, other: Any) -> Tensor:
    """Elementwise and of the truth values."""
    return retag(_ops.logical_and(_bools(input), _bools(other)))


def logical_or(input: Any, other: Any) -> Tensor:
    """Elementwise or of the truth values."""
    return retag(_ops.logical_or(_bools(input), _bools(other)))


def logical_xor(input: Any, other: Any) -> Tensor:
    """Elementwise exclusive or of the truth values."""
    return retag(_ops.logical_xor(_bools(input), _bools(other)))


def logical_not(input: Any) -> Tensor:
    """Elementwise not of the truth values."""
    x = tensor_of(input)
    return from_array(x._xp.logical_not(x._data))


def _bools(x: Any) -> Any:
    d = _data(x)
    return from_array(d != 0) if getattr(d, "dtype", None) is not None and d.dtype != \
        np.bool_ else x
