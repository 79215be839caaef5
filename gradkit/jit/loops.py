"""Fused element-wise loops: a run of element-wise ufunc calls becomes one compiled loop.

`fuse_loops` finds runs of consecutive plan entries that are element-wise ufunc calls on
one shape (`add(h, b, out=h); maximum(h, 0, out=h)`, the ReLU mask and its product, the
optimizer's update chain) and replaces each run of two or more with one call of a loop
compiled by Numba (the `jit` extra): every element is loaded once, the chain runs in
registers, and only the arrays something else reads are stored (a ReLU mask that only its
product reads is never written). The loop does the same IEEE operations in the same order
and dtype as the ufuncs (no fast-math, no fused multiply-add), so a replay stays bit for bit
the eager step (the plan's check compares). Only operations that NumPy rounds exactly are
fused (arithmetic, comparisons, maximum/minimum, sqrt, abs); `exp`, `tanh`, `log` keep
NumPy's own loops, whose last bit may differ from the C library's.

Operands: arrays of the run's shape (C-contiguous), a broadcast row (the last axis, a bias),
a broadcast column (`keepdims` reductions), one-element arrays and Python numbers or scalar
inputs (the learning rate). Runs on fewer than `fusion.min_size()` elements
($GRADKIT_FUSE_MIN, 4096) are left alone, so a tiny plan never starts Numba. Without
Numba, or with `gk.config.fuse = False` (`GRADKIT_FUSE=0`), plans keep one NumPy call per op.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ..backend import fusion
from .hoist import reads, writes
from .recorder import Ref
from .tracer import root

_BINARY = {np.add: "({0} + {1})", np.subtract: "({0} - {1})", np.multiply: "({0} * {1})",
           np.divide: "({0} / {1})", np.greater: "({0} > {1})", np.greater_equal: "({0} >= {1})",
           np.less: "({0} < {1})", np.less_equal: "({0} <= {1})", np.equal: "({0} == {1})",
           np.not_equal: "({0} != {1})",
           # NumPy's maximum/minimum: a NaN first operand, else the winner, else (a tie,
           # a NaN second operand) the second: maximum(0.0, -0.0) is -0.0, as in NumPy
           np.maximum: "({0} if ({0} > {1} or {0} != {0}) else {1})",
           np.minimum: "({0} if ({0} < {1} or {0} != {0}) else {1})"}
_UNARY = {np.negative: "(-{0})", np.square: "({0} * {0})", np.sqrt: "np.sqrt({0})",
          np.absolute: "abs({0})", np.positive: "(+{0})"}
_COMPARE = {np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal}
_MIN_RUN = 2


class _Run:
    """The run being collected: its shape, loop dtype, operands and steps."""

    def __init__(self, shape: tuple, dtype: np.dtype) -> None:
        self.shape, self.dtype = shape, dtype
        cols = shape[-1] if shape else 1
        self.rc = (math.prod(shape) // cols, cols)
        self.arrays: list[tuple[np.ndarray, np.ndarray, str]] = []  # (operand, view, kind)
        self.scalars: list[Any] = []  # Refs of the scalar program, passed by value
        self.written: dict[int, np.ndarray] = {}  # id -> an array the run writes
        self.entries: list[int] = []
        self.steps: list[tuple] = []  # (ufunc, operand codes, out id, out dtype)


def _kind(a: np.ndarray, shape: tuple) -> str | None:
    """How operand `a` broadcasts against the run's `shape` (None: not fusable)."""
    if a.shape == shape:
        return "full" if a.flags.c_contiguous else None
    if a.size == 1:
        return "one"
    if not shape or a.ndim > len(shape):
        return None
    padded = (1,) * (len(shape) - a.ndim) + a.shape
    if padded[-1] == shape[-1] and math.prod(padded[:-1]) == 1:
        return "row" if a.flags.c_contiguous else None
    if padded[-1] == 1 and padded[:-1] == shape[:-1] and a.flags.c_contiguous:
        return "col"
    return None


