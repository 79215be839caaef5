"""In-place methods (`add_(other, alpha=)`, `mul_`, `zero_`, `fill_`, `copy_`, `clamp_`,
`uniform_`, `masked_fill_`, ..., `t[i] = v`, `+=`) with PyTorch's rules.

- Outside the graph (under `torch.no_grad()`, on `.data`, on `.grad`, or on tensors that
  need no gradient) the result is written into the tensor's storage, in the tensor's dtype
  (a float result into an integer tensor raises, as in PyTorch); views see the change.
- A leaf that requires grad refuses while grad mode is on (PyTorch's error).
- Any other tensor in the graph (a non-leaf, or one meeting a tensor that requires grad) is
  changed the recorded way: the op runs on the old value and the tensor *becomes* its
  result (new storage), so gradients flow through the change. Ops recorded earlier that
  used the old value raise at `backward` (the version counter), as PyTorch may.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops as _ops
from ..autograd import GRAD_MODE, WRITES, VersionCounter, register_differentiable
from ..errors import AutogradError
from ..ops.indexing import _raw_index
from ..ops.indexing import scatter as _scatter
from ..tensor import Tensor as _Native
from ..tensor_base import TensorBase, bump_version
from ..tensor_base import _operand_data as _operand
from . import indexing, math, random
from .dtypes import default_float

_WORDS = {"float64": "Double", "float32": "Float", "float16": "Half", "int64": "Long",
          "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _word(d: np.dtype) -> str:
    return _WORDS.get(d.name, d.name)


def _in_graph(self: Any, others: tuple[Any, ...]) -> bool:
    if not GRAD_MODE.enabled:
        return False
    return bool(self.requires_grad) or any(isinstance(o, TensorBase) and o.requires_grad
                                           for o in others)


def _cast_error(src: np.dtype, dst: np.dtype) -> RuntimeError:
    return RuntimeError(f"result type {_word(src)} can't be cast to the desired output type "
                        f"{_word(dst)}")


def _store(self: Any, arr: Any, name: str, unsafe: bool = False) -> Any:
    """Write `arr` into self's storage (broadcast; cast as PyTorch allows)."""
    d = self._data
    if not unsafe and not np.can_cast(arr.dtype, d.dtype, "same_kind"):
        raise _cast_error(arr.dtype, d.dtype)
    try:
        shape = np.broadcast_shapes(np.shape(arr), d.shape)
    except ValueError:
        shape = None
    if shape != d.shape:
        raise RuntimeError(f"{name}: output with shape {list(d.shape)} doesn't match the "
                           f"broadcast shape {list(np.shape(arr))}")
    d[...] = arr
    bump_version(self)
    return self


def _old_role(self: Any) -> _Native:
    """A new native tensor taking self's place in the graph, with self's old storage."""
    old = object.__new__(_Native)
    old._data, old.grad, old.requires_grad = self._data, None, self.requires_grad
    old._parents, old._vjp, old._op, old._saved = self._parents, self._vjp, self._op, \
        self._saved
    old._ver = None
    return old


def _rebase(self: Any, res: Any, name: str) -> Any:
    """Make `self` the recorded result `res` (its dtype and shape kept)."""
    if tuple(res.shape) != tuple(self._data.shape):
        raise RuntimeError(f"{name}: output with shape {list(self._data.shape)} doesn't "
                           f"match the broadcast shape {list(res.shape)}")
    if res._data.dtype != self._data.dtype:
        if not np.can_cast(res._data.dtype, self._data.dtype, "same_kind"):
            raise _cast_error(res._data.dtype, self._data.dtype)
        res = _ops.astype(res, self._data.dtype)
    self._ver = VersionCounter()  # new storage: views of the old one are not written
    bump_version(self)  # what used the old value (not redirected) is refused at backward
    self._data, self._parents, self._vjp, self._op = res._data, res._parents, res._vjp, \
        res._op
    self.requires_grad, self._saved = res.requires_grad, WRITES.n
    return self


