"""`model.summary()` as Keras 3 prints it: the same box table (Keras's column positions and
widths, rich's rounding), `(None, 64)` shapes, "0 (unbuilt)", the "Connected to" column of
branching functional models, and the parameter totals with their sizes in bytes."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import tree


def readable_size(n_bytes: float) -> str:
    """Keras's memory size text: "1.50 KB", "0.00 B"."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes / 1024 < 1:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def _ratio_reduce(total: int, widths: list[int]) -> list[int]:
    """rich's ratio_reduce with equal ratios: take `total` columns off, spread evenly."""
    out, remaining, ratio = [], total, len(widths)
    for w in widths:
        cut = min(w, round(remaining / ratio))
        out.append(w - cut)
        remaining -= cut
        ratio -= 1
    return out


def _column_widths(line_length: int, positions: list[float]) -> list[int]:
    widths, current = [], 0
    for pos in positions:
        w = int(pos * line_length) if pos <= 1 else int(pos)
        widths.append(w - current)
        current = w
    padded = [w + 2 for w in widths]
    room = line_length - (len(widths) + 1)
    if sum(padded) > room:
        padded = _ratio_reduce(sum(padded) - room, padded)
    return padded


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _output_text(layer: Any) -> str:
    nodes = layer._inbound_nodes
    if nodes:
        shapes = tree.map_structure(lambda t: t.shape, nodes[-1].outputs)
        flat = tree.flatten(tree.map_structure(lambda t: _shape_text(t.shape), nodes[-1].outputs))
        return flat[0] if len(flat) == 1 else str(shapes).replace("'", "")
    if layer._build_shape is not None:
        try:
            return _shape_text(layer.compute_output_shape(layer._build_shape))
        except (NotImplementedError, TypeError, ValueError):
            return "?"
    return "?"


def _connections(layer: Any, graph_nodes: list) -> str:
    parts = []
    for node in layer._inbound_nodes:
        if graph_nodes and all(node is not n for n in graph_nodes):
            continue
        for t in node.inputs:
            src = t.node.layer
            index = next(i for i, n in enumerate(src._inbound_nodes) if n is t.node)
            parts.append(f"{src.name}[{index}][{t.index}]")
    return ", ".join(parts) or "-"


def _wrap(text: str, width: int) -> list[str]:
    """rich's wrapping: at spaces; a word too long for the cell is cut with an ellipsis."""
    width = max(width, 1)
    words = [w if len(w) <= width else w[:width - 1] + "…" for w in text.split(" ")]
    return textwrap.wrap(" ".join(words), width, break_on_hyphens=False,
                         break_long_words=False) or [""]


def _aligned(text: str, width: int, how: str) -> str:
    if how == "right":
        return text.rjust(width)
    if how == "center":
        return text.center(width)
    return text.ljust(width)


def _render(rows: list[list[str]], widths: list[int], align: list[str]) -> list[str]:
    def line(cells: list[str], bar: str) -> list[str]:
        wrapped = [_wrap(c, w - 2) for c, w in zip(cells, widths)]
        height = max(len(w) for w in wrapped)
        out = []
        for i in range(height):
            parts = []
            for lines, w, a in zip(wrapped, widths, align):
                text = lines[i] if i < len(lines) else ""
                parts.append(" " + _aligned(text, w - 2, a) + " ")
            out.append(bar + bar.join(parts) + bar)
        return out

    out = ["┏" + "┳".join("━" * w for w in widths) + "┓"]
    out += line(rows[0], "┃")
    out.append("┡" + "╇".join("━" * w for w in widths) + "┩")
    for i, row in enumerate(rows[1:]):
        if i:
            out.append("├" + "┼".join("─" * w for w in widths) + "┤")
        out += line(row, "│")
    out.append("└" + "┴".join("─" * w for w in widths) + "┘")
    return out


def _bytes(weights: list) -> int:
    return int(sum(w.size * np.dtype(w.dtype).itemsize for w in weights))


def _sequential_like(model: Any) -> bool:
    graph = getattr(model, "_graph", None)
    if graph is None or getattr(model, "_is_sequential", False):
        return True
    if len(graph.flat_inputs) > 1 or len(graph.flat_outputs) > 1:
        return False
    used: set[int] = set()
    layers: set[int] = set()
    for node in graph.nodes:
        if len(node.inputs) != 1 or id(node.inputs[0]) in used or id(node.layer) in layers:
            return False
        used.add(id(node.inputs[0]))
        layers.add(id(node.layer))
    return True


def _optimizer_line(model: Any) -> tuple[int, int] | None:
    opt = getattr(model, "optimizer", None)
    if opt is None or not getattr(opt, "built", False) or not hasattr(opt, "slot_count"):
        return None
    count = sum(opt.slot_count(g) * p.size for g in opt.param_groups for p in g["params"])
    return count + 2, (count + 2) * 4  # + the iteration count and the learning rate


def print_summary(model: Any, line_length: int | None = None,
                  positions: list[float] | None = None,
                  print_fn: Callable[..., Any] | None = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range: Any = None) -> str:
    """Print (with `print_fn`, default `print`) and return the summary text."""
    seq = _sequential_like(model)
    header = ["Layer (type)", "Output Shape", "Param #"] + ([] if seq else ["Connected to"])
    align = ["left", "left", "right"] + ([] if seq else ["left"])
    default, positions = (88, positions or [0.45, 0.80, 1.0]) if seq else \
        (108, positions or [0.3, 0.56, 0.74, 1.0])
    if show_trainable:
        default += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
    columns = shutil.get_terminal_size().columns
    line_length = line_length or min(default, columns - 4)
    graph = getattr(model, "_graph", None)
    graph_nodes = graph.nodes if graph is not None else []
    rows = [header]
    for layer in model.layers:
        params = (f"{layer.count_params():,}" if layer.built else "0 (unbuilt)")
        row = [f"{layer.name} ({type(layer).__name__})", _output_text(layer), params]
        if not seq:
            row.append(_connections(layer, graph_nodes))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        rows.append(row)
    widths = _column_widths(line_length, positions)
    trainable, frozen = model.trainable_weights, model.non_trainable_weights
    n_train, n_frozen = sum(w.size for w in trainable), sum(w.size for w in frozen)
    b_train, b_frozen = _bytes(trainable), _bytes(frozen)
    opt = _optimizer_line(model)
    total, total_bytes = n_train + n_frozen, b_train + b_frozen
    if opt is not None:
        total, total_bytes = total + opt[0], total_bytes + opt[1]
    table = [line[:columns] for line in _render(rows, widths, align)]  # rich crops at the
    lines = [f'Model: "{model.name}"', *table,  # console's width
             f" Total params: {total:,} ({readable_size(total_bytes)})",
             f" Trainable params: {n_train:,} ({readable_size(b_train)})",
             f" Non-trainable params: {n_frozen:,} ({readable_size(b_frozen)})"]
    if opt is not None:
        lines.append(f" Optimizer params: {opt[0]:,} ({readable_size(opt[1])})")
    text = "\n".join(lines)
    if print_fn is None:
        print(text)
    else:  # what Keras hands print_fn: the captured console text, newline included
        print_fn(text + "\n")
    return text
