"""`Module.summary()`: a Keras-like table of layers, output shapes and parameter counts.

Output shapes come from running two small zero batches (under no_grad, in eval mode), of 2
and then 3 samples, free sequence lengths 2 and then 3: an axis whose size follows them is
shown as None (the batch axis, a sequence length), as Keras does.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import no_grad
from ..backend.devices import namespace
from ..tensor import Tensor

if TYPE_CHECKING:  # only for annotations: module.py imports this file
    from .module import Module

_PROBES = (2, 3)  # batch sizes (and free lengths) of the two zero batches


def _rows(root: Module) -> list[tuple[str, Module]]:
    """Layers worth a row: leaves, and containers (the model too) with parameters of their own."""
    rows = []
    for name, m in root.named_modules():
        leaf = next(m.children(), None) is None
        if leaf or next(m.parameters(recurse=False), None) is not None:
            rows.append((name, m))
    return rows


def _first_layer(root: Module, rows) -> Module:
    """The layer that takes the input: the model itself when it is a layer gradkit knows
    (attention, recurrent, ...), else its first row."""
    if _infer_input_shape(root) is not None:
        return root
    layers = [m for name, m in rows if name]  # the model's own row is no layer
    return layers[0] if layers else root


def _infer_input_shape(first: Module) -> tuple | None:
    """What the first layer takes, without the batch axis (None: a free sequence length):
    a Linear (in_features,), an Embedding (None,) token ids, a recurrent layer
    (None, input_size), a cell (input_size,), attention (None, embed_dim)."""
    n = getattr(first, "in_features", None)
    if isinstance(n, int):
        return (n,)
    if isinstance(getattr(first, "num_embeddings", None), int):
        return (None,)
    size = getattr(first, "input_size", None)
    if isinstance(size, int) and isinstance(getattr(first, "hidden_size", None), int):
        return (None, size) if hasattr(first, "num_layers") else (size,)
    e = getattr(first, "embed_dim", None)
    return (None, e) if isinstance(e, int) else None


def _shapes(out) -> Any:
    """The shapes in an output: a tuple per Tensor, lists for tuples, None kept."""
    if isinstance(out, Tensor):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return [_shapes(o) for o in out]
    return None if out is None else type(out).__name__


def _merge(a, b) -> Any:
    """Two probes' shapes with each axis that differs between them as None."""
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(x if x == y else None for x, y in zip(a, b))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [_merge(x, y) for x, y in zip(a, b)]
    return a if a == b else "?"


def _describe(shapes) -> str:
    if isinstance(shapes, tuple):
        return str(shapes).replace(",)", ")")
    if isinstance(shapes, list):
        return ", ".join(_describe(s) for s in shapes if s is not None)
    return "?" if shapes is None else str(shapes)


def _positional_inputs(root: Module) -> int:
    """How many positional inputs `root.forward` requires (attention takes query, key, value)."""
    try:
        params = inspect.signature(root.forward).parameters.values()
    except (TypeError, ValueError):
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return max(1, sum(p.kind in kinds and p.default is p.empty for p in params))


def _probe(root: Module, rows, input_shape: tuple, dtype, probe: int) -> dict[str, Any]:
    """Run one zero batch of `probe` samples and record each row's output shapes."""
    shapes: dict[str, Any] = {}
    inputs = _positional_inputs(root)  # before `forward` is patched
    patched = []
    for name, m in rows:
        fwd = m.forward

        def spy(*args, _fwd=fwd, _name=name, **kwargs):
            out = _fwd(*args, **kwargs)
            shapes[_name] = _shapes(out)
            return out

        m.__dict__["forward"] = spy
        patched.append(m)
    param = next(root.parameters(), None)
    device = "cpu" if param is None else param.device
    shape = (probe, *(probe if d is None else d for d in input_shape))
    x = Tensor._wrap(namespace(device).zeros(shape, dtype=dtype))
    try:
        with no_grad():
            shapes[""] = _shapes(root(*[x] * inputs))
    finally:
        for m in patched:
            m.__dict__.pop("forward", None)
    return shapes


def _output_shapes(root: Module, rows, input_shape: tuple, dtype) -> dict[str, str]:
    """Each row's output shapes, from two probes (eval mode; every mode restored after)."""
    modes = [(m, m.training) for m in root.modules()]
    try:
        root.eval()
        first, second = (_probe(root, rows, input_shape, dtype, p) for p in _PROBES)
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
    return {k: _describe(_merge(v, second.get(k))) for k, v in first.items()}


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


def _input_dtype(root: Module, first: Module, dtype):
    if dtype is not None:
        return np.dtype(dtype)
    if isinstance(getattr(first, "num_embeddings", None), int):
        return np.dtype(np.int64)  # token ids
    param = next(root.parameters(), None)
    return np.dtype(np.float32 if param is None or param.dtype.kind != "f" else param.dtype)


def summarize(root: Module, input_shape: int | tuple[int | None, ...] | None = None,
              dtype=None) -> Summary:
    """The summary table of `root` as text (see Module.summary). `input_shape` excludes the
    batch axis and may hold None for a free length; `dtype` is the input's (default: int64
    token ids when the first layer is an Embedding, else the parameters' float dtype)."""
    rows = _rows(root)
    first = _first_layer(root, rows)
    if input_shape is None:
        input_shape = _infer_input_shape(first)
    elif isinstance(input_shape, int):
        input_shape = (input_shape,)
    shapes = {}
    if input_shape is not None:
        shapes = _output_shapes(root, rows, tuple(input_shape),
                                _input_dtype(root, first, dtype))
    lines = [["Layer (type)", "Output Shape", "Param #"]]
    for name, m in rows:
        count = sum(p.size for p in m.parameters(recurse=False))
        label = f"{name} ({type(m).__name__})" if name else type(m).__name__
        lines.append([label, shapes.get(name, "-" if shapes else "?"), f"{count:,}"])
    note = "" if shapes else "(output shapes unknown: pass input_shape=(features, ...))"
    if shapes and any(name not in shapes for name, _ in rows):
        note = ("-: not called itself (its parent uses its weights directly, e.g. in a "
                "fused op)")
    return Summary(_table(root, lines, note))


class Summary(str):
    """The summary table: a `str` (print it, write it to a file) that an interactive shell
    does not echo again after `summary()` printed it (IPython/Jupyter and the Python REPL
    show a one-line description instead of the table a second time)."""

    def __repr__(self) -> str:
        return f"<gradkit summary: {self.count(chr(10)) + 1} lines; print() it to see it>"

    def _ipython_display_(self) -> None:  # already printed by summary(): show nothing
        return None
