"""Comparisons and logic: never differentiable (a mask only stays in a recorded rule's graph)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import IN_RULE, register_differentiable
from ..tensor import Tensor, _make
from ._util import operands
from .elementwise import _broadcast_failed

if TYPE_CHECKING:
    from ..tensor_base import TensorLike


# ---- comparisons and logic (never differentiable) -------------------------------------------


def _zero_vjp(a: Tensor, b: Tensor) -> Callable[[Any], tuple]:
    """A comparison's gradient: zeros for each operand (nothing flows through a mask)."""
    def vjp(g: Any) -> tuple:
        zeros = [None if not t.requires_grad else t._xp.zeros_like(t._data) for t in (a, b)]
        if isinstance(g, Tensor):  # a recorded pass: constants
            return tuple(None if z is None else Tensor._wrap(z) for z in zeros)
        return tuple(zeros)
    return vjp


def _compare(name: str,
             fn: Callable[[Any, Any], Any]) -> Callable[[TensorLike, TensorLike], Tensor]:
    def op(a: TensorLike, b: TensorLike) -> Tensor:
        a, b = operands(a, b, name)
        try:
            out = fn(a._data, b._data)
        except ValueError:
            raise _broadcast_failed(name, a, b) from None
        if isinstance(out, np.generic):
            out = np.asarray(out)
        if IN_RULE[0] and (a.requires_grad or b.requires_grad):
            return _make(out, (a, b), _zero_vjp(a, b), name)  # a mask in a recorded rule
        return Tensor._wrap(out)

    op.__name__ = name
    return op


less = _compare("less", lambda x, y: x < y)
less_equal = _compare("less_equal", lambda x, y: x <= y)
greater = _compare("greater", lambda x, y: x > y)
greater_equal = _compare("greater_equal", lambda x, y: x >= y)
equal = _compare("equal", lambda x, y: x == y)
not_equal = _compare("not_equal", lambda x, y: x != y)
logical_and = _compare("logical_and", lambda x, y: x & y)
logical_or = _compare("logical_or", lambda x, y: x | y)
logical_xor = _compare("logical_xor", lambda x, y: x ^ y)
floor_divide = _compare("floor_divide", lambda x, y: x // y)
register_differentiable("less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
                        "logical_and", "logical_or", "logical_xor", "floor_divide")
remainder = _compare("remainder", lambda x, y: x % y)