def _view(a: np.ndarray, kind: str, rc: tuple) -> np.ndarray:
    shape = {"full": rc, "row": (rc[1],), "col": (rc[0],), "one": (1,)}[kind]
    v = a.reshape(shape)
    if not np.shares_memory(v, a):  # pragma: no cover - contiguity was checked
        raise AssertionError("a fused loop's operand view copied its array")
    return v


def _ufunc_call(e: tuple) -> tuple[Any, list, np.ndarray] | None:
    """(ufunc, inputs, out) of an entry that calls a fusable ufunc with one `out=` array."""
    if e[0] != "call" or e[1] not in _BINARY and e[1] not in _UNARY or e[3].keys() != {"out"}:
        return None
    f, args, out = e[1], list(e[2]), e[3]["out"]
    out = out[0] if type(out) is tuple and len(out) == 1 else out
    if len(args) != f.nin or type(out) is not np.ndarray:
        return None
    return f, args, out


def _loop_dtype(f: Any, args: list, out: np.ndarray) -> np.dtype | None:
    """The dtype the ufunc computes in when the run can do the same (else None)."""
    floats = {a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"}
    others = [a for a in args if isinstance(a, np.ndarray) and a.dtype.kind != "f"]
    if len(floats) != 1 or any(a.dtype != np.bool_ for a in others) or \
            any(type(a) not in (float, int, Ref, np.ndarray) for a in args):
        return None
    dtype = floats.pop()
    if dtype not in (np.float32, np.float64):  # float16 ufuncs round through float32
        return None
    want = np.dtype(np.bool_) if f in _COMPARE else dtype
    return dtype if out.dtype == want else None


def _operand(run: _Run, a: Any) -> str | None:
    """The loop's name for operand `a` of the next step (None: `a` ends the run)."""
    t = run.dtype.type.__name__
    if type(a) is Ref:
        run.scalars.append(a)
        return f"np.{t}(s{len(run.scalars) - 1})"
    if type(a) is int and abs(a) > 2**53:  # NumPy would round it once, float() twice
        return None
    if type(a) in (int, float):
        text = repr(float(a)) if math.isfinite(a) else "np.nan" if a != a else \
            "np.inf" if a > 0 else "-np.inf"
        return f"np.{t}({text})"
    kind = _kind(a, run.shape)
    key = id(a)
    if kind is None:
        return None
    if key in run.written:  # the value the run made, at the same index only
        return f"v{key}" if kind == "full" else None
    if any(np.shares_memory(a, w) for w in run.written.values()):
        return None
    slot = next((i for i, (b, _, k) in enumerate(run.arrays) if b is a and k == kind), None)
    if slot is None:
        slot = len(run.arrays)
        run.arrays.append((a, _view(a, kind, run.rc), kind))
    at = {"full": "[r, c]", "row": "[c]", "col": "[r]", "one": "[0]"}[kind]
    load = f"a{slot}{at}"
    return load if a.dtype == run.dtype else f"np.{t}({load})"


def _add(run: _Run, f: Any, args: list, out: np.ndarray) -> bool:
    """Append a step to `run` (False: it does not fit; `run` is left unchanged)."""
    if out.shape != run.shape or not out.flags.c_contiguous or \
            _loop_dtype(f, args, out) != run.dtype:
        return False
    saved = len(run.arrays), len(run.scalars)
    codes = [_operand(run, a) for a in args]
    key = id(out)
    if any(c is None for c in codes) or (key not in run.written and _clash(run, out)):
        del run.arrays[saved[0]:], run.scalars[saved[1]:]
        return False
    run.written[key] = out
    run.steps.append((f, codes, key, out.dtype))
    return True


def _clash(run: _Run, out: np.ndarray) -> bool:
    """Whether writing `out` (not yet written by the run) could change an element that the
    run reads at another index: out may only alias what the run read from it at the same
    index (the very array, full shape: `add(h, b, out=h)`)."""
    for a, _, kind in run.arrays:
        if (a is out and kind != "full") or (a is not out and np.shares_memory(out, a)):
            return True
    return any(np.shares_memory(out, w) for w in run.written.values())


def _source(run: _Run, stored: list[int]) -> tuple[str, list[np.ndarray], list]:
    """The loop's Python source (compiled by Numba), its output views and its other array
    arguments, in order. An array that the run both reads and stores is passed once, as
    the output: a load and a store through one pointer at one index vectorize, while two
    arguments on the same memory defeat the compiler's overlap check (a scalar loop)."""
    outs = [_view(run.written[k], "full", run.rc) for k in stored]
    rename = {f"a{i}": f"o{stored.index(id(a))}" for i, (a, _, _) in enumerate(run.arrays)
              if id(a) in stored}
    inputs = [(f"a{i}", v) for i, (_, v, _) in enumerate(run.arrays) if f"a{i}" not in rename]
    params = [f"o{i}" for i in range(len(outs))] + [n for n, _ in inputs] + \
        [f"s{i}" for i in range(len(run.scalars))]
    lines = [f"def loop({', '.join(params)}):", "    for r in range(o0.shape[0]):",
             "        for c in range(o0.shape[1]):"]
    values = {f"v{k}": f"v{i}" for i, k in enumerate(run.written)}  # stable names: the
    rename.update(values)  # source text is the loop's cache key
    for f, codes, key, dtype in run.steps:
        expr = (_BINARY.get(f) or _UNARY[f]).format(*codes)
        expr = re.sub(r"\b[av]\d+\b", lambda m: rename.get(m.group(0), m.group(0)), expr)
        cast = "np.bool_" if dtype == np.bool_ else f"np.{dtype.type.__name__}"
        lines.append(f"            {values[f'v{key}']} = {cast}({expr})")  # each op rounds
    lines += [f"            o{i}[r, c] = {values[f'v{k}']}" for i, k in enumerate(stored)]
    return "\n".join(lines) + "\n", outs, [v for _, v in inputs]


def _close(run: _Run, touched: list[set[int]], external: set[int]) -> tuple | None:
    """The fused entry that replaces `run`'s entries (None: too short to pay). `touched`:
    the roots each entry of the plan reads or writes (a later write too: keep the order)."""
    if len(run.steps) < _MIN_RUN:
        return None
    inside = set(run.entries)
    needed = set(external)
    for i, roots in enumerate(touched):
        if i not in inside:
            needed |= roots
    stored = [k for k, w in run.written.items() if id(root(w)) in needed]
    if not stored:
        return None
    text, outs, inputs = _source(run, stored)
    loop = fusion.compiled(text, tuple(f.__name__ for f, *_ in run.steps))
    args = outs + inputs + list(run.scalars)
    if not fusion.ready(loop, outs + inputs + [0.0] * len(run.scalars)):
        return None
    return ("call", loop, args, {}, outs)


def fuse_loops(entries: list[tuple], external: set[int]) -> tuple[list[tuple], list[int]]:
    """(entries with runs of element-wise calls fused into loops, the fused entries' indices).
    `external`: the roots something outside the entries reads (state, outputs, inputs)."""
    out: list[tuple] = []
    fused: list[int] = []
    run: _Run | None = None
    touched = [reads(e) | writes(e) for e in entries]

    def flush() -> None:
        nonlocal run
        if run is None:
            return
        done = _close(run, touched, external)
        if done is None:
            out.extend(entries[i] for i in run.entries)
        else:
            fused.append(len(out))
            out.append(done)
        run = None

    for i, e in enumerate(entries):
        call = _ufunc_call(e)
        if call is not None and run is not None and _add(run, *call):
            run.entries.append(i)
            continue
        flush()
        if call is not None:
            f, args, o = call
            dtype = _loop_dtype(f, args, o)
            if dtype is not None and o.flags.c_contiguous and o.size >= fusion.min_size() \
                    and fusion.enabled():
                run = _Run(o.shape, dtype)
                if _add(run, f, args, o):
                    run.entries.append(i)
                    continue
                run = None
        out.append(e)
    flush()
    return out, fused

