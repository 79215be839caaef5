"""`keras.utils`: `to_categorical`, `normalize`, `pad_sequences`, `set_random_seed`,
`plot_model` (a picture of the layers and how they connect, drawn with matplotlib)."""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np

from ..backend.random import manual_seed
from ..viz.curves import require_matplotlib
from ._missing import missing

__all__ = ["to_categorical", "normalize", "pad_sequences", "set_random_seed", "plot_model"]


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot float32 rows for integer labels (a trailing axis of 1 is dropped)."""
    y = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError("to_categorical: labels must be whole numbers")
        y = y.astype(np.int64)
    shape = y.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    y = y.reshape(-1)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, got {y.min()}")
    n = int(y.max()) + 1 if num_classes is None else int(num_classes)
    if y.size and y.max() >= n:
        raise ValueError(f"to_categorical: label {y.max()} does not fit num_classes={n}")
    out = np.zeros((y.size, n), dtype=np.float32)
    out[np.arange(y.size), y] = 1.0
    return out.reshape(*shape, n)


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    """x divided by its `order`-norm along `axis` (zero rows stay zero)."""
    a = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(a, ord=order, axis=axis, keepdims=True)
    return a / np.where(norm == 0, 1, norm)


def pad_sequences(sequences: Any, maxlen: int | None = None, dtype: Any = "int32",
                  padding: str = "pre", truncating: str = "pre", value: float = 0.0) -> np.ndarray:
    """A (N, maxlen) array of the sequences, padded / cut at the start ("pre") or end."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError("pad_sequences: padding and truncating are 'pre' or 'post'")
    seqs = [list(s) for s in sequences]
    maxlen = max((len(s) for s in seqs), default=0) if maxlen is None else int(maxlen)
    out = np.full((len(seqs), maxlen), value, dtype=dtype)
    for i, s in enumerate(seqs):
        s = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if not s or maxlen == 0:
            continue
        if padding == "post":
            out[i, :len(s)] = s
        else:
            out[i, -len(s):] = s
    return out


def set_random_seed(seed: int) -> None:
    """Seed Python's, NumPy's and gradkit's generators (`gk.manual_seed`)."""
    random.seed(seed)
    np.random.seed(seed)
    manual_seed(int(seed))


def _boxes(model: Any, show_shapes: bool, show_layer_names: bool) -> tuple[list, list]:
    """(labels, edges (i, j)) of the model's layers."""
    layers = list(model.layers)
    index = {id(layer): i for i, layer in enumerate(layers)}
    labels, edges = [], []
    for i, layer in enumerate(layers):
        label = f"{layer.name} ({type(layer).__name__})" if show_layer_names else \
            type(layer).__name__
        if show_shapes and layer._inbound_nodes:
            out = layer._inbound_nodes[-1].outputs
            label += f"\n{getattr(out, 'shape', '?')}"
        labels.append(label)
        graph = getattr(model, "_graph", None)
        for node in layer._inbound_nodes:
            if graph is not None and all(node is not n for n in graph.nodes):
                continue
            for t in node.inputs:
                src = index.get(id(t.node.layer))
                if src is not None:
                    edges.append((src, i))
    if getattr(model, "_is_sequential", False):
        edges = [(i, i + 1) for i in range(len(layers) - 1)]
    return labels, edges


def plot_model(model: Any, to_file: str | os.PathLike[str] = "model.png",
               show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = False,
               dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False, **kwargs: Any) -> Any:
    """Draw the model's layers (boxes) and their connections (arrows); saves `to_file` (PNG)
    and returns the matplotlib Figure."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels, edges = _boxes(model, show_shapes, show_layer_names)
    depth = [0] * len(labels)
    for _ in labels:  # longest path from an input (the edges go forward)
        for a, b in edges:
            depth[b] = max(depth[b], depth[a] + 1)
    rows: dict[int, list[int]] = {}
    for i, d in enumerate(depth):
        rows.setdefault(d, []).append(i)
    width = max(len(r) for r in rows.values()) if rows else 1
    fig = Figure(figsize=(3.2 * width, 1.1 * max(len(rows), 1)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    pos = {}
    for d, members in rows.items():
        for k, i in enumerate(members):
            x, y = (k + 0.5) * width / len(members), -d
            pos[i] = (x, y) if rankdir == "TB" else (-y, -x)
    for a, b in edges:
        ax.annotate("", xy=pos[b], xytext=pos[a],
                    arrowprops={"arrowstyle": "->", "shrinkA": 14, "shrinkB": 14})
    for i, label in enumerate(labels):
        ax.text(pos[i][0], pos[i][1], label, ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round", "facecolor": "#e8f0fe", "edgecolor": "#4a6fa5"})
    xs, ys = [p[0] for p in pos.values()] or [0], [p[1] for p in pos.values()] or [0]
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.axis("off")
    if to_file:
        fig.savefig(os.fspath(to_file), dpi=dpi // 2, format="png", bbox_inches="tight")
    return fig


def __getattr__(name: str) -> Any:
    raise missing("utils", name, __all__)
