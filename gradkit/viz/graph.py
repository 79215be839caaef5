"""`draw_graph`: a picture of the computation graph behind a tensor (gradkit.viz.draw_graph).

    a = gk.tensor([1.0, 2.0], requires_grad=True)
    b = gk.tensor([3.0, 4.0], requires_grad=True)
    c = gk.mean(gk.sqrt(a ** 2 + b ** 2))
    c.backward()
    g = gk.viz.draw_graph(c, "graph.svg", names={"a": a, "b": b})   # also .png
    g                                                               # shown inline in Jupyter

Nodes are the ops that made the tensor (named by `tensor._op`, with their result's shape) and
the leaf tensors they started from (shape, dtype, small values, and the gradient once
`backward` has filled `.grad`); arrows point from inputs to the op that used them. The graph
is walked iteratively through `_parents`, so deep graphs are fine.

Drawing: with Graphviz's `dot` program on the PATH (`apt-get install graphviz`, `brew install
graphviz`) it lays the graph out; without it a small built-in layered layout writes the SVG
itself (no dependency) and matplotlib draws PNGs.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..io import atomic_write_bytes
from ..tensor import Tensor
from .curves import require_matplotlib

__all__ = ["draw_graph", "ComputationGraph"]

_FILL = {"param": "#cfe3f7", "input": "#e8e8e8", "op": "#fdf0c8", "output": "#f9d3a8"}
_STROKE = {"param": "#3a6ea5", "input": "#808080", "op": "#b08a20", "output": "#c0601a"}


@dataclass
class Node:
    """One box of the drawing: `kind` is 'param' (a leaf that requires grad), 'input' (a
    constant leaf), 'op' or 'output' (the tensor drawn); `lines` its label."""

    key: int
    kind: str
    lines: list[str]
    parents: list[int] = field(default_factory=list)


def _fmt_values(arr, max_items: int) -> str | None:
    a = np.asarray(arr)
    if a.size == 0 or a.size > max_items:
        return None
    if a.dtype.kind == "f":
        flat = [f"{float(v):.4g}" for v in a.ravel()]
    else:
        flat = [str(v) for v in a.ravel().tolist()]
    if a.ndim == 0:
        return flat[0]
    if a.ndim == 2 and a.shape[0] > 1:
        rows = [flat[i * a.shape[1]:(i + 1) * a.shape[1]] for i in range(a.shape[0])]
        return "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]"
    return "[" + ", ".join(flat) + "]"


def _shape(t) -> str:
    return "(" + ", ".join(str(n) for n in t.shape) + ("," if t.ndim == 1 else "") + ")"


def _names_of(names) -> dict[int, str]:
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        names = dict(names.named_parameters())
    return {id(t): str(n) for n, t in dict(names).items()}


def collect(tensor, names=None, show_grad: bool = True, show_values: bool = True,
            max_values: int = 4, max_nodes: int = 2000) -> list[Node]:
    """The graph behind `tensor` as Nodes, inputs before the ops that use them."""
    labels = _names_of(names)
    order, seen, stack = [], {}, [(tensor, False)]
    while stack:  # iterative post-order: every parent before its child
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen[id(t)] = t
        if len(seen) > max_nodes:
            raise ValueError(f"draw_graph: the graph has more than {max_nodes} nodes; draw a "
                             "smaller expression or pass a larger max_nodes")
        stack.append((t, True))
        for p in reversed(t._parents):
            if id(p) not in seen:
                stack.append((p, False))
    nodes = []
    for t in order:
        is_leaf = not t._parents
        if t is tensor:
            kind = "output"
        elif is_leaf:
            kind = "param" if t.requires_grad else "input"
        else:
            kind = "op"
        lines = []
        if id(t) in labels:
            lines.append(labels[id(t)])
        if is_leaf and t._op is None:
            if id(t) not in labels:
                lines.append("tensor" if t.requires_grad else "constant")
        else:
            lines.insert(0, str(t._op))
        lines.append(f"{_shape(t)} {t.dtype}" if is_leaf else _shape(t))
        if show_values and (is_leaf or t is tensor):
            values = _fmt_values(t.numpy(), max_values)
            if values is not None:
                lines.append(("= " if not is_leaf else "value ") + values)
        if show_grad and t.grad is not None:
            g = t.grad.numpy()
            values = _fmt_values(g, max_values)
            lines.append(f"grad {values}" if values is not None else
                         f"grad {_shape(t.grad)}, max |g| {float(np.abs(g).max()):.3g}")
        nodes.append(Node(id(t), kind, lines, [id(p) for p in t._parents]))
    return nodes


# ---- layout (built-in): layers by longest path, ordered by barycentres ------------------------
_CHAR_W, _LINE_H, _PAD_X, _PAD_Y, _GAP_X, _GAP_Y = 7.0, 15.0, 12.0, 8.0, 24.0, 42.0


def _size(node: Node) -> tuple[float, float]:
    width = max(len(s) for s in node.lines) * _CHAR_W + 2 * _PAD_X
    if node.kind in ("param", "input"):
        width *= 1.18  # an ellipse needs more room than a box for the same text
    return max(width, 48.0), len(node.lines) * _LINE_H + 2 * _PAD_Y


def layout(nodes: list[Node]) -> dict[int, tuple[float, float, float, float]]:
    """key -> (centre x, centre y, width, height); inputs at the top, the output at the bottom."""
    index = {n.key: n for n in nodes}
    children: dict[int, list[int]] = {n.key: [] for n in nodes}
    for n in nodes:
        for p in n.parents:
            children[p].append(n.key)
    level: dict[int, int] = {}
    for n in nodes:  # nodes come parents-first
        level[n.key] = 1 + max((level[p] for p in n.parents), default=-1)
    for n in reversed(nodes):  # pull each leaf down next to its first user
        if not n.parents and children[n.key]:
            level[n.key] = min(level[c] for c in children[n.key]) - 1
    layers: dict[int, list[int]] = {}
    for n in nodes:
        layers.setdefault(level[n.key], []).append(n.key)
    depth = sorted(layers)
    pos = {k: float(i) for d in depth for i, k in enumerate(layers[d])}
    for sweep in range(4):  # barycentre ordering, down then up
        seq = depth if sweep % 2 == 0 else depth[::-1]
        for d in seq:
            def bary(k, up=(sweep % 2 == 0)):
                near = index[k].parents if up else children[k]
                return sum(pos[x] for x in near) / len(near) if near else pos[k]
            layers[d].sort(key=bary)
            for i, k in enumerate(layers[d]):
                pos[k] = float(i)
    sizes = {n.key: _size(n) for n in nodes}
    xs: dict[int, float] = {}
    for d in depth:  # first placement: side by side, centred on 0
        row = layers[d]
        total = sum(sizes[k][0] for k in row) + _GAP_X * (len(row) - 1)
        x = -total / 2
        for k in row:
            xs[k] = x + sizes[k][0] / 2
            x += sizes[k][0] + _GAP_X
    for sweep in range(8):  # move each node towards its neighbours, keeping order and gaps
        for d in (depth if sweep % 2 == 0 else depth[::-1]):
            row = layers[d]
            want = []
            for k in row:
                near = index[k].parents + children[k]
                want.append(sum(xs[x] for x in near) / len(near) if near else xs[k])
            placed = []
            for i, k in enumerate(row):
                x = want[i]
                if i:
                    prev = row[i - 1]
                    x = max(x, placed[-1] + (sizes[prev][0] + sizes[k][0]) / 2 + _GAP_X)
                placed.append(x)
            shift = sum(w - x for w, x in zip(want, placed)) / len(row)
            for k, x in zip(row, placed):
                xs[k] = x + shift
    boxes: dict[int, tuple[float, float, float, float]] = {}
    y = 0.0
    for d in depth:
        row = layers[d]
        height = max(sizes[k][1] for k in row)
        for k in row:
            boxes[k] = (xs[k], y + height / 2, *sizes[k])
        y += height + _GAP_Y
    min_x = min(b[0] - b[2] / 2 for b in boxes.values())
    return {k: (cx - min_x + 10, cy + 10, w, h) for k, (cx, cy, w, h) in boxes.items()}


def builtin_svg(nodes: list[Node]) -> str:
    """The drawing as SVG text, laid out without Graphviz."""
    boxes = layout(nodes)
    width = max(cx + w / 2 for cx, _, w, _ in boxes.values()) + 10
    height = max(cy + h / 2 for _, cy, _, h in boxes.values()) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" '
           'font-size="12">',
           '<defs><marker id="gk-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
           'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
           '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
           '<rect width="100%" height="100%" fill="white"/>']
    for n in nodes:
        cx, cy, w, h = boxes[n.key]
        for p in n.parents:
            px, py, _, ph = boxes[p]
            out.append(f'<line x1="{px:.1f}" y1="{py + ph / 2:.1f}" x2="{cx:.1f}" '
                       f'y2="{cy - h / 2:.1f}" stroke="#555" stroke-width="1.2" '
                       'marker-end="url(#gk-arrow)"/>')
    for n in nodes:
        cx, cy, w, h = boxes[n.key]
        fill, stroke = _FILL[n.kind], _STROKE[n.kind]
        out.append(f'<g class="node {n.kind}">')
        if n.kind in ("param", "input"):
            out.append(f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}" '
                       f'fill="{fill}" stroke="{stroke}" stroke-width="1.4"/>')
        else:
            extra = ' stroke-width="2.4"' if n.kind == "output" else ' stroke-width="1.4"'
            out.append(f'<rect x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" '
                       f'height="{h:.1f}" rx="6" fill="{fill}" stroke="{stroke}"{extra}/>')
        top = cy - (len(n.lines) - 1) * _LINE_H / 2 + 4
        for i, line in enumerate(n.lines):
            weight = ' font-weight="bold"' if i == 0 and n.kind in ("op", "output") else ""
            out.append(f'<text x="{cx:.1f}" y="{top + i * _LINE_H:.1f}" text-anchor="middle"'
                       f'{weight}>{html.escape(line)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def builtin_figure(nodes: list[Node]):
    """The same layout drawn with matplotlib (for PNG without Graphviz)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch

    boxes = layout(nodes)
    width = max(cx + w / 2 for cx, _, w, _ in boxes.values()) + 10
    height = max(cy + h / 2 for _, cy, _, h in boxes.values()) + 10
    fig = Figure(figsize=(width / 72, height / 72), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    for n in nodes:
        cx, cy, w, h = boxes[n.key]
        for p in n.parents:
            px, py, _, ph = boxes[p]
            ax.add_patch(FancyArrowPatch((px, py + ph / 2), (cx, cy - h / 2),
                                         arrowstyle="-|>", mutation_scale=10, color="#555",
                                         lw=1.0))
    for n in nodes:
        cx, cy, w, h = boxes[n.key]
        style = dict(facecolor=_FILL[n.kind], edgecolor=_STROKE[n.kind],
                     lw=2.0 if n.kind == "output" else 1.2)
        if n.kind in ("param", "input"):
            ax.add_patch(Ellipse((cx, cy), w, h, **style))
        else:
            ax.add_patch(FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                        boxstyle="round,pad=0,rounding_size=6", **style))
        ax.text(cx, cy, "\n".join(n.lines), ha="center", va="center", fontsize=8.5,
                linespacing=1.25)
    return fig


