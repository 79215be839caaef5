"""The low-latency inference path of `Sequential` under `no_grad`: `model(x)` on small batches.

Without a graph to record, a run of Linear layers (each with the ReLU/Tanh after it fused, as
`Sequential` does anyway) needs none of the per-op work of `linear` (operand checks, the
fused-activation lookup, a Tensor per layer): `run` keeps the activations as NumPy arrays,
makes the same calls in the same order (the GEMM seam, the same in-place bias/activation
kernels, the NaN/inf check of the input data), so the numbers are the same, and wraps only
the result. Anything else (other layers, a Linear whose input is not a float NumPy array of
its weight's dtype, CuPy or traced arrays, layers with their own `forward`) runs as a normal
call, so errors and special cases are those of the normal path.

The plan of a Sequential (which layers fuse) is kept per instance and rebuilt when its
layers change.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..backend import gemm
from ..ops.neural import FUSED_ACTIVATIONS
from ..tensor import Tensor, _make
from . import layers as _layers
from .layers import _DATA_OPS, Linear
from .module import Module

_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _Step:
    """One step of a plan: a Linear (+ fused activation) on arrays, or a module call."""

    __slots__ = ("module", "act", "kernel", "op", "fast")

    def __init__(self, module: Module, act: str | None, fast: bool) -> None:
        self.module, self.act, self.fast = module, act, fast
        self.kernel = None if act is None else FUSED_ACTIVATIONS[act][0]
        self.op = "linear" if act is None else f"linear+{act}"


def _plan(seq: Module, layers: list, fusible) -> list[_Step] | None:
    """The steps of `seq` (None when no Linear would take the fast path)."""
    key = tuple(map(id, layers))
    found = _PLANS.get(seq)
    if found is not None and found[0] == key:
        return found[1]
    steps, i, n = [], 0, len(layers)
    while i < n:
        m = layers[i]
        act = fusible(m, layers[i + 1]) if i + 1 < n else None
        linear_like = isinstance(m, Linear) and _is_plain_linear(m)
        if act is not None:
            steps.append(_Step(m, act, fast=linear_like))
            i += 2
        else:
            steps.append(_Step(m, None, fast=linear_like))
            i += 1
    plan = steps if any(s.fast for s in steps) else None
    _PLANS[seq] = (key, plan)
    return plan


def _is_plain_linear(m: Module) -> bool:
    """A Linear (or subclass) that runs Linear's own forward and fused forward."""
    cls: Any = type(m)
    return (cls.forward is Linear.forward and cls._forward_fused is Linear._forward_fused
            and cls.__call__ is Module.__call__ and "forward" not in m.__dict__)


def run(seq: Module, layers: list, x: Any, fusible) -> Any:
    """`seq(x)` under no_grad through the plan; NotImplemented when the plan does not apply
    (the caller then runs its normal loop)."""
    plan = _plan(seq, layers, fusible)
    if plan is None:
        return NotImplemented
    h: Any = x
    op = None
    for step in plan:
        m: Any = step.module
        if step.fast and "forward" not in m.__dict__:
            out = _linear(m, step, h, made=op is not None)
            if out is not None:
                h, op = out, step.op
                continue
        t = _tensor(h, op)
        h = m._forward_fused(t, step.act) if step.act is not None else m(t)
        op = None
    return _tensor(h, op)


def _tensor(h: Any, op: str | None) -> Any:
    """`h` as what a layer receives: arrays made here as a layer's output (op set)."""
    if op is None or isinstance(h, Tensor):
        return h
    return _make(h, (), None, op)


def _linear(m: Any, step: _Step, h: Any, made: bool) -> Any:
    """Linear `m` (+ its fused activation) on the array behind `h` (`made`: an array the
    previous step made, not data); None when `h`, the weight or the bias is anything but
    NumPy arrays of one float dtype and right shapes."""
    data = h._data if isinstance(h, Tensor) else h
    w = m.weight._data
    b = None if m.bias is None else m.bias._data
    if (type(data) is not np.ndarray or type(w) is not np.ndarray or data.dtype != w.dtype
            or w.dtype.kind != "f" or data.ndim == 0 or data.shape[-1] != w.shape[1]
            or (b is not None and (type(b) is not np.ndarray or b.dtype != w.dtype
                                   or b.shape != (w.shape[0],)))):
        return None
    if not made and (not isinstance(h, Tensor) or h._op in _DATA_OPS):  # data, not an output
        _layers._check_finite_input(m, h)  # through the module: one place to patch
    x2 = data.reshape(-1, w.shape[1]) if data.ndim != 2 else data
    out = gemm.matmul(x2, w.T)
    if step.kernel is not None:
        step.kernel(out, b)
    elif b is not None:
        out += b
    return out if data.ndim == 2 else out.reshape(data.shape[:-1] + (w.shape[0],))
