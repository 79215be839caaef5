"""`gk.compile(fn)`: run a step eagerly once, trace it on the next call, replay it after.

For each signature (the arguments' structure, shapes and dtypes, Python values of the
non-array arguments, the identity of other objects; the modules' training flags, which
gradients exist, the optimizers' options; whether gradients are recorded (`no_grad`)) the
first call runs `fn` eagerly: it makes lazy
state such as optimizer buffers. The second call traces `fn` on tracers (a real step too),
builds the plan and, with `check=True`, replays it once from the state before the trace and
compares bit for bit (a mismatch warns and keeps that signature eager). Later calls replay.
A replay whose guard fails (a value read in Python changed, e.g. a data check) runs that
call eagerly; frequent failures warn. More than `max_signatures` plans warn and evict the
oldest. See docs/compile.md.
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ..grad_mode import GRAD_MODE
from ..tensor import Tensor
from . import capture
from .fuse import fuse_guards, local_results
from .loops import fuse_loops
from .merge import merge_runs, replace_arrays
from .patches import patched
from .plan import GuardFailed, Retrace, _arrays, build_replay, fold_constants, live_entries
from .recorder import Recorder, Ref
from .tracer import _ACTIVE, TracedArray, TracedScalar, raw, root
from .verify import Snapshot

_WARM = "warm"  # seen once: the next call traces
_EAGER = "eager"  # not compilable as traced: always eager
_WARN_AFTER = 8  # guard failures of one plan before a warning


class CompileWarning(UserWarning):
    """gk.compile had to run eagerly or trace again more than it should."""


class Plan:
    """One traced step: its replay function, source, guards and fallback count."""

    def __init__(self, run: Callable[..., tuple], source: str, guards: list, template: Any,
                 entries: list[tuple], fused: list[int]) -> None:
        self.run, self.source, self.guards, self.template = run, source, guards, template
        self.entries = entries  # what the replay runs (the recorder's format, recorder.py)
        self.fused = fused  # indices of entries that are fused nodes (fuse.py)
        self.nentries = len(entries)
        self.fallbacks = 0
        self.inputs: list = []  # the input buffers (None: unused), by argument leaf
        self.cells: list = []  # where state lives (plan.Cell)
        self.outputs: list = []  # the buffers (or scalar Refs) returned
        self.scalar_inputs: list = []  # (dict, key, slot) read at the start


class _Out:
    __slots__ = ("index", "tensor")

    def __init__(self, index: int, tensor: bool) -> None:
        self.index, self.tensor = index, tensor


def _walk(x: Any, leaves: list) -> Any:
    """The signature of one argument; its tensors and arrays appended to `leaves`."""
    if isinstance(x, Tensor):
        leaves.append(x)
        d = x._data
        return (type(d), d.shape, d.dtype, x.requires_grad)
    if isinstance(x, np.ndarray):
        leaves.append(x)
        return (np.ndarray, x.shape, x.dtype)
    if x is None or type(x) in (int, float, bool, str):
        return (type(x), x)
    if type(x) is tuple or type(x) is list:
        return (type(x), tuple([_walk(v, leaves) for v in x]))
    if type(x) is dict:
        return (dict, tuple([(k, _walk(v, leaves)) for k, v in x.items()]))
    return ("id", id(x))


def _outputs(x: Any, rec: Recorder, refs: list, now: list) -> Any:
    """The template of `fn`'s result: `_Out` where a value comes from the plan."""
    if isinstance(x, (Tensor, np.ndarray)):
        d = x._data if isinstance(x, Tensor) else x
        r = raw(d) if type(d) is TracedArray else d
        if isinstance(r, np.ndarray) and id(root(r)) in rec.buffers:
            refs.append(r)
            now.append(r.copy())
            return _Out(len(refs) - 1, isinstance(x, Tensor))
        return x
    if type(x) is TracedScalar:
        refs.append(Ref(x.slot))
        now.append(x.value)
        return _Out(len(refs) - 1, False)
    if type(x) is tuple or type(x) is list:
        return type(x)(_outputs(v, rec, refs, now) for v in x)
    if type(x) is dict:
        return {k: _outputs(v, rec, refs, now) for k, v in x.items()}
    return x


def _rebuild(t: Any, values: tuple | list) -> Any:
    if type(t) is _Out:
        v = values[t.index]
        return Tensor._wrap(v) if t.tensor else v
    if type(t) is tuple or type(t) is list:
        return type(t)(_rebuild(v, values) for v in t)
    if type(t) is dict:
        return {k: _rebuild(v, values) for k, v in t.items()}
    return t


