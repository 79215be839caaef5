"""A plan: the recorded step as one straight-line Python function, generated once per trace.

`build_replay` turns a Recorder's entries into source text, one line per NumPy call with
every buffer, function and constant bound by name in the function's globals, and compiles
it: a replay is then exactly the NumPy calls of the traced step on the same buffers, with no
Tensor, no graph, no closure and no per-op dispatch (the ufuncs write into their `out=`
buffers). Entries whose results nothing needs are dropped first (dead code: a check's count
that only a guard reads stays, a buffer no later call reads goes).

The function's shape:
  prologue   adopt state that moved (a parameter whose `.data` was rebound, a state array
             replaced by `load_state_dict`): copy its values into the plan's buffer;
             copy the call's input arrays into the plan's input buffers;
             read the scalar inputs (lr, step) and run the scalar program and its guards
  body       the array calls and guards, in recorded order
  epilogue   write scalars back (state["step"]), bind `.grad`, bump version counters,
             return copies of the outputs
A failed guard raises `GuardFailed(i)`: nothing that outlives the call was written before it
(the recorder refuses value reads after such a write), so the caller may run `fn` eagerly.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..backend import gemm
from ..tensor_base import WRITES, version_counter
from .fuse import Expr
from .hoist import writes
from .recorder import READS, Ref
from .tracer import root


class GuardFailed(Exception):
    """A replay met a value different from the traced one (entry `index` of the guards)."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


class Retrace(Exception):
    """Captured state no longer fits the plan (a shape or dtype changed): trace again."""


class Cell(NamedTuple):
    """A place that holds state across calls: `owner._data` ("attr"), `owner[key]` ("item"),
    or the binding of `owner.grad` ("grad", where `exit` is a Tensor, None or "keep")."""

    kind: str
    owner: Any
    key: Any
    entry: np.ndarray | None  # the buffer the plan reads (None: not read)
    exit: Any  # what the slot holds after a call


def _adopt(buf: np.ndarray, value: Any) -> None:
    if value.shape != buf.shape or value.dtype != buf.dtype:
        raise Retrace
    np.copyto(buf, value)


def _adopt_attr(owner: Any, name: str, buf: np.ndarray) -> None:
    _adopt(buf, getattr(owner, name))
    setattr(owner, name, buf)


def _adopt_item(owner: Any, key: Any, buf: np.ndarray) -> None:
    _adopt(buf, owner[key])
    owner[key] = buf


def _adopt_grad(owner: Any, buf: np.ndarray) -> None:
    _adopt(buf, owner.grad._data)


def _same(a: Any, b: Any) -> bool:
    return bool(a == b) or (a != a and b != b)


_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
          operator.floordiv: "//", operator.mod: "%", operator.pow: "**", operator.lt: "<",
          operator.le: "<=", operator.gt: ">", operator.ge: ">=", operator.eq: "==",
          operator.ne: "!="}


_KEYWORD_OUT = (np.maximum, np.minimum)  # a positional out is deprecated for these
_REDUCE_ARGS = {"axis", "dtype", "out", "keepdims", "where"}


