"""Moving a value read ahead of the step's first write to lasting state (a guard "hoisted").

A replay whose guard fails runs the call eagerly, so no guard may come after a write to
parameters, gradients or optimizer state (the write would happen twice). Many value reads
that happen after such a write do not depend on it: a loss's label check after a
BatchNorm layer updated its running stats, a later layer's NaN check. `hoist` moves such a
guard, with the entries it depends on (its *slice*), to just before the first write. The
slice is every later entry the guard depends on, through the values it reads (read after
write) and through the buffers it overwrites (write after read, write after write: a mask
that reads a buffer before an in-place update of it moves too), so no entry left behind
sees a different value; random draws keep their order. When the slice holds a write to
state, the read does depend on the step's writes and cannot move.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tracer import root

_EFFECT = -1  # a pseudo buffer that every random draw reads and writes (their order)


def roots(values: Any, into: set[int]) -> set[int]:
    for v in values:
        if isinstance(v, np.ndarray):
            into.add(id(root(v)))
        elif type(v) is tuple or type(v) is list:
            roots(v, into)
        elif type(v) is dict:
            roots(list(v.values()), into)
    return into


def reads(e: tuple) -> set[int]:
    """The buffers (roots) entry `e` reads."""
    kind = e[0]
    if kind == "call":
        return roots([e[2], e[3]], set())
    if kind == "assign":
        found = roots([e[3], e[4]], set())
        if getattr(e[2], "effect", False):
            found.add(_EFFECT)
        return found
    if kind == "guard" and e[1] != "scalar":
        return roots([e[2]], set())
    return set()


def writes(e: tuple) -> set[int]:
    """The buffers (roots) entry `e` writes."""
    if e[0] == "call":
        return roots(e[4], set())
    if e[0] == "assign":
        found = roots(e[1], set())
        if getattr(e[2], "effect", False):
            found.add(_EFFECT)
        return found
    if e[0] == "guard" and e[1] == "shape":
        return roots(e[2][3], set())
    return set()


def hoist(entries: list[tuple], start: int, guard: tuple,
          state: set[int]) -> tuple[list[tuple], int] | None:
    """(`entries` with `guard` (not yet in them) and its slice moved to index `start`, the
    first write to `state`; that write's new index), or None when the move could change a
    value (some entry the guard depends on writes state)."""
    need_reads, need_writes = reads(guard), writes(guard)
    moved: list[int] = []
    for i in range(len(entries) - 1, start - 1, -1):
        r, w = reads(entries[i]), writes(entries[i])
        if w & need_reads or w & need_writes or r & need_writes:
            if w & state:
                return None
            moved.append(i)
            need_reads |= r
            need_writes |= w
    moved.reverse()
    chosen = set(moved)
    front = [*entries[:start], *[entries[i] for i in moved], guard]
    return front + [entries[i] for i in range(start, len(entries)) if i not in chosen], \
        len(front)