class CompiledFunction:
    """`fn` traced once per signature and replayed; call it as `fn` (see `compile`)."""

    def __init__(self, fn: Callable[..., Any], state: Any = None, max_signatures: int = 8,
                 check: bool = True) -> None:
        self.fn, self.state, self.check = fn, state, check
        self.max_signatures = int(max_signatures)
        self.traces = 0  # how many traces were made (tests and the docs read it)
        self._plans: OrderedDict[tuple, Any] = OrderedDict()
        self._captured: dict[tuple, capture.Captured] = {}
        self._warned = False
        functools.update_wrapper(self, fn)

    def reset(self) -> None:
        """Forget every plan and what was discovered (e.g. after adding parameters)."""
        self._plans.clear()
        self._captured.clear()

    @property
    def plans(self) -> list[Plan]:
        """The plans made so far (most recent last)."""
        return [p for p in self._plans.values() if isinstance(p, Plan)]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _ACTIVE[0] is not None:  # called inside another trace: part of that one
            return self.fn(*args, **kwargs)
        leaves: list = []
        akey = (tuple([_walk(a, leaves) for a in args]),
                tuple([(k, _walk(v, leaves)) for k, v in kwargs.items()]) if kwargs else ())
        cap = self._captured.get(akey)
        if cap is None:
            cap = self._captured[akey] = capture.discover(self.fn, args, kwargs, self.state)
        key = (akey, cap.key(), bool(GRAD_MODE.enabled), _owned_ids(cap, leaves))
        entry = self._plans.get(key)
        if entry is None:
            self._remember(key, _WARM)
            return self.fn(*args, **kwargs)
        if entry is _WARM:
            if not _on_host(cap, leaves):
                self._plans[key] = _EAGER
                warnings.warn(f"gk.compile({getattr(self.fn, '__name__', 'fn')}): arrays on a "
                              f"GPU are not traced yet; this signature runs eagerly",
                              CompileWarning, stacklevel=2)
                return self.fn(*args, **kwargs)
            return self._trace(key, cap, leaves, args, kwargs)
        if entry is _EAGER:
            return self.fn(*args, **kwargs)
        try:
            values = entry.run(*[t._data if type(t) is not np.ndarray else t for t in leaves])
        except GuardFailed as failed:
            self._fell_back(entry, failed.index)
            return self.fn(*args, **kwargs)
        except Retrace:
            self._plans[key] = _WARM
            return self.fn(*args, **kwargs)
        return _rebuild(entry.template, values)

    def _remember(self, key: tuple, entry: Any) -> None:
        self._plans[key] = entry
        self._plans.move_to_end(key)
        if len(self._plans) > self.max_signatures:
            self._plans.popitem(last=False)
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"gk.compile({getattr(self.fn, '__name__', 'fn')}): more than "
                    f"{self.max_signatures} signatures (argument shapes/dtypes/values, "
                    f"training flags, optimizer options); each new one runs eagerly once and "
                    f"traces again. Keep shapes fixed (drop_last=True) or raise "
                    f"max_signatures", CompileWarning, stacklevel=3)

    def _fell_back(self, plan: Plan, index: int) -> None:
        plan.fallbacks += 1
        if plan.fallbacks == _WARN_AFTER:
            _, kind, payload, value, where = plan.guards[index]
            what = getattr(payload[0], "__name__", "?") if kind in ("call", "shape") \
                else payload[1]
            why, fix = ("the shape of a result that depends on values",
                        "Avoid boolean masks, nonzero() and unique() inside the compiled "
                        "function (gk.where keeps the shape)") if kind == "shape" else (
                "a value read in Python",
                "Avoid reading tensor values (bool(), float(), .item(), int()) inside the "
                "compiled function")
            warnings.warn(
                f"gk.compile({getattr(self.fn, '__name__', 'fn')}): {_WARN_AFTER} calls ran "
                f"eagerly because {why} changed: `{what.strip('_')}` at "
                f"{where} (traced value {value!r}). {fix}", CompileWarning, stacklevel=3)

    def _trace(self, key: tuple, cap: capture.Captured, leaves: list, args: tuple,
               kwargs: dict) -> Any:  # long: one trace, start to end, with its clean-up
        rec = Recorder()
        unique = list({id(t): t for t in leaves}.values())
        snapshot = Snapshot(cap) if self.check else None
        inputs: list[np.ndarray | None] = []
        swapped, subs = [], {}
        for leaf in unique:
            if capture_owned(cap, leaf):
                inputs.append(None)
                continue
            buf = np.array(leaf._data if isinstance(leaf, Tensor) else leaf)
            tracer = rec.tracer(buf, "input")
            inputs.append(buf)
            if isinstance(leaf, Tensor):
                swapped.append((leaf, leaf._data))
                leaf._data = tracer
            else:
                subs[id(leaf)] = tracer
        swap = capture.enter(cap, rec)
        refs: list = []
        now: list = []
        try:
            _ACTIVE[0] = rec
            with patched():
                result = self.fn(*replace_arrays(args, subs), **replace_arrays(kwargs, subs))
            template = _outputs(result, rec, refs, now)
        finally:
            _ACTIVE[0] = None
            for t, d in swapped:
                t._data = d
            cells, writes, bumps, stable = capture.leave(swap, rec)
        self.traces += 1
        if not stable:  # the trace made optimizer state: trace again on the next call
            return _rebuild(template, now)
        plan = _make_plan(rec, cells, inputs, writes, bumps, refs, template,
                          capture.options(cap))
        if snapshot is not None and not snapshot.replays(plan, cells, writes, now, unique):
            warnings.warn(
                f"gk.compile({getattr(self.fn, '__name__', 'fn')}): the traced plan does not "
                f"reproduce the eager step bit for bit (something in the function escapes "
                f"tracing: NumPy calls on arrays that are not tensors' data, Python state "
                f"changed inside it, ...){snapshot.error}; this signature runs eagerly",
                CompileWarning,
                stacklevel=3)
            self._plans[key] = _EAGER
        else:
            self._plans[key] = plan
        return _rebuild(template, now)