def apply(self: Any, name: str, fn: Callable[..., Any], *others: Any,
          unsafe: bool = False) -> Any:
    """`self = fn(self, *others)` in place, by PyTorch's rules (see the module's doc)."""
    if not _in_graph(self, others):
        out = fn(self, *others)
        return _store(self, out._data if isinstance(out, TensorBase) else out, name, unsafe)
    if self._vjp is None and self.requires_grad:
        raise AutogradError(
            f"{name}: a leaf Variable that requires grad is being used in an in-place "
            f"operation. Change it under torch.no_grad() (or change .data)")
    old = _old_role(self)
    others = tuple(old if o is self else o for o in others)
    _redirect(others, self, old)
    return _rebase(self, fn(old, *others), name)


def _redirect(others: tuple[Any, ...], self: Any, old: Any) -> None:
    """Point the ops that made `others` from self's old value (`t[0] = t[0] * 3`) at `old`,
    which keeps that value; only ops recorded after self are searched."""
    since = self._saved if self._saved is not None else -1
    stack = [o for o in others if isinstance(o, TensorBase) and o._vjp is not None]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen or node._saved is None or node._saved < since:
            continue
        seen.add(id(node))
        if any(p is self for p in node._parents):
            node._parents = tuple(old if p is self else p for p in node._parents)
        stack.extend(p for p in node._parents if p._vjp is not None and p is not old)


def _ufunc_inplace(self: Any, other: Any, ufunc: Any, name: str) -> Any:
    """The fast path of add_/sub_/mul_/div_ outside the graph: one NumPy call with out=."""
    o = _operand(other, self, name)
    try:
        ufunc(self._data, o, out=self._data, casting="same_kind")
    except TypeError:
        src = default_float() if isinstance(o, float) else np.result_type(self._data, o)
        raise _cast_error(np.dtype(src), self._data.dtype) from None
    except ValueError:
        raise RuntimeError(f"{name}: output with shape {list(self._data.shape)} doesn't "
                           f"match the broadcast shape {list(np.shape(o))}") from None
    bump_version(self)
    return self


def _scaled(other: Any, alpha: Any) -> Any:
    return other if alpha == 1 else _ops.mul(other, alpha)


def add_(self: Any, other: Any, *, alpha: Any = 1) -> Any:
    """self += alpha * other."""
    if not _in_graph(self, (other,)):
        o = other._data if isinstance(other, TensorBase) else other
        return _ufunc_inplace(self, o if alpha == 1 else o * alpha, self._xp.add, "add_")
    return apply(self, "add_", lambda x, o: _ops.add(x, _scaled(o, alpha)), other)


def sub_(self: Any, other: Any, *, alpha: Any = 1) -> Any:
    """self -= alpha * other."""
    if not _in_graph(self, (other,)):
        o = other._data if isinstance(other, TensorBase) else other
        return _ufunc_inplace(self, o if alpha == 1 else o * alpha, self._xp.subtract,
                              "sub_")
    return apply(self, "sub_", lambda x, o: _ops.sub(x, _scaled(o, alpha)), other)


def mul_(self: Any, other: Any) -> Any:
    """self *= other."""
    if not _in_graph(self, (other,)):
        return _ufunc_inplace(self, other, self._xp.multiply, "mul_")
    return apply(self, "mul_", _ops.mul, other)


def div_(self: Any, other: Any, *, rounding_mode: str | None = None) -> Any:
    """self /= other (`rounding_mode` as in torch.div)."""
    if rounding_mode is None and not _in_graph(self, (other,)):
        return _ufunc_inplace(self, other, self._xp.true_divide, "div_")
    return apply(self, "div_", lambda x, o: math.div(x, o, rounding_mode=rounding_mode),
                 other)


