"""`tf.GradientTape` over gradkit's define-by-run graph.

gradkit records every op whose input requires grad, so the tape needs no recording of its
own: trainable Variables (and `gk.nn.Parameter`s, Keras weights) always require grad, and
`tape.watch(x)` makes a constant require grad while the tape records and while it computes
gradients (then it is a constant again). `gradient` is `gradkit.autograd.grad` with TF's
rules: non-scalar targets are summed (seeded with ones), several targets add up, sources may
be nested lists/tuples/dicts, sources the target does not depend on get `None` (or zeros
with `unconnected_gradients="zero"`), a non-persistent tape computes one set of gradients.
Called while another tape records (nested tapes), the gradients are themselves recorded
(`create_graph=True`), so the outer tape can differentiate them (second derivatives).
"""

from __future__ import annotations

import contextlib
import enum
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from ..autograd import grad as _grad
from ..errors import AutogradError
from ..grad_mode import no_grad
from ..tensor_base import TensorBase
from .nest import flatten, pack_sequence_as
from .tensor import from_array, retag, tf_array

__all__ = ["GradientTape", "UnconnectedGradients"]

_LOCAL = threading.local()  # .tapes: the tapes recording in this thread, innermost last
_HELD: dict[int, list[Any]] = {}  # id -> [tensor, count]: constants a tape made require grad


