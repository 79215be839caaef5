"""Symbolic tensors of the functional API: `KerasTensor` (a shape, a dtype and the layer call
that made it) and `Node` (one call of a layer on symbolic inputs).

A layer called on KerasTensors builds itself from their shapes and works out its output
shapes: from `compute_output_shape` when the layer defines it, else by running it once on a
small zero batch (eval mode, no graph); an axis that is None (the batch, a free length) is
found by running a second, larger probe and comparing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from . import tree

_BATCH_PROBES = (2, 3)
_FREE_PROBES = (32, 48)  # free lengths: large enough for kernels and pooling


class KerasTensor:
    """A symbolic input or output in a functional model: `shape` (None for free axes, the
    batch first), `dtype`, and the `Node` that produced it (`index`: which of its outputs)."""

    __slots__ = ("shape", "dtype", "node", "index", "name")

    def __init__(self, shape: tuple, dtype: Any = "float32", node: Node | None = None,
                 index: int = 0, name: str | None = None) -> None:
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.node, self.index, self.name = node, index, name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, name={self.name}>"

    def __len__(self) -> int:
        raise TypeError("a KerasTensor (symbolic) has no length; its shape is "
                        f"{self.shape}")

    def __bool__(self) -> bool:
        raise TypeError("a KerasTensor is symbolic: it has no truth value (use it as a layer "
                        "input; Python `if` on it cannot be recorded)")


class Node:
    """One call of `layer` on symbolic arguments (`args`, `kwargs` may hold KerasTensors)."""

    __slots__ = ("layer", "args", "kwargs", "outputs", "inputs")

    def __init__(self, layer: Any, args: tuple, kwargs: dict) -> None:
        self.layer, self.args, self.kwargs = layer, args, kwargs
        self.inputs = [t for t in tree.flatten([args, kwargs]) if isinstance(t, KerasTensor)]
        self.outputs: Any = None

    @property
    def parents(self) -> list[Node]:
        return [t.node for t in self.inputs if t.node is not None]


def is_symbolic(x: Any) -> bool:
    """Whether `x` is a KerasTensor or a structure holding one."""
    if isinstance(x, KerasTensor):
        return True
    return tree.is_nested(x) and any(isinstance(t, KerasTensor) for t in tree.flatten(x))


def shapes_of(x: Any) -> Any:
    """The shape structure of a structure of KerasTensors/Tensors/arrays."""
    return tree.map_structure(lambda t: tuple(t.shape) if hasattr(t, "shape") else t, x)


def _zeros(t: KerasTensor, batch: int, free: int, device: str) -> Tensor:
    shape = tuple((batch if i == 0 else free) if d is None else d for i, d in enumerate(t.shape))
    arr = np.zeros(shape, dtype=t.dtype)
    return Tensor(arr, dtype=arr.dtype, device=device)


def _run(layer: Any, args: tuple, kwargs: dict, batch: int, free: int) -> Any:
    device = getattr(layer, "_device", "cpu")
    concrete = tree.map_structure(
        lambda t: _zeros(t, batch, free, device) if isinstance(t, KerasTensor) else t,
        [list(args), kwargs])
    modes = [(m, m.training) for m in layer.modules()]
    try:
        layer.eval()
        with no_grad():
            return layer(*concrete[0], **concrete[1])
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)


def _specs(out: Any) -> Any:
    return tree.map_structure(lambda t: (tuple(t.shape), np.dtype(t.dtype)), out)


def probe_output_spec(layer: Any, args: tuple, kwargs: dict) -> Any:
    """The (shape, dtype) structure of `layer(*args, **kwargs)` for symbolic arguments,
    from zero batches (see the module docstring)."""
    inputs = [t for t in tree.flatten([list(args), kwargs]) if isinstance(t, KerasTensor)]
    free = any(d is None for t in inputs for d in t.shape[1:])
    first = _specs(_run(layer, args, kwargs, _BATCH_PROBES[0], _FREE_PROBES[0]))
    if not free:
        return _batch_none(first)
    second = _specs(_run(layer, args, kwargs, _BATCH_PROBES[1], _FREE_PROBES[1]))
    return _merge(first, second)


def _is_spec(s: Any) -> bool:
    return isinstance(s, tuple) and len(s) == 2 and isinstance(s[1], np.dtype)


def _batch_none(spec: Any) -> Any:
    if _is_spec(spec):
        shape, dtype = spec
        return ((None, *shape[1:]) if shape and shape[0] == _BATCH_PROBES[0] else shape), dtype
    if isinstance(spec, dict):
        return {k: _batch_none(v) for k, v in spec.items()}
    return type(spec)(_batch_none(v) for v in spec)


def _merge(a: Any, b: Any) -> Any:
    if _is_spec(a):
        (sa, dtype), (sb, _) = a, b
        return tuple(x if x == y else None for x, y in zip(sa, sb)), dtype
    if isinstance(a, dict):
        return {k: _merge(a[k], b[k]) for k in a}
    return type(a)(_merge(x, y) for x, y in zip(a, b))


def spec_is_leaf(s: Any) -> bool:
    """Whether `s` is one (shape, dtype) pair (not a structure of them)."""
    return _is_spec(s)
