"""The tracer values of `gk.compile`: arrays and Python scalars that record what is done to them.

`TracedArray` is an `ndarray` subclass viewing a real buffer, so everything in gradkit that
asks `isinstance(x, np.ndarray)` or reads `shape`/`dtype`/`device` sees an ordinary CPU array,
and a trace computes real values as it goes (the traced call is also a real step). NumPy
hands every ufunc (NEP 13) and every `np.*` function (NEP 18) on it to the active
`Recorder`; the ndarray methods that compute without a ufunc (copies, `astype`, fancy
indexing, `argmax`, `dot`, ...) are overridden below and go the same way. Views (`reshape`,
`.T`, basic indexing) need no record: every buffer of a plan lives as long as the plan, so a
view taken while tracing stays valid for every replay.

`TracedScalar` stands for a Python number read from optimizer state (the learning rate, a
step count): arithmetic on it is recorded as a small scalar program that the replay
re-evaluates each call, so Adam's bias corrections and an lr schedule stay live.

Reading a value (`bool`, `float`, `int`, `.item()`, ...) returns the traced value and records
a guard, re-checked on every replay; a replay whose guard fails runs the call eagerly instead
(see `compile.py`). Without an active recorder (after the trace) both classes act plainly.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

_ACTIVE: list[Any] = [None]  # the Recorder of the trace in progress (one at a time)
_cbase = np.ndarray.base.__get__  # the C-level base (TracedArray overrides `.base`)


def active() -> Any:
    """The Recorder of the trace in progress, or None."""
    return _ACTIVE[0]


def raw(x: Any) -> Any:
    """The plain ndarray behind a TracedArray (the same memory); anything else as it is."""
    if type(x) is TracedArray:
        r = x._raw
        if r is None:
            r = x._raw = np.ndarray.view(x, np.ndarray)
        return r
    return x


def root(a: np.ndarray) -> np.ndarray:
    """The array that owns `a`'s memory (following C-level bases)."""
    while True:
        b = _cbase(a)
        if b is None or not isinstance(b, np.ndarray):
            return a
        a = b


def plain(x: Any) -> Any:
    """`x` with every TracedArray replaced by its raw array (through tuples, lists, dicts)."""
    t = type(x)
    if t is TracedArray:
        return raw(x)
    if t is tuple or t is list:
        return t(plain(v) for v in x)
    if t is dict:
        return {k: plain(v) for k, v in x.items()}
    if t is TracedScalar:
        return x.value
    return x


def traced_in(x: Any) -> bool:
    """Whether `x` holds a tracer (at the top level or one container deep)."""
    t = type(x)
    if t is TracedArray or t is TracedScalar:
        return True
    if t is tuple or t is list:
        return any(type(v) is TracedArray or type(v) is TracedScalar for v in x)
    return False


def _call(name: str):
    """An ndarray method that goes through the recorder (plain without a trace)."""
    method = getattr(np.ndarray, name)

    def traced(self, *args, **kwargs):
        rec = _ACTIVE[0]
        if rec is None:
            return method(raw(self), *plain(args), **plain(kwargs))
        return rec.call(method, (self, *args), kwargs)

    traced.__name__ = name
    return traced


def _read(conv: str):
    """A value read (`bool`, `float`, ...): the traced value, guarded by the recorder."""
    def read(self, *args):
        rec = _ACTIVE[0]
        if rec is None:
            return getattr(raw(self), conv)(*args)
        return rec.read(self, conv, args)

    read.__name__ = conv
    return read


_BASIC = (int, slice, type(None), type(Ellipsis))


def _is_basic(key: Any) -> bool:
    if isinstance(key, _BASIC) and not isinstance(key, bool):
        return True
    return type(key) is tuple and all(
        isinstance(k, _BASIC) and not isinstance(k, bool) for k in key)


