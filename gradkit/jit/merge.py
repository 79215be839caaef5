"""Runs of the same element-wise calls on different parameters, merged into one call each.

An optimizer updates its parameters one by one: for plain SGD `multiply(g_i, lr, t_i)` then
`subtract(w_i, t_i, w_i)` for every parameter i, two NumPy calls a parameter. When the plan
holds k consecutive runs of the same calls (the same ufuncs, the same scalars, each run on
buffers of its own, element-wise: no broadcasting), `merge_runs` places the buffers of each
role (every run's w, every run's g, ...) side by side in one flat array, each buffer now a
view of it, and replaces the k runs by one run on those flat arrays: two calls in all
instead of 2k. Every element meets the same ops in the same order, so the numbers are the
same bit for bit. A buffer moves only when the plan owns it (not an input) and the plan
writes it with calls only; views of it baked into the plan (`w.T` of a forward product)
are made again on the moved buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .fuse import views
from .hoist import writes
from .plan import Cell
from .recorder import Ref

MAX_RUN = 8  # entries a run may hold (an optimizer's update of one parameter)


def _signature(run: list[tuple], movable: set[int]) -> tuple | None:
    """The shape of a run with its buffers numbered by first use (None: not mergeable),
    and those buffers in role order."""
    roles: dict[int, int] = {}
    bufs: list[np.ndarray] = []
    sig: list[Any] = []
    for e in run:
        if e[0] != "call" or type(e[1]) is not np.ufunc or e[3].keys() != {"out"}:
            return None
        out = e[3]["out"]
        out = out[0] if type(out) is tuple and len(out) == 1 else out
        if not isinstance(out, np.ndarray) or e[1].nout != 1 or id(out) not in movable \
                or not out.ndim:
            return None  # each run writes buffers of its own
        parts: list[Any] = []
        for a in (*e[2], out):
            if isinstance(a, np.ndarray) and a.ndim and id(a) in movable:
                if a.shape != out.shape:
                    return None  # broadcasting: not element by element
                if id(a) not in roles:
                    roles[id(a)] = len(bufs)
                    bufs.append(a)
                parts.append(("buf", roles[id(a)], a.dtype.str))
            elif type(a) is Ref:
                parts.append(("ref", a.slot))
            elif type(a) in (int, float, bool):
                parts.append(("num", type(a), a))
            elif isinstance(a, np.ndarray) and a.ndim == 0:
                parts.append(("obj", id(a)))
            else:
                return None
        sig.append((e[1], tuple(parts)))
    return tuple(sig), bufs


def _runs_at(entries: list[tuple], i: int, movable: set[int]) -> tuple[int, list] | None:
    """(run length, each run's buffers) of the longest merge starting at entry i."""
    best: tuple[int, list] | None = None
    for n in range(1, MAX_RUN + 1):
        first = _signature(entries[i:i + n], movable)
        if first is None:
            break
        runs, seen = [first[1]], {id(b) for b in first[1]}
        j = i + n
        while j + n <= len(entries):
            nxt = _signature(entries[j:j + n], movable)
            if nxt is None or nxt[0] != first[0] or any(id(b) in seen for b in nxt[1]):
                break
            runs.append(nxt[1])
            seen |= {id(b) for b in nxt[1]}
            j += n
        if len(runs) > 1 and (best is None or len(runs) * n > len(best[1]) * best[0]):
            best = (n, runs)
    return best


def _arenas(runs: list[list[np.ndarray]], views: dict[int, dict[int, np.ndarray]],
            ) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    """One flat array per role holding every run's buffer of that role; old id -> its
    place there (for the buffer and each of its views)."""
    flats, moved = [], {}
    for role in range(len(runs[0])):
        members = [r[role] for r in runs]
        flat = np.empty(sum(b.size for b in members), members[0].dtype)
        at = 0
        for b in members:
            view = flat[at:at + b.size].reshape(b.shape)
            view[...] = b
            moved[id(b)] = view
            for key, v in views.get(id(b), {}).items():
                if key != id(b):  # the same window of the same bytes, in the new place
                    moved[key] = np.ndarray(v.shape, v.dtype, buffer=flat, strides=v.strides,
                                            offset=at * b.itemsize + _start(v) - _start(b))
            at += b.size
        flats.append(flat)
    return flats, moved


def _start(a: np.ndarray) -> int:
    return int(a.__array_interface__["data"][0])


def replace_arrays(v: Any, moved: dict[int, Any]) -> Any:
    """`v` with the arrays in `moved` (by id) replaced, through tuples, lists and dicts."""
    if isinstance(v, np.ndarray):
        return moved.get(id(v), v)
    if type(v) is tuple or type(v) is list:
        return type(v)(replace_arrays(x, moved) for x in v)
    if type(v) is dict:
        return {k: replace_arrays(x, moved) for k, x in v.items()}
    return v


def _names(entries: list[tuple], cells: list[Cell], outputs: list,
           ) -> dict[int, dict[int, np.ndarray]]:
    names: dict[int, dict[int, np.ndarray]] = {}
    for e in entries:
        views(list(e[1:]), names)
    views([[c.entry, c.exit, getattr(c.exit, "_data", None)] for c in cells], names)
    views(outputs, names)
    return names


def movable_buffers(entries: list[tuple], names: dict[int, dict[int, np.ndarray]],
                    owned: set[int]) -> set[int]:
    """The buffers a merge may move: C-contiguous roots the plan owns (`owned`: not
    inputs) that only calls write (a copy into a buffer or a result bound to its name,
    fuse.local_results, stays put)."""
    bound = set()
    for e in entries:
        if e[0] != "call":
            bound |= writes(e)
    return {key for key, arrays in names.items() if key in owned and key not in bound
            and key in arrays and arrays[key].flags.c_contiguous
            and arrays[key].flags.writeable}


def merge_runs(entries: list[tuple], cells: list[Cell], outputs: list,
               owned: set[int]) -> list[tuple]:
    """`entries` with every mergeable series of runs replaced by one run on flat arrays;
    `cells` (in place), the tensors they bind and `outputs` (in place) follow the moved
    buffers."""
    names = _names(entries, cells, outputs)
    movable = movable_buffers(entries, names, owned)
    moved: dict[int, np.ndarray] = {}
    out: list[tuple] = []
    i = 0
    while i < len(entries):
        found = _runs_at(entries, i, movable)
        if found is None:
            out.append(entries[i])
            i += 1
            continue
        n, runs = found
        flats, here = _arenas(runs, names)
        moved.update(here)
        movable -= {id(b) for r in runs for b in r}
        flat_of = {id(b): flats[role] for r in runs for role, b in enumerate(r)}
        for e in entries[i:i + n]:
            args = [flat_of.get(id(a), a) if isinstance(a, np.ndarray) else a for a in e[2]]
            o = flat_of[id(_out(e))]
            out.append(("call", e[1], args, {"out": (o,)}, [o]))
        i += n * len(runs)
    if moved:
        out = [replace_arrays(e, moved) for e in out]
        _follow(cells, outputs, moved)
    return out


def _out(e: tuple) -> np.ndarray:
    o = e[3]["out"]
    return o[0] if type(o) is tuple else o


def _follow(cells: list[Cell], outputs: list, moved: dict[int, np.ndarray]) -> None:
    for i, c in enumerate(cells):
        entry, exit_ = replace_arrays(c.entry, moved), c.exit
        if isinstance(exit_, np.ndarray):
            exit_ = replace_arrays(exit_, moved)
        elif hasattr(exit_, "_data") and id(exit_._data) in moved:
            exit_._data = moved[id(exit_._data)]  # the tensor bound as `.grad` after a call
        cells[i] = c._replace(entry=entry, exit=exit_)
    outputs[:] = [replace_arrays(o, moved) for o in outputs]
