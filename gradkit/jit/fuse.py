"""Two rewrites of a plan's entries that save NumPy calls and copies on every replay.

`fuse_guards`: a guard whose value is made by a short chain of calls that write small
buffers nothing else reads (a data check: `max(labels) < C`, `isfinite(sum(x))`) is emitted
as one expression, `bool(less(maximum.reduce(y), C))`: the intermediate results stay NumPy
scalars instead of being written into 0-d buffers (the same loops, the same values). The
guard is a *fused node* of the plan (`Plan.fused`, drawn so by `gk.viz.draw_graph`).

`local_results`: a small fresh result that an entry makes (`x[rows, labels]`, a copy) and
that is only read afterwards, through that very array (no views of it are baked into the
plan), is bound to its name in the replay instead of being copied into a buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .hoist import reads, roots, writes
from .tracer import root

_SMALL = 64  # elements: results this small are inlined into a guard's expression
_LOCAL_BYTES = 1 << 16  # results this small are bound, not copied


class Expr:
    """A call inlined into a guard: `f(*args, **kwargs)` without its `out=`."""

    __slots__ = ("f", "args", "kwargs")

    def __init__(self, f: Any, args: list, kwargs: dict) -> None:
        self.f, self.args, self.kwargs = f, args, kwargs


def views(values: Any, into: dict[int, dict[int, np.ndarray]]) -> None:
    """root id -> {id: array} of every array (the root or a view of it) in `values`."""
    for v in values:
        if isinstance(v, np.ndarray):
            into.setdefault(id(root(v)), {})[id(v)] = v
        elif type(v) is tuple or type(v) is list:
            views(v, into)
        elif type(v) is dict:
            views(list(v.values()), into)
        elif type(v) is Expr:
            views([v.args, v.kwargs], into)


def _producer(e: tuple, buf: np.ndarray) -> bool:
    """Whether entry `e` is a call whose only effect is writing `buf` through `out=`."""
    if e[0] != "call" or len(e[4]) != 1 or e[4][0] is not buf:
        return False
    out = e[3].get("out")
    return (out is buf or (type(out) is tuple and len(out) == 1 and out[0] is buf)) and \
        not getattr(e[1], "effect", False)


def _readers(entries: list[tuple]) -> dict[int, int]:
    """root id -> how many entries read it (a call's own `out=` is no read)."""
    count: dict[int, int] = {}
    for e in entries:
        found = roots([e[2], {k: v for k, v in e[3].items() if k != "out"}], set()) \
            if e[0] == "call" else reads(e)
        for r in found:
            count[r] = count.get(r, 0) + 1
    return count


def fuse_guards(entries: list[tuple], external: set[int]) -> tuple[list[tuple], list[int]]:
    """(entries with guard chains inlined, the indices (in the result) of fused guards).
    `external`: roots something outside the entries reads (state, outputs, inputs)."""
    entries = list(entries)
    count = _readers(entries)
    writers: dict[int, list[int]] = {}
    for i, e in enumerate(entries):
        for r in writes(e):
            writers.setdefault(r, []).append(i)
    dropped: set[int] = set()

    def inline(v: Any, at: int) -> Any:
        """`v` (an argument of the entry at index `at`) as an Expr when it can be."""
        if not isinstance(v, np.ndarray) or v.size > _SMALL or root(v) is not v:
            return v
        key = id(v)
        where = writers.get(key, [])
        if key in external or count.get(key) != 1 or len(where) != 1 or where[0] >= at:
            return v
        i = where[0]
        e = entries[i]
        needed = reads(e)
        if not _producer(e, v) or any(writes(entries[j]) & needed for j in range(i + 1, at)
                                      if j not in dropped):
            return v
        dropped.add(i)
        args = [inline(a, i) for a in e[2]]
        return Expr(e[1], args, {k: a for k, a in e[3].items() if k != "out"})

    for at, e in enumerate(entries):
        if e[0] != "guard" or e[1] not in ("read", "call"):
            continue
        payload = e[2]
        if e[1] == "read":
            new = (inline(payload[0], at), *payload[1:])
        else:
            new = (payload[0], [inline(a, at) for a in payload[1]], payload[2])
        if any(type(a) is Expr for a in (new[:1] if e[1] == "read" else new[1])):
            entries[at] = (e[0], e[1], new, *e[3:])
    kept = [e for i, e in enumerate(entries) if i not in dropped]
    fused = [i for i, e in enumerate(kept) if e[0] == "guard" and _has_expr(e)]
    return kept, fused


def _has_expr(e: tuple) -> bool:
    payload = e[2]
    values = payload[:1] if e[1] == "read" else payload[1] if e[1] == "call" else ()
    return any(type(a) is Expr for a in values)


def local_results(entries: list[tuple], external: set[int]) -> set[int]:
    """The ids of the buffers that the replay may bind to the result of the one entry that
    makes them ("assign" entries), instead of copying into them."""
    names: dict[int, dict[int, np.ndarray]] = {}
    writers: dict[int, int] = {}
    for e in entries:
        if e[0] == "call":
            views([e[2], e[3], e[4]], names)
        elif e[0] == "assign":
            views([e[1], e[3], e[4]], names)
        elif e[0] == "guard" and e[1] != "scalar":
            views([e[2]], names)
        for r in writes(e):
            writers[r] = writers.get(r, 0) + 1
    found = set()
    for e in entries:
        if e[0] != "assign" or e[5] is not None or getattr(e[2], "effect", False):
            continue
        buf = e[1][0]
        key = id(buf)
        if root(buf) is buf and key not in external and writers.get(key) == 1 and \
                names.get(key, {}).keys() == {key} and buf.nbytes <= _LOCAL_BYTES:
            found.add(key)
    return found