class _Box:
    """A 0-d array standing for a scalar of the scalar program (named `name`)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Source:
    """Names for the objects a generated function uses, and its lines."""

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {"_Fail": GuardFailed, "_Retrace": Retrace, "_same": _same,
                                   "_copyto": np.copyto,
                                   "_adopt_attr": _adopt_attr, "_adopt_item": _adopt_item,
                                   "_adopt_grad": _adopt_grad, "_W": WRITES}
        self.names: dict[int, str] = {}
        self.lines: list[str] = []
        self.scalar_types: dict[int, type] = {}  # slot -> type of its traced value
        self.boxes: dict[tuple, str] = {}  # (slot, dtype) -> a 0-d array refilled per call
        self._consts: dict[tuple, np.ndarray] = {}

    def name(self, obj: Any) -> str:
        if obj is None or type(obj) is bool or (type(obj) is int and abs(obj) < 2**31):
            return repr(obj)
        if type(obj) is str and obj.isidentifier():
            return repr(obj)
        if type(obj) is Ref:
            return f"s{obj.slot}"
        if type(obj) is Expr:  # a call inlined into a guard (fuse.py)
            return self.call(obj.f, obj.args, obj.kwargs)
        return self.bound(obj)

    def bound(self, obj: Any) -> str:
        """`obj` bound to a name of the function's globals (an `is` test against a literal
        int or str would be a SyntaxWarning, and not the same object)."""
        if obj is None or type(obj) is bool:
            return repr(obj)
        key = id(obj)
        found = self.names.get(key)
        if found is None:
            found = self.names[key] = f"k{len(self.names)}"
            self.ns[found] = obj
        return found

    def _strong(self, f: Any, args: list, kwargs: dict) -> list:
        """A ufunc's Python-number operands as 0-d arrays of its float arrays' dtype: the
        same value (NumPy casts a Python scalar to that dtype) at half the cost of a call."""
        out = kwargs.get("out")
        arrays = [a for a in (*args, *(out if type(out) is tuple else ())) if
                  isinstance(a, np.ndarray)]
        dtypes = {a.dtype for a in arrays}
        if len(dtypes) != 1 or len(arrays) == len(args) + (len(out) if out else 0):
            return args
        dtype = dtypes.pop()
        if dtype.kind != "f":
            return args
        done = []
        for a in args:
            if type(a) is Ref and self.scalar_types.get(a.slot) is float:
                a = _Box(self.boxes.setdefault((a.slot, dtype.str),
                                               f"z{a.slot}_{len(self.boxes)}"))
            elif (type(a) is float or (type(a) is int and abs(a) < 2**24)):
                key = (a, dtype.str)
                a = self._consts.setdefault(key, np.array(a, dtype))
            done.append(a)
        return done

    def call(self, f: Any, args: list, kwargs: dict) -> str:
        if len(args) == 2 and kwargs.keys() <= {"out"} and gemm.numpy_only(f, *args) \
                and type(kwargs.get("out", args[0])) is np.ndarray:
            f = np.matmul  # what the seam would call: one Python frame less
            kwargs = {"out": (kwargs["out"],)} if kwargs else kwargs
        if isinstance(f, np.ufunc):
            args = self._strong(f, args, kwargs)
        parts = [a.name if type(a) is _Box else self.name(a) for a in args]
        out = kwargs.get("out")
        if getattr(f, "__name__", "") == "reduce" and kwargs.keys() <= _REDUCE_ARGS \
                and kwargs.get("where", True) is True and len(args) == 1:
            order = ("axis", "dtype", "out", "keepdims")  # positional: no keyword parsing
            given = [kwargs.get(k, d) for k, d in zip(order, (0, None, None, False))]
            return f"{self.name(f)}({parts[0]}, {', '.join(self.name(v) for v in given)})"
        if isinstance(f, np.ufunc) and kwargs.keys() == {"out"} and type(out) is tuple \
                and len(out) == 1 and f not in _KEYWORD_OUT:
            parts.append(self.name(out[0]))  # positional out: the cheapest ufunc call
        else:
            parts += [f"{k}={self.name(v)}" for k, v in kwargs.items()]
        return f"{self.name(f)}({', '.join(parts)})"

    def line(self, text: str) -> None:
        self.lines.append("    " + text)


def _arrays(values: Any, into: set[int]) -> set[int]:
    for v in values:
        if isinstance(v, np.ndarray):
            into.add(id(root(v)))
        elif isinstance(v, (tuple, list)):
            _arrays(v, into)
        elif isinstance(v, dict):
            _arrays(list(v.values()), into)
    return into


_SHAPE_ONLY = (np.ones_like, np.zeros_like, np.full_like, np.empty_like)


def fold_constants(entries: list[tuple], own: set[int] | frozenset = frozenset()) -> list[tuple]:
    """Drop the entries that make the same values on every replay: arrays made from a shape
    (`ones_like`, a filled `np.zeros`) that no other entry writes keep their traced values
    (an `empty_like`'s, a scratch array's, are never made again: they have none),
    and so does an element-wise ufunc of such constants and Python numbers (the backward
    seed times a mean's 1/n). `own`: the roots of the plan's buffers that only entries
    write (not inputs, not state): the only arrays a ufunc's constancy is judged on."""
    writers: dict[int, int] = {}
    for e in entries:
        for key in writes(e):
            writers[key] = writers.get(key, 0) + 1
    frozen: set[int] = set()  # roots whose every write was folded

    def fixed(a: Any) -> bool:
        if isinstance(a, np.ndarray):
            key = id(root(a))
            return key in own and (key in frozen or key not in writers)
        return type(a) in (int, float, bool)

    def constant(e: tuple) -> bool:
        if e[0] == "assign" and e[2] is np.empty_like:  # no values to make again
            return True
        if e[0] == "assign" and any(e[2] is f for f in _SHAPE_ONLY):
            return all(writers[k] == 1 for k in _arrays(e[1], set()))
        if e[0] == "call" and e[1] is np.ndarray.fill and type(e[2][1]) is not Ref:
            return writers[id(root(e[2][0]))] == 1
        if e[0] == "call" and type(e[1]) is np.ufunc and e[3].keys() == {"out"}:
            out = e[3]["out"]
            out = out[0] if type(out) is tuple and len(out) == 1 else out
            return isinstance(out, np.ndarray) and root(out) is out and \
                id(out) in own and writers.get(id(out)) == 1 and all(map(fixed, e[2]))
        return False

    kept = []
    for e in entries:
        if constant(e):
            frozen.update(writes(e))
        else:
            kept.append(e)
    return kept


def live_entries(entries: list[tuple], live: set[int]) -> list[tuple]:
    """The entries that something needs, in order: guards and the scalar program always;
    a call or copy when a buffer it writes is live (state, outputs, read later)."""
    kept: list[tuple] = []
    for e in reversed(entries):
        kind = e[0]
        if kind == "call":
            writes = _arrays(e[4], set())
            if not writes & live:
                continue
            live |= writes | _arrays(e[2], set()) | _arrays(list(e[3].values()), set())
        elif kind == "assign":
            if not _arrays(e[1], set()) & live and not getattr(e[2], "effect", False):
                continue
            live |= _arrays(e[3], set()) | _arrays(list(e[4].values()), set())
        elif kind == "guard" and e[1] != "scalar":
            live |= _arrays(e[2], set())
        kept.append(e)
    kept.reverse()
    return kept


def _emit_guard(src: _Source, e: tuple, index: int) -> None:
    _, kind, payload, value, _where = e
    if kind == "scalar":
        slot, conv = payload
        got = f"s{slot}" if conv == "value" else f"{src.name(READS[conv])}(s{slot})"
    elif kind == "read":
        r, conv, args = payload
        got = f"{src.name(READS[conv])}({src.name(r)})" if conv in READS else \
            f"{src.name(r)}.{conv}({', '.join(src.name(a) for a in args)})"
    elif kind == "shape":  # computed, its shape checked, copied into the plan's buffers
        f, args, kwargs, bufs, idx = payload
        src.line(f"_r = {src.call(f, args, kwargs)}")
        parts = ["_r"] if idx is None else [f"_r[{i}]" for i in idx]
        test = " or ".join(f"{p}.shape != {shape!r}" for p, shape in zip(parts, value))
        src.line(f"if {test}: raise _Fail({index})")
        for b, p in zip(bufs, parts):
            src.line(f"_copyto({src.name(b)}, {p})")
        return
    else:
        got = src.call(*payload)
    if value is True or value is False:
        test = f"not {got}" if value else got
    elif isinstance(value, float) and value != value:
        test = f"not _same({got}, {src.name(value)})"
    else:
        test = f"{got} != {src.name(value)}"
    src.line(f"if {test}: raise _Fail({index})")


def _emit_prologue(src: _Source, cells: list[Cell], inputs: list[np.ndarray | None],
                   scalar_inputs: list[tuple]) -> None:
    for c in cells:
        if c.entry is None:
            continue
        o, b = src.name(c.owner), src.name(c.entry)
        if c.kind == "attr":
            src.line(f"if {o}.{c.key} is not {b}: _adopt_attr({o}, {c.key!r}, {b})")
        elif c.kind == "item":
            k = src.name(c.key)
            src.line(f"if {o}[{k}] is not {b}: _adopt_item({o}, {k}, {b})")
        else:
            src.line(f"if {o}.grad._data is not {b}: _adopt_grad({o}, {b})")
    for i, buf in enumerate(inputs):
        if buf is not None:
            src.line(f"_copyto({src.name(buf)}, a{i})")
    for owner, key, slot in scalar_inputs:
        src.line(f"s{slot} = {src.name(owner)}[{src.name(key)}]")


def _emit_epilogue(src: _Source, cells: list[Cell], scalar_writes: list[tuple],
                   bumps: list[Any], outputs: list[Any]) -> None:
    for owner, key, value in scalar_writes:
        src.line(f"{src.name(owner)}[{src.name(key)}] = {src.name(value)}")
    for c in cells:
        o = src.name(c.owner)
        if c.kind == "grad" and not (type(c.exit) is str and c.exit == "keep"):
            src.line(f"{o}.grad = {src.name(c.exit)}")
        elif c.kind != "grad" and c.exit is not c.entry and c.exit is not None:
            target = f"{o}.{c.key}" if c.kind == "attr" else f"{o}[{src.name(c.key)}]"
            src.line(f"{target} = {src.name(c.exit)}")
    if bumps:  # bump_version(t) of each, inlined: the same counts as one by one
        src.line("_n = _W.n")
        for i, t in enumerate(bumps):
            v = src.name(version_counter(t))
            src.line(f"{v}.n += 1; {v}.last = _n + {i + 1}")
        src.line(f"_W.n = _n + {len(bumps)}")
    outs = [f"s{o.slot}" if type(o) is Ref else f"{src.name(o)}.copy()" for o in outputs]
    src.line(f"return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")


def build_replay(entries: list[tuple], cells: list[Cell], inputs: list[np.ndarray | None],
                 scalar_inputs: list[tuple], scalar_writes: list[tuple], bumps: list[Any],
                 outputs: list[Any], scalar_types: dict[int, type] | None = None,
                 local: set[int] | frozenset = frozenset(), options: list | None = None,
                 ) -> tuple[Callable[..., tuple], str, list[tuple]]:
    """(replay function, its source, its guards) for the live `entries`. `inputs[i]` is the
    buffer argument i is copied into (None: unused); `outputs` the buffers (or Refs of
    scalars) returned, in order; `scalar_writes` (dict, key, Ref or constant) run last;
    `scalar_types`: slot -> the type of its traced value (floats go to ufuncs as 0-d
    arrays); `local`: ids of the buffers bound to their one result, not copied into;
    `options`: (dict, key, value) that must still hold `value` (else `Retrace`)."""
    src = _Source()
    src.scalar_types = scalar_types or {}
    for owner, key, value in options or ():  # optimizer options: the same objects
        src.line(f"if {src.name(owner)}[{src.name(key)}] is not {src.bound(value)}: "
                 f"raise _Retrace")
    _emit_prologue(src, cells, inputs, scalar_inputs)
    guards: list[tuple] = []
    for e in entries:  # the scalar program first: it depends on the scalar inputs only
        if e[0] == "sop":
            _, slot, f, refs = e
            args = [src.name(a) for a in refs]
            text = f"({args[0]} {_INFIX[f]} {args[1]})" if f in _INFIX and len(args) == 2 \
                else f"{src.name(f)}({', '.join(args)})"
            src.line(f"s{slot} = {text}")
        elif e[0] == "guard" and e[1] == "scalar":
            _emit_guard(src, e, len(guards))
            guards.append(e)
    body = len(src.lines)
    for e in entries:
        if e[0] == "call":
            src.line(src.call(e[1], e[2], e[3]))
        elif e[0] == "assign":
            _, bufs, f, args, kwargs, idx = e
            if idx is None and id(bufs[0]) in local:
                src.line(f"{src.name(bufs[0])} = {src.call(f, args, kwargs)}")
            elif idx is None:
                src.line(f"_copyto({src.name(bufs[0])}, {src.call(f, args, kwargs)})")
            else:
                src.line(f"_r = {src.call(f, args, kwargs)}")
                for b, i in zip(bufs, idx):
                    src.line(f"_copyto({src.name(b)}, _r[{i}])")
        elif e[0] == "guard" and e[1] != "scalar":
            _emit_guard(src, e, len(guards))
            guards.append(e)
    for (slot, dtype), name in src.boxes.items():  # the scalars as 0-d arrays, once a call
        src.ns[name] = np.zeros((), dtype)
        src.lines.insert(body, f"    {name}[()] = s{slot}")
    _emit_epilogue(src, cells, scalar_writes, bumps, outputs)
    params = ", ".join(f"a{i}" for i in range(len(inputs)))
    text = f"def _replay({params}):\n" + "\n".join(src.lines) + "\n"
    exec(compile(text, "<gk.compile plan>", "exec"), src.ns)  # noqa: S102 - our own source
    return src.ns["_replay"], text, guards