def _make_plan(rec: Recorder, cells: list, inputs: list, writes: list, bumps: list,
               refs: list, template: Any, options: list) -> Plan:
    """The plan of a finished trace: dead code dropped, constants folded, element-wise runs
    and guard chains fused, small results bound; then generated."""
    live = set(rec.state_roots) | _outliving(cells, refs)
    external = live | rec.input_roots | _arrays([c.entry for c in cells], set())
    own = set(rec.buffers) - external
    kept = live_entries(fold_constants(rec.entries, own), live)
    kept = merge_runs(kept, cells, refs, set(rec.buffers) - rec.input_roots)
    # the flat arrays merge_runs moved state into
    external |= _outliving(cells, refs) | _arrays([c.entry for c in cells], set())
    kept, looped = fuse_loops(kept, external)
    marks = {id(kept[i]) for i in looped}
    kept, fused = fuse_guards(kept, external)
    fused = sorted(fused + [i for i, e in enumerate(kept) if id(e) in marks])
    used: set[int] = set()
    for e in kept:
        _arrays(list(e[1:]), used)
    inputs = [b if b is not None and id(root(b)) in used else None for b in inputs]
    run, source, guards = build_replay(kept, cells, inputs, rec.scalar_inputs, writes,
                                       bumps, refs, rec.scalar_types,
                                       local_results(kept, external), options)
    plan = Plan(run, source, guards, template, kept, fused)
    plan.inputs, plan.cells, plan.outputs = inputs, cells, refs  # what a drawing names
    plan.scalar_inputs = rec.scalar_inputs
    return plan


def _outliving(cells: list, refs: list) -> set[int]:
    """The roots a call leaves behind: what the cells hold after it, and the outputs."""
    found = _arrays([c.exit for c in cells], set()) | _arrays(refs, set())
    return found | _arrays([c.exit._data for c in cells if isinstance(c.exit, Tensor)], set())


def _on_host(cap: capture.Captured, leaves: list) -> bool:
    """Whether every array the step touches is a NumPy array (the tracer's kind)."""
    return all(type(t._data) is np.ndarray for t in cap.tensors) and all(
        type(t) is np.ndarray or type(t._data) is np.ndarray for t in leaves)


def _owned_ids(cap: capture.Captured, leaves: list) -> tuple | None:
    """The identities of the arguments that are state (a parameter passed in): a plan reads
    those from the state, so another tensor in their place needs a plan of its own."""
    return tuple([id(t) for t in leaves if capture_owned(cap, t)]) or None


def capture_owned(cap: capture.Captured, leaf: Any) -> bool:
    """Whether argument `leaf` is state found by discovery (then it is no input)."""
    return isinstance(leaf, Tensor) and cap.owns(leaf)


def compile(fn: Callable[..., Any] | None = None, *, state: Any = None,
            max_signatures: int = 8, check: bool = True) -> Any:
    """Compile a step function: `step = gk.compile(fn)` or `@gk.compile` (see docs/compile.md).

    `state`: modules/optimizers/tensors the function uses that discovery would not find
    (it searches the arguments, the closure and the globals the function names).
    `max_signatures`: plans kept before a CompileWarning (shapes that keep changing).
    `check`: replay the first plan once from the state before its trace and compare it
    bit for bit with the traced step (one extra step per trace).
    """
    if fn is None:
        return functools.partial(compile, state=state, max_signatures=max_signatures,
                                 check=check)
    return CompiledFunction(fn, state=state, max_signatures=max_signatures, check=check)
