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

import os
import shutil
import subprocess
import warnings
from collections.abc import Mapping

import numpy as np

from ..io import atomic_write_bytes
from ..nn import Module
from ..tensor import Tensor
from . import plan_graph
from .curves import PathArg, require_matplotlib
from .graph_drawing import Node, builtin_figure, builtin_svg, to_dot

#: Labels for leaf tensors: {"a": a, ...}, or a Module (its parameter names).
Names = Mapping[str, Tensor] | Module | None

__all__ = ["draw_graph", "ComputationGraph"]

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


def collect(tensor: Tensor, names: Names = None, show_grad: bool = True,
            show_values: bool = True, max_values: int = 4, max_nodes: int = 2000) -> list[Node]:
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

    def save(self, path: PathArg) -> str:
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


def draw_graph(tensor: Tensor, path: PathArg | None = None, names: Names = None,
               show_grad: bool = True, show_values: bool = True, engine: str = "auto",
               max_nodes: int = 2000) -> ComputationGraph:
    """Draw the computation graph that produced `tensor`, or the plan a compiled function
    replays (`gk.compile`; see viz/plan_graph.py); returns a `ComputationGraph`.

    path: also write it (.svg, .png, .dot). names: labels for leaf tensors, a dict
    `{"a": a, ...}` or a Module (its parameter names). show_grad: print the gradients
    of the leaves that have one (call `backward()` first). show_values: print the values of
    tensors with at most 4 elements. engine: "auto" (Graphviz's dot when installed, else
    the built-in layout), "dot" or "builtin".
    """
    if plan_graph.is_plan(tensor):  # a gk.compile'd function or its Plan: the replayed graph
        graph = ComputationGraph(plan_graph.plan_nodes(tensor, names, max_nodes), engine)
    elif not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a gradkit Tensor or a compiled function "
                        f"(gk.compile), got {type(tensor).__name__}")
    else:
        graph = ComputationGraph(collect(tensor, names, show_grad, show_values,
                                         max_nodes=max_nodes), engine)
    if path is not None:
        graph.save(path)
    return graph
