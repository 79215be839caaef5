"""The check of a new plan: replayed once from the state before its trace, it must give the
traced step's state and outputs bit for bit (else something escaped the trace).

`Snapshot(cap)` copies the captured state (arrays, gradient bindings, optimizer numbers, the
random generators) before a trace; `replays` keeps what the trace left (S1), restores the
snapshot (S0), replays the plan on the same inputs and compares. On a mismatch it puts S1
back, so the call's result is the traced (eager) step's either way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import random as gkrandom
from .plan import Cell


def _same_bits(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    return bool(a == b) or (a != a and b != b)


def _value(c: Cell) -> Any:
    """What slot `c` holds now (an array, or None for an unset gradient)."""
    if c.kind == "attr":
        return getattr(c.owner, c.key)
    if c.kind == "item":
        return c.owner[c.key]
    return None if c.owner.grad is None else c.owner.grad._data


class Snapshot:
    """The captured state before a trace (S0)."""

    def __init__(self, cap: Any) -> None:
        self.tensors = [(t, t._data, np.array(t._data), t.grad) for t in cap.tensors]
        self.items = []
        for opt in cap.optimizers:
            for st in opt.state.values():
                for k, v in st.items():
                    self.items.append((st, k, v, np.array(v) if isinstance(v, np.ndarray)
                                       else v))
            for g in opt.param_groups:
                self.items.append((g, "lr", g["lr"], g["lr"]))
            attrs = vars(opt)  # its own numbers (Keras's `iterations`), as capture takes them
            self.items += [(attrs, k, v, v) for k, v in attrs.items() if type(v) in (int, float)]
        self.rng = gkrandom.get_rng_state()
        self.error = ""

    def _restore(self) -> None:
        for t, arr, copy, grad in self.tensors:
            np.copyto(arr, copy)
            t._data, t.grad = arr, grad
        for st, k, v, copy in self.items:
            if isinstance(v, np.ndarray):
                np.copyto(v, copy)
            st[k] = v
        gkrandom.set_rng_state(self.rng)

    def replays(self, plan: Any, cells: list[Cell], writes: list[tuple], outputs: list,
                leaves: list) -> bool:
        """Whether `plan` from S0 reproduces the traced step (S1); S1 is left either way."""
        s1 = []
        for c in cells:
            v = _value(c)
            s1.append((c, v, None if v is None else np.array(v),
                       c.owner.grad if c.kind == "grad" else None))
        scalars = [(d, k, d[k]) for d, k, _ in writes]
        rng = gkrandom.get_rng_state()
        self._restore()
        try:
            got = plan.run(*[t if isinstance(t, np.ndarray) else t._data for t in leaves])
        except Exception as exc:  # reported in the warning
            self.error = f" ({type(exc).__name__}: {exc})"
            got = None
        ok = got is not None and len(got) == len(outputs) and all(
            _same_bits(a, b) for a, b in zip(got, outputs))
        for c, _, copy, _ in s1:
            now = _value(c)
            ok = ok and (now is None) == (copy is None) and (copy is None or
                                                           _same_bits(now, copy))
        ok = ok and all(_same_bits(d[k], v) for d, k, v in scalars)
        if not ok:  # put the traced step's state back
            for c, value, copy, grad in s1:
                if c.kind == "attr":
                    setattr(c.owner, c.key, value)
                elif c.kind == "item":
                    c.owner[c.key] = value
                else:
                    c.owner.grad = grad
                if copy is not None:
                    np.copyto(value, copy)
            for d, k, v in scalars:
                d[k] = v
            gkrandom.set_rng_state(rng)
        return ok
