"""The Recorder: what a trace writes down while `fn` runs on tracers.

Every NumPy call that reaches a tracer lands in `ufunc` or `call`: it is computed on the raw
arrays at once (the trace is a real step) and appended to `entries` as one of

  ("call", f, args, kwargs, writes)          f(*args, **kwargs), results in `out=` or in place
  ("assign", bufs, f, args, kwargs, idx)     results of f copied into the buffers `bufs`
  ("guard", kind, payload, expected, site)   a value read, checked again at each replay
                                             ("shape": a result whose shape depends on
                                             values, checked, then copied into its buffers)
  ("sop", slot, f, operands)                 one step of the scalar program (TracedScalar)

where args hold raw arrays (the plan's buffers, kept alive by the plan) and `Ref(slot)` for
scalars of the scalar program. A fresh result becomes a buffer of the plan: the replay writes
into it with `out=` (ufuncs, matrix products, reductions, np.* functions taking `out`) or by a
copy. `state_roots` are the buffers that outlive a call (parameters, gradients, optimizer
state): once one was written, a value read is moved before that write when it does not
depend on it (hoist.py), else it is an error (a replay could no longer fall back to eager),
see `read`.
"""

from __future__ import annotations

import inspect
import operator
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .hoist import hoist
from .tracer import TracedArray, TracedScalar, raw, root

_HERE = os.path.dirname(os.path.abspath(__file__))
_NUMPY = os.path.dirname(np.__file__)
_GRADKIT = os.path.dirname(_HERE)

# np.* functions that answer from metadata only: nothing to record or guard
_METADATA = frozenset({"shape", "ndim", "size", "result_type", "iscomplexobj", "isrealobj",
                       "may_share_memory", "shares_memory", "min_scalar_type", "can_cast",
                       "broadcast_shapes", "iterable", "isscalar"})
_OUT_METHODS = frozenset({"argmax", "argmin", "take", "dot", "cumsum", "cumprod", "clip",
                          "round"})
_COPIES = frozenset({"copy", "astype", "__copy__", "__deepcopy__"})
# np.* functions whose result's shape depends on the values (also: where(c), a[mask])
_SHAPED_BY_VALUES = frozenset({
    "nonzero", "flatnonzero", "argwhere", "unique", "compress", "extract", "trim_zeros",
    "intersect1d", "setdiff1d", "union1d", "setxor1d", "unique_values", "unique_counts",
    "unique_inverse", "unique_all"})
_takes_out: dict[Any, bool] = {}
READS: dict[str, Callable[[Any], Any]] = {
    "__bool__": bool, "__float__": float, "__int__": int, "__index__": operator.index,
    "__complex__": complex}


def _is_mask(key: Any) -> bool:
    if isinstance(key, np.ndarray):
        return key.dtype == np.bool_
    return type(key) is tuple and any(_is_mask(k) for k in key)


def shaped_by_values(name: str, now: list) -> bool:
    """Whether np.* function / ndarray method `name` on arguments `now` makes a result
    whose shape depends on values (its replay checks that shape: a guard)."""
    if name in _SHAPED_BY_VALUES:
        return True
    if name == "where":
        return len(now) == 1
    return name == "__getitem__" and len(now) > 1 and _is_mask(now[1])


class TraceError(RuntimeError):
    """Something in a compiled function cannot be traced (the message says what and where)."""


class Ref:
    """A scalar of the scalar program standing in a recorded argument list."""

    __slots__ = ("slot",)

    def __init__(self, slot: int) -> None:
        self.slot = slot


def _where(f: Any) -> str:
    name = f.f_code.co_filename
    short = os.path.relpath(name, os.path.dirname(_GRADKIT)) if name.startswith(_GRADKIT) \
        else os.path.basename(name)
    return f"{short}:{f.f_lineno}"


def site() -> str:
    """file:line of the innermost caller outside gradkit.jit and NumPy, and of the user's
    line that led there when that caller is inside gradkit (for messages)."""
    f: Any = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith((_HERE, _NUMPY)):
        f = f.f_back
    if f is None:
        return "?"
    user: Any = f
    while user is not None and user.f_code.co_filename.startswith(_GRADKIT):
        user = user.f_back
    if user is f or user is None:
        return _where(f)
    return f"{_where(f)} (from {_where(user)})"


def _out_param(f: Any) -> bool:
    """Whether np.* function `f` takes `out=` (asked once per function)."""
    known = _takes_out.get(f)
    if known is None:
        try:
            known = "out" in inspect.signature(f).parameters
        except (TypeError, ValueError):
            known = False
        _takes_out[f] = known
    return known


