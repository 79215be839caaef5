"""NumPy entry points that would escape a trace, patched for its duration (its thread only).

`np.asarray(tracer)` would hand back a plain array and `np.zeros(shape)` makes one that no
tracer touches, so later writes into it (a gradient scattered into zeros) would not be
recorded. While a trace runs, these module attributes route tracers to the recorder and make
new arrays plan buffers (re-filled on every replay), `math.sqrt` & co. of a scalar input
a step of the scalar program; `gradkit.backend.random.generator`
returns a proxy whose draws are replayed, so a replay consumes the random stream exactly as
the eager step would (dropout masks stay fresh), the recurrent ops' `WORKSPACE` hands
out fresh plan buffers instead of pooled arrays, and the GEMM seam (`backend.gemm.matmul`)
is recorded as one call (the replay uses the eager step's BLAS). Other threads see the
originals.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..backend import gemm
from ..backend import random as gkrandom
from ..ops.sequence import WORKSPACE
from .tracer import TracedArray, TracedScalar, active, raw, traced_in

_CONVERSIONS = ("asarray", "array", "ascontiguousarray", "asfortranarray")
_CREATIONS = {"zeros": 0, "ones": 1, "empty": None, "full": "fill_value"}
_ORIGINAL: dict[str, Any] = {n: getattr(np, n) for n in (*_CONVERSIONS, *_CREATIONS)}
_MATH = {n: getattr(math, n) for n in ("isfinite", "isnan", "isinf")}
# math functions of a TracedScalar: steps of the scalar program (bias corrections)
_SCALAR_MATH = {n: getattr(math, n) for n in (
    "sqrt", "exp", "log", "log1p", "expm1", "log2", "log10", "pow", "cos", "sin", "tanh",
    "fabs", "floor", "ceil")}
_generator = gkrandom.generator
_thread: list[int | None] = [None]


def _ours() -> Any:
    """The active recorder when called from the tracing thread, else None; None as well for
    calls from NumPy itself or from gradkit.jit (a generator's own `np.empty`, say)."""
    if threading.get_ident() != _thread[0]:
        return None
    caller = sys._getframe(2).f_globals.get("__name__", "")
    if caller.startswith(("numpy", "gradkit.jit")):
        return None
    return active()


def _conversion(name: str) -> Any:
    original = _ORIGINAL[name]

    def convert(a: Any, *args: Any, **kwargs: Any) -> Any:
        rec = _ours()
        if rec is None or not traced_in(a):
            return original(a, *args, **kwargs)
        return rec.call(original, (a, *args), kwargs)

    convert.__name__ = name
    return convert


def _creation(name: str) -> Any:
    original, fill = _ORIGINAL[name], _CREATIONS[name]

    def create(*args: Any, **kwargs: Any) -> Any:
        rec = _ours()
        if rec is None:
            return original(*args, **kwargs)
        now, knows, recorded, reckw = rec._args(args, kwargs)
        buf = original(*now, **knows)
        value = fill
        if fill == "fill_value":
            value = recorded[1] if len(recorded) > 1 else reckw["fill_value"]
        if value is not None:  # re-filled on every replay (a later write may change it)
            rec.entries.append(("call", np.ndarray.fill, [buf, value], {}, [buf]))
        return rec.tracer(buf)

    create.__name__ = name
    return create


def _math_check(name: str) -> Any:
    """math.isfinite & co. of a tracer: a guard on the answer, not on the value."""
    original = _MATH[name]

    def check(x: Any) -> bool:
        rec = _ours()
        if rec is None or type(x) not in (TracedArray, TracedScalar):
            return original(x)
        if type(x) is TracedScalar:
            return original(rec.read(x, "__float__", ()))
        r = raw(x)
        return rec._guard("call", (original, [r], {}), original(r), f"math.{name}")

    check.__name__ = name
    return check


def _scalar_math(name: str) -> Any:
    original = _SCALAR_MATH[name]

    def scalar(*args: Any) -> Any:
        rec = _ours()
        if rec is None or not any(type(a) is TracedScalar for a in args):
            return original(*args)
        return rec.scalar_op(original, args)

    scalar.__name__ = name
    return scalar


def draw(device: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """One draw of the global generator of `device` (what a replay runs)."""
    return getattr(_generator(device), name)(*args, **kwargs)


draw.effect = True  # type: ignore[attr-defined]  # never dropped as dead code


class _TracedGenerator:
    """Stands for `gkrandom.generator(device)` in a trace: each draw is recorded."""

    def __init__(self, device: Any) -> None:
        self._device = device

    def __getattr__(self, name: str) -> Any:
        def traced_draw(*args: Any, **kwargs: Any) -> Any:
            rec = _ours()
            if rec is None:
                return getattr(_generator(self._device), name)(*args, **kwargs)
            now, knows, recorded, reckw = rec._args(args, kwargs)
            buf = rec._fresh(draw(self._device, name, *now, **knows))
            rec.entries.append(("assign", [buf], draw, [self._device, name, *recorded],
                                reckw, None))
            return rec.tracer(buf)

        return traced_draw


def _workspace_empty(xp: Any, shape: tuple, dtype: Any) -> Any:
    """`WORKSPACE.empty` in a trace: a fresh plan buffer, never a pooled array (a pooled
    one is written by calls on plain arrays, which no tracer sees)."""
    rec = active() if threading.get_ident() == _thread[0] else None
    if rec is None or xp is not np:
        return _workspace(xp, shape, dtype)
    return rec.tracer(_ORIGINAL["empty"](shape, dtype=dtype))


_workspace = WORKSPACE.empty
_seam: list[Any] = [gemm.matmul]  # the GEMM seam as it was when the trace began


def _traced_matmul(a: Any, b: Any, out: Any = None) -> Any:
    """`gemm.matmul` in a trace: the seam itself is recorded (with its `out=` buffer), so the
    replay runs the same library as the eager step (a faster BLAS for large products)."""
    seam = _seam[0]
    rec = _ours()
    if rec is None or TracedArray not in (type(a), type(b), type(out)):
        return seam(a, b, out)
    ra, rb = raw(a), raw(b)
    if out is None:
        buf = raw(seam(ra, rb))  # fresh (from a patched np.empty, maybe): a plan buffer
        rec._fresh(buf)
    else:
        buf = raw(out)
        rec._writes([buf])
        seam(ra, rb, buf)
    rec.entries.append(("call", seam, [ra, rb], {"out": buf}, [buf]))
    return out if out is not None else rec.tracer(buf)


def _traced_generator(device: Any = "cpu") -> Any:
    return _TracedGenerator(device) if _ours() is not None else _generator(device)


@contextmanager
def patched() -> Iterator[None]:
    """Within the block (one trace on this thread), the patches above are in place."""
    _thread[0] = threading.get_ident()
    for name in _CONVERSIONS:
        setattr(np, name, _conversion(name))
    for name in _CREATIONS:
        setattr(np, name, _creation(name))
    for name in _MATH:
        setattr(math, name, _math_check(name))
    for name in _SCALAR_MATH:
        setattr(math, name, _scalar_math(name))
    gkrandom.generator = _traced_generator
    WORKSPACE.empty = _workspace_empty  # type: ignore[method-assign]
    _seam[0] = gemm.matmul
    gemm.matmul = _traced_matmul
    try:
        yield
    finally:
        for name, original in _ORIGINAL.items():
            setattr(np, name, original)
        for name, original in (*_MATH.items(), *_SCALAR_MATH.items()):
            setattr(math, name, original)
        gkrandom.generator = _generator
        del WORKSPACE.empty  # the class's method again
        if gemm.matmul is _traced_matmul:  # (else the seam resolved itself meanwhile)
            gemm.matmul = _seam[0]
        _thread[0] = None