def _unary_(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return apply(self, name, lambda x: fn(x, *args, **kwargs))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In place: self = {name[:-1]}(self, ...)."
    return method


INPLACE_UNARY = {name + "_": _unary_(name + "_", getattr(math, name)) for name in (
    "exp", "log", "sqrt", "rsqrt", "abs", "neg", "sigmoid", "tanh", "relu", "floor", "ceil",
    "round", "trunc", "sign", "reciprocal", "sin", "cos", "square", "log1p", "expm1", "pow",
    "clamp", "clip", "fmod", "remainder", "lerp")}


def zero_(self: Any) -> Any:
    """Set every element to zero."""
    if not _in_graph(self, ()):
        self._data[...] = 0
        bump_version(self)
        return self
    return apply(self, "zero_", lambda x: _Native._wrap(x._xp.zeros_like(x._data)))


def fill_(self: Any, value: Any) -> Any:
    """Set every element to `value` (a number or a 0-d tensor)."""
    if not _in_graph(self, (value,)):
        self._data[...] = value._data if isinstance(value, TensorBase) else value
        bump_version(self)
        return self
    return apply(self, "fill_", lambda x, v: _ops.broadcast_to(_ops.astype(v, x._data.dtype),
                                                               x.shape), value)


def copy_(self: Any, src: Any, non_blocking: bool = False) -> Any:
    """Copy `src`'s values (broadcast, any dtype) into this tensor."""
    if not isinstance(src, TensorBase):
        src = _Native(src) if not isinstance(src, np.ndarray) else _Native._wrap(src)
    return apply(self, "copy_", lambda x, s: _ops.broadcast_to(
        _ops.to_device_op(_ops.astype(s, x._data.dtype), x.device), x.shape), src,
        unsafe=True)


def uniform_(self: Any, *args: Any, generator: Any = None, **kwargs: Any) -> Any:
    """Fill with uniform samples in [from, to) (`uniform_(-0.1, 0.1)`)."""
    low = kwargs.get("from", kwargs.get("a", args[0] if args else 0.0))
    high = kwargs.get("to", kwargs.get("b", args[1] if len(args) > 1 else 1.0))
    return apply(self, "uniform_", lambda x: random.uniform_array(x, low, high, generator))


def normal_(self: Any, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Any:
    """Fill with normal samples."""
    return apply(self, "normal_", lambda x: random.normal_array(x, mean, std, generator))


def bernoulli_(self: Any, p: float = 0.5, *, generator: Any = None) -> Any:
    """Fill with 1 (probability `p`) or 0."""
    return apply(self, "bernoulli_", lambda x: (random.uniform_array(
        x, 0.0, 1.0, generator) < p).astype(x._data.dtype))


def masked_fill_(self: Any, mask: Any, value: Any) -> Any:
    """Set the elements where `mask` is True to `value`."""
    return apply(self, "masked_fill_", lambda x: indexing.masked_fill(x, mask, value))


def scatter_(self: Any, dim: int, index: Any, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Any:
    """In place `torch.scatter`."""
    return apply(self, "scatter_", lambda x: indexing.scatter(x, dim, index, src, value=value,
                                                              reduce=reduce))


def scatter_add_(self: Any, dim: int, index: Any, src: Any) -> Any:
    """In place `torch.scatter_add`."""
    return apply(self, "scatter_add_", lambda x, s: indexing.scatter_add(x, dim, index, s),
                 src)


def addcmul_(self: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
    """self += value * tensor1 * tensor2."""
    return add_(self, _ops.mul(tensor1, tensor2), alpha=value)


def addcdiv_(self: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
    """self += value * tensor1 / tensor2."""
    return add_(self, _ops.div(tensor1, tensor2), alpha=value)


def _put(x: Any, index: Any, value: Any) -> Any:
    """x with `value` written at `index`, as recorded ops (the gradient reaches both)."""
    idx = _raw_index(index, x)
    mask = x._xp.zeros(x.shape, dtype=bool)
    mask[idx] = True
    v = value if isinstance(value, TensorBase) else _Native._wrap(x._xp.asarray(value))
    v = v if v._data.dtype == x._data.dtype else _ops.astype(v, x._data.dtype)
    placed = _scatter(_ops.broadcast_to(v, x._data[idx].shape), x.shape, idx)
    out = _ops.where(mask, placed, x)
    if out._vjp is not None:
        out._op = "setitem"
    return out


def setitem(self: Any, index: Any, value: Any) -> None:
    """`t[index] = value` (PyTorch's rules, see the module's doc)."""
    if not _in_graph(self, (value,)):
        TensorBase.__setitem__(self, index, value)
        return
    apply(self, "setitem", lambda x, v: _put(x, index, v), value, unsafe=True)


def iadd(self: Any, other: Any) -> Any:
    """`self += other` (add_)."""
    return add_(self, other)


def isub(self: Any, other: Any) -> Any:
    """`self -= other` (sub_)."""
    return sub_(self, other)


def imul(self: Any, other: Any) -> Any:
    """`self *= other` (mul_)."""
    return mul_(self, other)


def itruediv(self: Any, other: Any) -> Any:
    """`self /= other` (div_)."""
    return div_(self, other)


register_differentiable("setitem")
