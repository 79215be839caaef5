"""`Module.summary()`: a Keras-like table of layers, output shapes and parameter counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..autograd import no_grad
from ..backend.devices import namespace
from ..tensor import Tensor

if TYPE_CHECKING:  # only for annotations: module.py imports this file
    from .module import Module

_BATCH = 2  # rows in the zero batch run through the model to find output shapes


def _rows(root: Module) -> list[tuple[str, Module]]:
    """Layers worth a row: leaves, and containers (the model too) with parameters of their own."""
    rows = []
    for name, m in root.named_modules():
        leaf = next(m.children(), None) is None
        if leaf or next(m.parameters(recurse=False), None) is not None:
            rows.append((name, m))
    return rows


def _infer_input_shape(rows) -> tuple | None:
    layers = [m for name, m in rows if name]  # the model's own row is no layer
    n = getattr(layers[0], "in_features", None) if layers else None
    return (n,) if isinstance(n, int) else None  # a dense first layer takes (in_features,)


def _describe(out) -> str:
    if isinstance(out, Tensor):
        return str((None,) + tuple(out.shape[1:])).replace(",)", ")")
    if isinstance(out, (tuple, list)):
        return ", ".join(_describe(o) for o in out)
    return type(out).__name__


def _output_shapes(root: Module, rows, input_shape) -> dict[str, str]:
    """Run a zero batch (no_grad, eval mode) and record each row's output shape."""
    shapes: dict[str, str] = {}
    modes = [(m, m.training) for m in root.modules()]
    patched = []
    for name, m in rows:
        fwd = m.forward

        def spy(*args, _fwd=fwd, _name=name, **kwargs):
            out = _fwd(*args, **kwargs)
            shapes[_name] = _describe(out)
            return out

        m.__dict__["forward"] = spy
        patched.append(m)
    param = next(root.parameters(), None)
    device = "cpu" if param is None else param.device
    dtype = np.float32 if param is None or param.dtype.kind != "f" else param.dtype
    x = Tensor._wrap(namespace(device).zeros((_BATCH, *input_shape), dtype=dtype))
    try:
        root.eval()
        with no_grad():
            shapes[""] = _describe(root(x))
    finally:
        for m in patched:
            m.__dict__.pop("forward", None)
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
    return shapes


def _table(root: Module, lines: list[list[str]], note: str) -> str:
    widths = [max(len(r[i]) for r in lines) + 3 for i in range(3)]
    width = sum(widths)

    def fmt(r):
        return (r[0].ljust(widths[0]) + r[1].ljust(widths[1]) + r[2].rjust(widths[2] - 3)
                ).rstrip()

    total = root.num_parameters()
    trainable = root.num_parameters(trainable_only=True)
    out = [f"Model: {type(root).__name__}", "-" * width, fmt(lines[0]), "=" * width]
    out += [fmt(r) for r in lines[1:]]
    out += ["=" * width, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}", "-" * width]
    return "\n".join(out + ([note] if note else []))


def summarize(root: Module, input_shape: int | tuple[int, ...] | None = None) -> str:
    """The summary table of `root` as text (see Module.summary)."""
    rows = _rows(root)
    if input_shape is None:
        input_shape = _infer_input_shape(rows)
    elif isinstance(input_shape, int):
        input_shape = (input_shape,)
    shapes = _output_shapes(root, rows, tuple(input_shape)) if input_shape is not None else {}
    lines = [["Layer (type)", "Output Shape", "Param #"]]
    for name, m in rows:
        count = sum(p.size for p in m.parameters(recurse=False))
        label = f"{name} ({type(m).__name__})" if name else type(m).__name__
        lines.append([label, shapes.get(name, "?"), f"{count:,}"])
    note = "" if shapes else "(output shapes unknown: pass input_shape=(features, ...))"
    return _table(root, lines, note)