class TracedArray(np.ndarray):
    """A CPU array whose NumPy calls are recorded into the active trace's plan."""

    __slots__ = ("_lb", "_raw")
    _lb: Any
    _raw: Any

    def __array_finalize__(self, obj: Any) -> None:
        # a view of a tracer: its logical base (what `.base` tells gradkit) is that tracer's
        self._lb = (obj._lb if obj._lb is not None else obj) \
            if type(obj) is TracedArray else None
        self._raw = None

    @property
    def base(self) -> Any:
        """None for a fresh result (as NumPy says of a new array), else the viewed tracer."""
        return self._lb

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        rec = _ACTIVE[0]
        if rec is None:
            return getattr(ufunc, method)(*plain(inputs), **plain(kwargs))
        return rec.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        rec = _ACTIVE[0]
        if rec is None:
            return func(*plain(args), **plain(kwargs))
        return rec.call(func, args, kwargs)

    def __getitem__(self, key: Any) -> Any:
        if _is_basic(key):
            out = np.ndarray.__getitem__(self, key)
            if type(out) is TracedArray or _ACTIVE[0] is None:
                return out  # a view: nothing to record
        rec = _ACTIVE[0]
        if rec is None:
            return np.ndarray.__getitem__(raw(self), plain(key))
        return rec.call(np.ndarray.__getitem__, (self, key), {})

    def __setitem__(self, key: Any, value: Any) -> None:
        rec = _ACTIVE[0]
        if rec is None:
            np.ndarray.__setitem__(raw(self), plain(key), plain(value))
        else:
            rec.call(np.ndarray.__setitem__, (self, key, value), {})

    __bool__ = _read("__bool__")
    __float__ = _read("__float__")
    __int__ = _read("__int__")
    __index__ = _read("__index__")
    __complex__ = _read("__complex__")
    item = _read("item")
    tolist = _read("tolist")
    tobytes = _read("tobytes")

    def __reduce__(self) -> Any:
        raise TypeError("gk.compile: a traced array cannot be pickled inside a compiled "
                        "function; save tensors outside it")


# the ndarray methods that compute without a ufunc (or may copy): each goes to the recorder
COMPUTING_METHODS = (
    "copy", "astype", "flatten", "ravel", "reshape", "argmax", "argmin", "take", "repeat",
    "dot", "sort", "argsort", "nonzero", "fill", "put", "searchsorted", "partition",
    "argpartition", "compress", "choose", "trace", "cumsum", "cumprod", "clip", "round",
    "__copy__", "__deepcopy__")
for _name in COMPUTING_METHODS:
    setattr(TracedArray, _name, _call(_name))


# ---- Python scalars read from optimizer state ---------------------------------------------

_NUMBERS = (int, float, bool, np.generic)


def _binary(f, reflected: bool = False):
    def op(self, other):
        if type(other) is not TracedScalar and not isinstance(other, _NUMBERS):
            return NotImplemented  # arrays and Tensors take it from here (their ufuncs)
        a, b = (other, self) if reflected else (self, other)
        return self.rec.scalar_op(f, (a, b))

    return op


def _unary(f):
    return lambda self: self.rec.scalar_op(f, (self,))


class TracedScalar:
    """A Python number from optimizer state (`lr`, `step`) whose arithmetic is recorded."""

    __slots__ = ("value", "slot", "rec")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, value: Any, slot: int, rec: Any) -> None:
        self.value, self.slot, self.rec = value, slot, rec

    def __repr__(self) -> str:
        return f"TracedScalar({self.value!r})"

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return self.rec.ufunc(ufunc, method, inputs, kwargs)

    def __bool__(self) -> bool:
        return self.rec.read(self, "__bool__", ())

    def __float__(self) -> float:
        return self.rec.read(self, "__float__", ())

    def __int__(self) -> int:
        return self.rec.read(self, "__int__", ())

    def __index__(self) -> int:
        return self.rec.read(self, "__index__", ())

    __add__, __radd__ = _binary(operator.add), _binary(operator.add, True)
    __sub__, __rsub__ = _binary(operator.sub), _binary(operator.sub, True)
    __mul__, __rmul__ = _binary(operator.mul), _binary(operator.mul, True)
    __truediv__, __rtruediv__ = _binary(operator.truediv), _binary(operator.truediv, True)
    __floordiv__, __rfloordiv__ = _binary(operator.floordiv), _binary(operator.floordiv, True)
    __mod__, __rmod__ = _binary(operator.mod), _binary(operator.mod, True)
    __pow__, __rpow__ = _binary(operator.pow), _binary(operator.pow, True)
    __lt__, __le__ = _binary(operator.lt), _binary(operator.le)
    __gt__, __ge__ = _binary(operator.gt), _binary(operator.ge)
    __eq__, __ne__ = _binary(operator.eq), _binary(operator.ne)
    __neg__, __pos__, __abs__ = _unary(operator.neg), _unary(operator.pos), _unary(abs)