class Recorder:
    """The entries of one trace, its buffers and its scalar program."""

    def __init__(self) -> None:
        self.entries: list[tuple] = []
        self.buffers: dict[int, np.ndarray] = {}  # id(root) -> root, for every plan buffer
        self.state_roots: set[int] = set()
        self.input_roots: set[int] = set()
        self.wrote_state = False
        self.first_write = 0  # index of the first entry that wrote state (guards go before)
        self.written: set[int] = set()  # roots of the buffers some entry wrote into
        self.nscalars = 0
        self.scalar_types: dict[int, type] = {}  # slot -> type of its traced value
        self.scalar_inputs: list[tuple[Any, Any, int]] = []  # (dict, key, slot)
        self._tracers: dict[int, TracedArray] = {}  # id(raw) -> the tracer handed out

    # ---- buffers ---------------------------------------------------------------------------
    def tracer(self, buf: np.ndarray, kind: str = "fresh") -> TracedArray:
        """The tracer of plan buffer `buf` ("fresh", "state" or "input")."""
        t = self._tracers.get(id(buf))
        if t is not None:
            return t
        t = np.ndarray.view(buf, TracedArray)
        t._lb, t._raw = None, buf
        key = id(root(buf))
        self.buffers[key] = root(buf)
        if kind == "state":
            self.state_roots.add(key)
        elif kind == "input":
            self.input_roots.add(key)
        self._tracers[id(buf)] = t
        return t

    def scalar_input(self, container: Any, key: Any) -> TracedScalar:
        """A TracedScalar for `container[key]`, read at the start of every replay."""
        s = TracedScalar(container[key], self.nscalars, self)
        self.scalar_types[self.nscalars] = type(container[key])
        self.scalar_inputs.append((container, key, self.nscalars))
        self.nscalars += 1
        return s

    @property
    def read_roots(self) -> set[int]:
        """Roots of every array an entry reads (its arguments, guards' values)."""
        found: set[int] = set()
        for e in self.entries:
            if e[0] in ("call", "assign"):
                self._roots_of(e[2] if e[0] == "call" else e[3], found)
            elif e[0] == "guard" and e[1] != "scalar":
                self._roots_of(e[2], found)
        return found

    # ---- arguments -------------------------------------------------------------------------
    def _arg(self, x: Any, top: bool) -> tuple[Any, Any]:
        """(value to compute with now, value the replay passes) for one argument."""
        t = type(x)
        if t is TracedArray:
            r = raw(x)
            return r, r
        if t is TracedScalar:
            if top:
                return x.value, Ref(x.slot)
            v = self.read(x, "value", ())  # a scalar deep in a container: specialised
            return v, v
        if t is tuple or t is list:
            pairs = [self._arg(v, False) for v in x]
            return t(p[0] for p in pairs), t(p[1] for p in pairs)
        return x, x

    def _args(self, args: Any, kwargs: dict) -> tuple[list, dict, list, dict]:
        now, rec = [], []
        for a in args:
            n, r = self._arg(a, True)
            now.append(n)
            rec.append(r)
        knows, krec = {}, {}
        for k, v in kwargs.items():
            knows[k], krec[k] = self._arg(v, True)
        return now, knows, rec, krec

    def _roots_of(self, values: Any, into: set[int]) -> set[int]:
        for v in values:
            if isinstance(v, np.ndarray):
                into.add(id(root(v)))
            elif type(v) is tuple or type(v) is list:
                self._roots_of(v, into)
        return into

    def _writes(self, arrays: Any) -> None:
        """Note which buffers an entry writes (state: no value reads after it)."""
        for a in arrays:
            if isinstance(a, np.ndarray):
                key = id(root(a))
                self.written.add(key)
                if key in self.input_roots:
                    raise TraceError(f"gk.compile: the compiled function writes one of its "
                                     f"arguments in place ({site()}); copy it first")
                if key in self.state_roots and not self.wrote_state:
                    self.wrote_state = True
                    self.first_write = len(self.entries)

    # ---- results ---------------------------------------------------------------------------
    def _fresh(self, r: Any) -> np.ndarray:
        """A plan buffer for a fresh result (a 0-d array for a NumPy scalar)."""
        buf = r if isinstance(r, np.ndarray) else np.array(r)
        self.buffers[id(root(buf))] = root(buf)
        return buf

    def _wrap(self, r: Any, inputs: set[int]) -> Any:
        """A result as the caller sees it: tracers for arrays (the same one for an input)."""
        if isinstance(r, np.ndarray):
            t = self._tracers.get(id(r))
            if t is not None:
                return t
            if id(root(r)) in inputs:  # a view of an input: a view of a plan buffer
                self.buffers.setdefault(id(root(r)), root(r))
            return self.tracer(r)
        return r

    def ufunc(self, uf: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
        """A ufunc call (NEP 13) on tracers: computed now, recorded with `out=` buffers."""
        f = uf if method == "__call__" else getattr(uf, method)
        now, knows, rec, krec = self._args(inputs, kwargs)
        out = kwargs.get("out")
        result = f(*now, **knows)
        if method == "at":
            self._writes(now[:1])
            self.entries.append(("call", f, rec, krec, now[:1]))
            return None
        if out is not None:  # results written into given arrays (e.g. in-place `+=`)
            outs = out if isinstance(out, tuple) else (out,)
            raw_outs = krec["out"] if isinstance(krec["out"], tuple) else (krec["out"],)
            self._writes(raw_outs)
            self.entries.append(("call", f, rec, krec, list(raw_outs)))
            done = tuple(o if type(o) is TracedArray else self.tracer(o) for o in outs)
            return done[0] if len(done) == 1 else done
        many = isinstance(result, tuple)
        bufs = tuple(self._fresh(r) for r in (result if many else (result,)))
        krec = dict(krec, out=bufs if method == "__call__" else bufs[0])
        self.entries.append(("call", f, rec, krec, list(bufs)))
        done = tuple(self.tracer(b) for b in bufs)
        return done if many else done[0]

    def call(self, f: Any, args: tuple, kwargs: dict) -> Any:  # long: one dispatch on the result
        """An np.* function (NEP 18) or ndarray method on tracers: computed now; recorded
        unless its result only views its inputs."""
        now, knows, rec, krec = self._args(args, kwargs)
        name = getattr(f, "__name__", "")
        if name in _METADATA:
            return f(*now, **knows)
        result = f(*now, **knows)
        if result is None:  # in place (fill, sort, setitem, copyto, ...): writes its first
            self._writes(now[:1])
            self.entries.append(("call", f, rec, krec, now[:1]))
            return None
        if isinstance(result, (bool, int, float, complex, str, bytes)):
            return self._guard("call", (f, rec, krec), result, name)
        inputs = self._roots_of(now, set())
        self._roots_of(list(knows.values()), inputs)
        many = isinstance(result, (tuple, list))
        items = list(result) if many else [result]
        fresh = [i for i, r in enumerate(items)
                 if not (isinstance(r, np.ndarray) and id(root(r)) in inputs)]
        if not fresh:
            wrapped = [self._wrap(r, inputs) for r in items]
            return type(result)(wrapped) if many else wrapped[0]
        if "out" in kwargs and kwargs["out"] is not None:
            outs = krec["out"] if isinstance(krec["out"], tuple) else (krec["out"],)
            self._writes(outs)
            self.entries.append(("call", f, rec, krec, list(outs)))
            return self._wrap(result, inputs) if not many else type(result)(
                self._wrap(r, inputs) for r in items)
        bufs = {i: self._fresh(items[i]) for i in fresh}
        if shaped_by_values(name, now):  # computed, its shape checked, copied in
            self._guard("shape", (f, rec, krec, [bufs[i] for i in fresh],
                                  fresh if many else None),
                        tuple(np.shape(items[i]) for i in fresh), name)
        elif not many and isinstance(result, np.ndarray):
            if name in _COPIES:  # copy/astype: one copy into the buffer
                self.entries.append(("call", np.copyto, [bufs[0], rec[0]],
                                     {"casting": "unsafe"}, [bufs[0]]))
            elif name in _OUT_METHODS or (not hasattr(np.ndarray, name) and _out_param(f)):
                self.entries.append(("call", f, rec, dict(krec, out=bufs[0]), [bufs[0]]))
            else:
                self.entries.append(("assign", [bufs[0]], f, rec, krec, None))
        else:
            self.entries.append(("assign", [bufs[i] for i in fresh], f, rec, krec,
                                 fresh if many else None))
        wrapped = [self.tracer(bufs[i]) if i in bufs else self._wrap(r, inputs)
                   for i, r in enumerate(items)]
        return type(result)(wrapped) if many else wrapped[0]

    # ---- value reads and the scalar program ------------------------------------------------
    def read(self, x: Any, conv: str, args: tuple) -> Any:
        """`conv` of a tracer (bool(), float(), .item(), ...): its value now, guarded."""
        if type(x) is TracedScalar:  # scalars depend on the scalar inputs only: always safe
            value = x.value if conv == "value" else READS[conv](x.value)
            self.entries.append(("guard", "scalar", (x.slot, conv), value, site()))
            return value
        r = raw(x)
        value = READS[conv](r) if conv in READS else getattr(r, conv)(*args)
        return self._guard("read", (r, conv, args), value, conv)

    def _guard(self, kind: str, payload: tuple, value: Any, name: str) -> Any:
        where = site()
        entry = ("guard", kind, payload, value, where)
        if self.wrote_state:  # a test (a data check, a branch) that does not depend on the
            # writes is checked before them; a number read there would change every step
            moved = hoist(self.entries, self.first_write, entry, self.state_roots) \
                if type(value) is bool or kind == "shape" else None
            if moved is not None:
                self.entries, self.first_write = moved
                return value
            raise TraceError(
                f"gk.compile: `{name.strip('_')}` of a traced value at {where}, after the step "
                f"wrote parameters or optimizer state: Python code that reads tensor values "
                f"cannot run inside a compiled step there. Return the tensor and read it "
                f"(.item(), float(), bool()) outside the compiled function")
        self.entries.append(entry)
        return value

    def scalar_op(self, f: Any, operands: tuple) -> TracedScalar:
        """One step of the scalar program: `f(*operands)` with TracedScalars among them."""
        values = [o.value if type(o) is TracedScalar else o for o in operands]
        refs = [Ref(o.slot) if type(o) is TracedScalar else o for o in operands]
        slot = self.nscalars
        self.nscalars += 1
        self.entries.append(("sop", slot, f, refs))
        value = f(*values)
        self.scalar_types[slot] = type(value)
        return TracedScalar(value, slot, self)