def to_dot(nodes: list[Node]) -> str:
    """Graphviz DOT source of the drawing."""
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    out = ["digraph gradkit {", '  graph [rankdir=TB, nodesep=0.3, ranksep=0.45];',
           '  node [fontname="Helvetica", fontsize=11, style="filled"];',
           '  edge [color="#555555", arrowsize=0.7];']
    for n in nodes:
        shape = "ellipse" if n.kind in ("param", "input") else "box"
        style = '"filled"' if shape == "ellipse" else '"rounded,filled"'
        pen = 2.2 if n.kind == "output" else 1.2
        label = q("\n".join(n.lines)).replace("\n", "\\n")
        out.append(f"  n{n.key} [label={label}, shape={shape}, style={style}, "
                   f'fillcolor="{_FILL[n.kind]}", color="{_STROKE[n.kind]}", penwidth={pen}];')
    for n in nodes:
        for p in n.parents:
            out.append(f"  n{p} -> n{n.key};")
    out.append("}")
    return "\n".join(out) + "\n"


def _run_dot(source: str, fmt: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise FileNotFoundError("Graphviz's 'dot' program is not on the PATH")
    done = subprocess.run([exe, f"-T{fmt}"], input=source.encode(), capture_output=True,
                          timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


class ComputationGraph:
    """A drawn computation graph: `nodes`, `edges`, `dot` (Graphviz source), `svg()`,
    `save(path)`; displayed inline in Jupyter (as SVG)."""

    def __init__(self, nodes: list[Node], engine: str = "auto") -> None:
        if engine not in ("auto", "dot", "builtin"):
            raise ValueError(f"draw_graph: engine must be 'auto', 'dot' or 'builtin', "
                             f"got {engine!r}")
        if engine == "dot" and shutil.which("dot") is None:
            raise FileNotFoundError("draw_graph(engine='dot'): Graphviz's 'dot' program is not "
                                    "on the PATH (apt-get install graphviz / brew install "
                                    "graphviz), or use engine='builtin'")
        self.nodes = nodes
        self.engine = "dot" if engine == "dot" or (engine == "auto" and shutil.which("dot")) \
            else "builtin"

    @property
    def edges(self) -> list[tuple[int, int]]:
        """(input key, op key) pairs."""
        return [(p, n.key) for n in self.nodes for p in n.parents]

    @property
    def dot(self) -> str:
        return to_dot(self.nodes)

    def _with_dot(self, fmt: str) -> bytes | None:
        if self.engine != "dot":
            return None
        try:
            return _run_dot(self.dot, fmt)
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
            warnings.warn(f"draw_graph: {exc}; using the built-in layout", stacklevel=3)
            return None

    def svg(self) -> str:
        """The drawing as SVG text."""
        data = self._with_dot("svg")
        return data.decode() if data is not None else builtin_svg(self.nodes)

    def png(self) -> bytes:
        """The drawing as PNG bytes (Graphviz, else matplotlib)."""
        data = self._with_dot("png")
        if data is not None:
            return data

        try:
            require_matplotlib()
        except ImportError:
            raise ImportError("draw_graph: a PNG needs Graphviz's 'dot' program or matplotlib "
                              "(pip install matplotlib); SVG needs neither") from None
        import io

        buf = io.BytesIO()
        builtin_figure(self.nodes).savefig(buf, format="png", dpi=100)
        return buf.getvalue()

    def save(self, path) -> str:
        """Write the drawing; the format follows the suffix: .svg, .png or .dot (also .pdf
        with Graphviz)."""
        path = os.fspath(path)
        suffix = os.path.splitext(path)[1].lower()
        if suffix == ".svg":
            data = self.svg().encode()
        elif suffix == ".png":
            data = self.png()
        elif suffix in (".dot", ".gv"):
            data = self.dot.encode()
        elif suffix == ".pdf" and self.engine == "dot":
            data = _run_dot(self.dot, "pdf")
        else:
            raise ValueError(f"draw_graph: cannot write {path!r}; use a .svg, .png or .dot "
                             "file name (.pdf needs Graphviz)")
        atomic_write_bytes(path, data)
        return path

    def _repr_svg_(self) -> str:
        return self.svg()

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        ops = sum(n.kind in ("op", "output") for n in self.nodes)
        return (f"ComputationGraph({len(self.nodes)} nodes: {ops} ops, "
                f"{len(self.nodes) - ops} leaves; engine={self.engine!r})")


def draw_graph(tensor, path=None, names=None, show_grad: bool = True,
               show_values: bool = True, engine: str = "auto", max_nodes: int = 2000):
    """Draw the computation graph that produced `tensor`; returns a `ComputationGraph`.

    path: also write it (.svg, .png, .dot). names: labels for leaf tensors, a dict
    `{"a": a, ...}` or a Module (its parameter names). show_grad: print the gradients
    of the leaves that have one (call `backward()` first). show_values: print the values of
    tensors with at most 4 elements. engine: "auto" (Graphviz's dot when installed, else
    the built-in layout), "dot" or "builtin".
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a gradkit Tensor, got {type(tensor).__name__}")
    graph = ComputationGraph(collect(tensor, names, show_grad, show_values,
                                     max_nodes=max_nodes), engine)
    if path is not None:
        graph.save(path)
    return graph
