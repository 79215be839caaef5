"""The state a compiled step touches: found once, swapped for tracers during a trace.

`discover` looks for modules, optimizers and tensors in the function's arguments, its
closure, the globals it names (and those of the plain functions it calls, two levels deep)
and anything passed as `state=`. Their arrays are the plan's state buffers: parameters and
module buffers (`.data`), gradients (`.grad`), optimizer state arrays;
Python numbers in optimizer state (`step`), each group's `lr` and the optimizer's own
number attributes (Keras's `iterations`) become scalar inputs.
`enter` swaps them for tracers before a trace; `leave` puts plain arrays back and says, as
`Cell`s, where each slot's values live after a call (the plan binds them the same way).
"""

from __future__ import annotations

import operator
import types
from typing import Any

import numpy as np

from ..nn.module import Module
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from .plan import Cell
from .recorder import Recorder, Ref, TraceError
from .tracer import TracedArray, TracedScalar, raw, root

_MAX_CONTAINER = 64  # longer lists/dicts are data, not state: not searched
_SKIP_MODULES = ("gradkit", "numpy", "builtins", "torch")


class Captured:
    """What `discover` found: modules (with every sub-module), optimizers and tensors."""

    def __init__(self) -> None:
        self.modules: list[Module] = []
        self.optimizers: list[Optimizer] = []
        self.tensors: list[Tensor] = []
        self._ids: set[int] = set()

    def add(self, obj: Any) -> bool:
        """Take `obj` if it is state; False for anything else."""
        if isinstance(obj, Module):
            for m in obj.modules():
                if id(m) not in self._ids:
                    self._ids.add(id(m))
                    self.modules.append(m)
                    for t in [*m._parameters.values(), *m._buffers.values()]:
                        self.add(t)
            return True
        if isinstance(obj, Optimizer):
            if id(obj) not in self._ids:
                self._ids.add(id(obj))
                self.optimizers.append(obj)
                for g in obj.param_groups:
                    for p in g["params"]:
                        self.add(p)
            return True
        if isinstance(obj, Tensor):
            if id(obj) not in self._ids:
                self._ids.add(id(obj))
                self.tensors.append(obj)
            return True
        return False

    def owns(self, t: Any) -> bool:
        return id(t) in self._ids

    def key(self) -> tuple:
        """What of the state a plan depends on, cheaply (it is taken on every call):
        training flags, which gradients exist, the optimizers' containers and options
        (the learning rate is an input)."""
        return (tuple(map(_TRAINING, self.modules)),
                tuple([t.grad is None for t in self.tensors]),
                tuple([_optimizer_key(o) for o in self.optimizers]))


_TRAINING = operator.attrgetter("training")


def _optimizer_key(opt: Optimizer) -> tuple:
    """The optimizer's containers; its options are checked by the plan itself (`options`)."""
    return (id(opt.state), len(opt.state), *[(id(g), len(g)) for g in opt.param_groups])


def options(cap: Captured) -> list[tuple[dict, Any, Any]]:
    """(group, name, value) of every option but `params` and `lr`: a replay starts by
    checking that each is still the same object (else it traces again)."""
    return [(g, k, v) for o in cap.optimizers for g in o.param_groups for k, v in g.items()
            if k != "params" and k != "lr"]


def _scan(obj: Any, found: Captured, depth: int, seen: set[int]) -> None:
    if id(obj) in seen or obj is None or isinstance(obj, (int, float, str, bytes)):
        return
    seen.add(id(obj))
    if found.add(obj) or depth <= 0:
        return
    if isinstance(obj, (list, tuple, set, frozenset)) and len(obj) <= _MAX_CONTAINER:
        for v in obj:
            _scan(v, found, depth - 1, seen)
    elif isinstance(obj, dict) and len(obj) <= _MAX_CONTAINER:
        for v in obj.values():
            _scan(v, found, depth - 1, seen)
    elif isinstance(obj, types.MethodType):
        _scan(obj.__self__, found, depth, seen)
        _scan(obj.__func__, found, depth, seen)
    elif isinstance(obj, types.FunctionType):
        if not (obj.__module__ or "").startswith(_SKIP_MODULES):
            _scan_function(obj, found, depth - 1, seen)
    elif isinstance(obj, (types.ModuleType, type, np.ndarray)):
        return
    elif hasattr(obj, "__dict__") and len(vars(obj)) <= _MAX_CONTAINER:
        for v in vars(obj).values():
            _scan(v, found, depth - 1, seen)


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _names(c)
    return names


def _scan_function(fn: types.FunctionType, found: Captured, depth: int, seen: set[int]) -> None:
    for cell in fn.__closure__ or ():
        try:
            _scan(cell.cell_contents, found, depth, seen)
        except ValueError:  # an empty cell
            continue
    for name in sorted(_names(fn.__code__)):
        if name in fn.__globals__:
            _scan(fn.__globals__[name], found, depth, seen)