class UnconnectedGradients(enum.Enum):
    """What `gradient` returns for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


def _recording_tapes() -> list[GradientTape]:
    tapes = getattr(_LOCAL, "tapes", None)
    if tapes is None:
        tapes = _LOCAL.tapes = []
    return tapes


def _hold(t: TensorBase) -> bool:
    """Make `t` require grad for a tape; False when it did already (nothing to undo)."""
    entry = _HELD.get(id(t))
    if entry is not None:
        entry[1] += 1
        return True
    if t.requires_grad:
        return False
    t.requires_grad = True
    _HELD[id(t)] = [t, 1]
    return True


def _release(t: TensorBase) -> None:
    entry = _HELD[id(t)]
    entry[1] -= 1
    if entry[1] == 0:
        del _HELD[id(t)]
        t.requires_grad = False


def _check_tensors(values: list[Any], what: str) -> None:
    for v in values:
        if not isinstance(v, TensorBase):
            raise TypeError(f"GradientTape.gradient: {what} must be tensors or variables "
                            f"(or nested lists/dicts of them), got {type(v).__name__}")


def _seed(target: TensorBase, given: Any) -> Any:
    """The raw seed of one target: ones for a non-scalar one (TF sums it), else `given`."""
    if given is None:
        return None if target._data.size == 1 else target._xp.ones_like(target._data)
    return given._data if isinstance(given, TensorBase) else tf_array(given, target._data.dtype)


class GradientTape:
    """Records operations for automatic differentiation (TensorFlow's API)."""

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._persistent = bool(persistent)
        self._auto = bool(watch_accessed_variables)
        self._watched: dict[int, TensorBase] = {}
        self._holding: list[TensorBase] = []
        self._recording = False
        self._used = False

    # ---- recording ----------------------------------------------------------------------
    def __enter__(self) -> GradientTape:
        _recording_tapes().append(self)
        self._recording = True
        self._holding = [t for t in self._watched.values() if _hold(t)]
        return self

    def __exit__(self, *exc: Any) -> None:
        tapes = _recording_tapes()
        if self in tapes:
            tapes.remove(self)
        self._recording = False
        for t in self._holding:
            _release(t)
        self._holding = []

    def watch(self, tensor: Any) -> None:
        """Record operations on `tensor` (a tensor, a variable or a nested structure)."""
        for t in flatten(tensor):
            if not isinstance(t, TensorBase):
                raise TypeError(f"GradientTape.watch: expected tensors, got {type(t).__name__}")
            if t._data.dtype.kind != "f":
                warnings.warn(f"GradientTape.watch: the dtype of the watched tensor must be "
                              f"floating (e.g. tf.float32), got {t._data.dtype}", stacklevel=2)
                continue
            if id(t) not in self._watched:
                self._watched[id(t)] = t
                if self._recording and _hold(t):
                    self._holding.append(t)

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Operations inside this block are not recorded (by any tape: gradkit's no_grad)."""
        if not self._recording:
            raise RuntimeError("Tape is not recording.")
        self._recording = False
        try:
            with no_grad():
                yield
        finally:
            self._recording = True

    def reset(self) -> None:
        """Forget what was watched and computed: the tape can compute gradients again."""
        for t in self._holding:
            _release(t)
        self._holding = []
        self._watched = {}
        self._used = False

    # ---- gradients ----------------------------------------------------------------------
    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: UnconnectedGradients | str =
                 UnconnectedGradients.NONE) -> Any:
        """d(sum of `target`)/d`sources`, shaped like `sources` (None where unconnected)."""
        self._start_use()
        targets = flatten(target)
        _check_tensors(targets, "targets")
        seeds = [None] * len(targets) if output_gradients is None else flatten(output_gradients)
        if len(seeds) != len(targets):
            raise ValueError(f"GradientTape.gradient: {len(targets)} targets but "
                             f"{len(seeds)} output_gradients")
        flat = flatten(sources)
        _check_tensors(flat, "sources")
        grads = self._grads(targets, seeds, flat, retain=self._persistent)
        return pack_sequence_as(sources, self._unconnected(grads, flat, unconnected_gradients))

    def jacobian(self, target: Any, sources: Any,
                 unconnected_gradients: UnconnectedGradients | str = UnconnectedGradients.NONE,
                 parallel_iterations: int | None = None,
                 experimental_use_pfor: bool = True) -> Any:
        """d`target`/d`sources`: one array of shape target.shape + source.shape per source."""
        self._start_use()
        _check_tensors([target], "targets")
        flat = flatten(sources)
        _check_tensors(flat, "sources")
        xp, n = target._xp, target._data.size
        rows: list[list[Any]] = [[] for _ in flat]
        for i in range(n):
            seed = xp.zeros(target._data.shape, target._data.dtype)
            seed.reshape(-1)[i] = 1
            for k, g in enumerate(self._grads([target], [seed], flat, retain=True)):
                rows[k].append(g)
        out: list[Any] = []
        for s, r in zip(flat, rows):
            if n and all(g is None for g in r):
                out.append(None)
                continue
            stacked = [g._data if g is not None else s._xp.zeros_like(s._data) for g in r]
            arr = xp.stack(stacked) if stacked else xp.zeros((0,) + s._data.shape, s._data.dtype)
            out.append(from_array(arr.reshape(target._data.shape + s._data.shape)))
        return pack_sequence_as(sources, self._unconnected(out, flat, unconnected_gradients))

    def _start_use(self) -> None:
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute "
                               "one set of gradients (or jacobians)")
        self._used = True

    def _unconnected(self, grads: list[Any], flat: list[Any], how: Any) -> list[Any]:
        zero = getattr(how, "value", how) == "zero"
        return [retag(g) if g is not None else
                (from_array(s._xp.zeros_like(s._data)) if zero else None)
                for g, s in zip(grads, flat)]

    def _grads(self, targets: list[Any], seeds: list[Any], flat: list[Any],
               retain: bool) -> list[Any]:
        """Gradients of `targets` (seeded) for each of `flat` (None: not connected)."""
        held = [t for t in self._watched.values() if _hold(t)]
        try:
            live = [(t, s) for t, s in zip(targets, seeds) if t.requires_grad]
            wanted = [i for i, s in enumerate(flat) if s.requires_grad and (
                self._auto or id(s) in self._watched or s._vjp is not None)]
            result: list[Any] = [None] * len(flat)
            if not live or not wanted:
                return result
            outs = [t for t, _ in live]
            gouts = [_seed(t, s) for t, s in live]
            ins = [flat[i] for i in wanted]
            create = self._records_gradients()
            try:
                found = _grad(outs, ins, gouts, retain_graph=retain or create,
                              create_graph=create, allow_unused=True)
            except AutogradError as exc:
                if not create or "not differentiable" not in str(exc):
                    raise
                warnings.warn(f"GradientTape.gradient: these gradients cannot be "
                              f"differentiated again ({exc}); computed first-order only",
                              stacklevel=3)
                found = _grad(outs, ins, gouts, retain_graph=retain, allow_unused=True)
            for i, g in zip(wanted, found):
                result[i] = g
            return result
        finally:
            for t in held:
                _release(t)

    def _records_gradients(self) -> bool:
        """Whether another tape records now (or this persistent one): then the gradients
        are recorded, so that a tape can differentiate them again."""
        tapes = _recording_tapes()
        return any(t is not self and t._recording for t in tapes) or (
            self._persistent and self._recording)
