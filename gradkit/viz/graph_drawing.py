"""Drawing a computation graph without Graphviz: the boxes (`Node`), a small layered layout
(layers by longest path, ordered by barycentres), and the picture as SVG text, as a
matplotlib figure, or as Graphviz DOT source. `graph.py` collects the nodes and chooses.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # matplotlib is an optional extra
    from matplotlib.figure import Figure

__all__ = ["Node", "builtin_figure", "builtin_svg", "layout", "to_dot"]

_FILL = {"param": "#cfe3f7", "input": "#e8e8e8", "op": "#fdf0c8", "output": "#f9d3a8",
         "fused": "#d9f2d0"}  # fused: several ops of a compiled plan run as one
_STROKE = {"param": "#3a6ea5", "input": "#808080", "op": "#b08a20", "output": "#c0601a",
           "fused": "#3c8a2e"}


@dataclass
class Node:
    """One box of the drawing: `kind` is 'param' (a leaf that requires grad), 'input' (a
    constant leaf), 'op', 'fused' (ops a compiled plan runs as one) or 'output' (the
    tensor drawn); `lines` its label."""

    key: int
    kind: str
    lines: list[str]
    parents: list[int] = field(default_factory=list)


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
    layers = _layers(nodes, children)
    _order_by_barycentres(layers, index, children)
    sizes = {n.key: _size(n) for n in nodes}
    xs = _place_x(layers, index, children, sizes)
    boxes: dict[int, tuple[float, float, float, float]] = {}
    y = 0.0
    for d in sorted(layers):
        row = layers[d]
        height = max(sizes[k][1] for k in row)
        for k in row:
            boxes[k] = (xs[k], y + height / 2, *sizes[k])
        y += height + _GAP_Y
    min_x = min(b[0] - b[2] / 2 for b in boxes.values())
    return {k: (cx - min_x + 10, cy + 10, w, h) for k, (cx, cy, w, h) in boxes.items()}


def _layers(nodes: list[Node], children: dict[int, list[int]]) -> dict[int, list[int]]:
    """depth -> keys: each node one below its deepest parent, each leaf just above its
    first user."""
    level: dict[int, int] = {}
    for n in nodes:  # nodes come parents-first
        level[n.key] = 1 + max((level[p] for p in n.parents), default=-1)
    for n in reversed(nodes):  # pull each leaf down next to its first user
        if not n.parents and children[n.key]:
            level[n.key] = min(level[c] for c in children[n.key]) - 1
    layers: dict[int, list[int]] = {}
    for n in nodes:
        layers.setdefault(level[n.key], []).append(n.key)
    return layers


def _order_by_barycentres(layers: dict[int, list[int]], index: dict[int, Node],
                          children: dict[int, list[int]]) -> None:
    """Sort each layer in place by the mean position of its neighbours, down then up."""
    depth = sorted(layers)
    pos = {k: float(i) for d in depth for i, k in enumerate(layers[d])}
    for sweep in range(4):
        seq = depth if sweep % 2 == 0 else depth[::-1]
        for d in seq:
            def bary(k, up=(sweep % 2 == 0)):
                near = index[k].parents if up else children[k]
                return sum(pos[x] for x in near) / len(near) if near else pos[k]
            layers[d].sort(key=bary)
            for i, k in enumerate(layers[d]):
                pos[k] = float(i)


def _place_x(layers: dict[int, list[int]], index: dict[int, Node],
             children: dict[int, list[int]],
             sizes: dict[int, tuple[float, float]]) -> dict[int, float]:
    """key -> centre x: side by side first, then each node moved towards its neighbours,
    keeping the order and the gaps."""
    depth = sorted(layers)
    xs: dict[int, float] = {}
    for d in depth:  # first placement: side by side, centred on 0
        row = layers[d]
        total = sum(sizes[k][0] for k in row) + _GAP_X * (len(row) - 1)
        x = -total / 2
        for k in row:
            xs[k] = x + sizes[k][0] / 2
            x += sizes[k][0] + _GAP_X
    for sweep in range(8):
        for d in (depth if sweep % 2 == 0 else depth[::-1]):
            row = layers[d]
            want = []
            for k in row:
                near = index[k].parents + children[k]
                want.append(sum(xs[x] for x in near) / len(near) if near else xs[k])
            placed: list[float] = []
            for i, k in enumerate(row):
                x = want[i]
                if i:
                    prev = row[i - 1]
                    x = max(x, placed[-1] + (sizes[prev][0] + sizes[k][0]) / 2 + _GAP_X)
                placed.append(x)
            shift = sum(w - x for w, x in zip(want, placed)) / len(row)
            for k, x in zip(row, placed):
                xs[k] = x + shift
    return xs


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


def builtin_figure(nodes: list[Node]) -> Figure:
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
        style: dict[str, Any] = dict(facecolor=_FILL[n.kind], edgecolor=_STROKE[n.kind],
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