def discover(fn: Any, args: tuple, kwargs: dict, state: Any) -> Captured:
    """The modules, optimizers and tensors that `fn` reaches (see the module docstring)."""
    found, seen = Captured(), set[int]()
    passed = [*args, *kwargs.values()]
    # tensors passed in (a batch) are inputs, even where fn's objects also hold them (a
    # trainer that keeps its batch in an attribute); a module's parameters stay state
    seen.update(_passed_tensors(passed, []))
    _scan(state, found, 3, seen)
    _scan(fn, found, 3, seen)
    for a in passed:
        _scan(a, found, 2, seen)
    return found


def _passed_tensors(values: Any, into: list[int]) -> list[int]:
    """The ids of the tensors in arguments, through tuples, lists and dicts (the inputs)."""
    for v in values:
        if isinstance(v, Tensor):
            into.append(id(v))
        elif type(v) is tuple or type(v) is list:
            _passed_tensors(v, into)
        elif type(v) is dict:
            _passed_tensors(list(v.values()), into)
    return into


class Swap:
    """The slots a trace swapped for tracers, and what they held before."""

    def __init__(self) -> None:
        self.data: list[tuple[Tensor, np.ndarray]] = []
        self.grads: list[tuple[Tensor, Any, Any]] = []  # (tensor, entry grad, its stand-in)
        self.items: list[tuple[dict, Any, np.ndarray]] = []
        self.scalars: list[tuple[dict, Any, Any]] = []
        self.state_keys: list[tuple[Optimizer, int, list]] = []


def enter(cap: Captured, rec: Recorder) -> Swap:
    """Swap every captured slot for a tracer (arrays) or a TracedScalar (numbers)."""
    swap = Swap()
    for t in cap.tensors:
        buf = t._data
        swap.data.append((t, buf))
        t._data = rec.tracer(buf, "state")
        g = t.grad
        if g is not None:  # an entry gradient: read through a copy the plan owns
            stand_in = Tensor._wrap(rec.tracer(np.array(g._data), "state"))
            swap.grads.append((t, g, stand_in))
            t.grad = stand_in
        else:
            swap.grads.append((t, None, None))
    for opt in cap.optimizers:
        swap.state_keys.append((opt, len(opt.state), [sorted(s) for s in opt.state.values()]))
        for st in opt.state.values():
            for k, v in list(st.items()):
                if isinstance(v, np.ndarray):
                    swap.items.append((st, k, v))
                    st[k] = rec.tracer(v, "state")
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    st[k] = rec.scalar_input(st, k)
                    swap.scalars.append((st, k, st[k]))
        for group in opt.param_groups:
            if isinstance(group["lr"], (int, float)) and not isinstance(group["lr"], bool):
                group["lr"] = rec.scalar_input(group, "lr")
                swap.scalars.append((group, "lr", group["lr"]))
        attrs = vars(opt)  # numbers kept on the optimizer itself (Keras's `iterations`)
        for k, v in list(attrs.items()):
            if type(v) in (int, float):
                attrs[k] = rec.scalar_input(attrs, k)
                swap.scalars.append((attrs, k, attrs[k]))
    return swap


def _plain(value: Any) -> Any:
    return raw(value) if type(value) is TracedArray else value


def leave(swap: Swap, rec: Recorder) -> tuple[list[Cell], list[tuple], list[Tensor], bool]:
    """Put plain values back: (cells, scalar writes, tensors written, stable). `stable` is
    False when the trace created optimizer state (a first step): trace again later."""
    cells: list[Cell] = []
    bumps: list[Tensor] = []
    for t, buf in swap.data:
        final = _plain(t._data)
        t._data = final
        cells.append(Cell("attr", t, "_data", buf, final))
        if id(root(final)) in rec.written or final is not buf:
            bumps.append(t)
    for t, entry, stand_in in swap.grads:
        cells.append(_grad_cell(t, entry, stand_in, rec))
    for st, k, buf in swap.items:
        final = _plain(st[k])
        st[k] = final
        cells.append(Cell("item", st, k, buf, final))
    writes = []
    for container, k, traced in swap.scalars:
        final = container[k]
        if type(final) is TracedScalar:
            container[k] = final.value
            if final is not traced:
                writes.append((container, k, Ref(final.slot)))
        elif final != traced.value:
            if k == "lr":
                raise TraceError("gk.compile: the learning rate was set inside the compiled "
                                 "function; step lr schedulers outside it")
            writes.append((container, k, final))
    stable = all(len(o.state) == n and [sorted(s) for s in o.state.values()] == keys
                 for o, n, keys in swap.state_keys)
    return cells, writes, bumps, stable


def _grad_cell(t: Tensor, entry: Any, stand_in: Any, rec: Recorder) -> Cell:
    """How `t.grad` is bound after a call: "keep" (untouched), None, or a fixed Tensor
    around the plan's gradient buffer."""
    final = t.grad
    entry_buf = None if stand_in is None else raw(stand_in._data)
    used = entry_buf is not None and id(root(entry_buf)) in rec.read_roots
    if final is None:
        return Cell("grad", t, "grad", entry_buf if used else None, None)
    if final is stand_in and entry_buf is not None and id(root(entry_buf)) not in rec.written:
        t.grad = entry
        return Cell("grad", t, "grad", entry_buf if used else None, "keep")
    fixed = Tensor._wrap(_plain(final._data))
    t.grad = fixed
    return Cell("grad", t, "grad", entry_buf if used else None, fixed)
