"""`draw_graph` of a compiled step: the computational graph that `gk.compile` replays.

    step = gk.compile(train_step)
    ...                                        # a few calls: eager, trace, replay
    gk.viz.draw_graph(step, "plan.svg", names=model)   # its latest plan (or a Plan)

Nodes are the plan's entries in replay order (forward, backward and the optimizer update
as NumPy calls: `matmul`, `add`, `tanh`, `add.reduce`, ...), the buffers they start from
(the call's inputs, the parameters and optimizer state, constants, the scalar inputs such
as `lr`), the checks (guards) and the outputs. An arrow goes from the entry that last wrote
a buffer to each entry that reads it, so in-place updates chain. A buffer is the bytes it
covers: a merged optimizer update (`merge.py`) reads every parameter in one flat array, and
its node has each of them, and each gradient's maker, as parents. Fused nodes, guard
chains that the replay evaluates as one expression (`fuse.py`) and runs of element-wise
ops compiled into one loop (`loops.py`: "fused loop", its shape and its ops), are drawn in
their own colour.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..jit.compile import CompiledFunction, Plan
from ..jit.fuse import Expr
from ..jit.recorder import Ref
from ..jit.tracer import root
from .graph_drawing import Node

__all__ = ["is_plan", "plan_nodes"]


def is_plan(obj: Any) -> bool:
    """Whether `obj` is a compiled function or one of its plans (what this module draws)."""
    return isinstance(obj, (Plan, CompiledFunction))


def _plan_of(obj: Any) -> Plan:
    if isinstance(obj, Plan):
        return obj
    if not obj.plans:
        raise ValueError("draw_graph: this compiled function has no plan yet (its first "
                         "call for a signature runs eagerly, the second traces); call it "
                         "twice first")
    return obj.plans[-1]


def _fname(f: Any) -> str:
    owner = getattr(f, "__self__", None)
    name = getattr(f, "__name__", type(f).__name__).strip("_")
    if isinstance(owner, np.ufunc):  # add.reduce, maximum.reduce
        return f"{owner.__name__}.{name}"
    return "matmul" if name.endswith("_matmul") else name  # the GEMM seam (backend/gemm.py)


def _shape(a: Any) -> str:
    shape = np.shape(a)
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _region(a: np.ndarray) -> tuple[int, int, int]:
    """(root id, first byte, end byte) of what array `a` covers in its root."""
    r = root(a)
    start = a.__array_interface__["data"][0] - r.__array_interface__["data"][0]
    if a.size == 0:
        return id(r), start, start
    reach = [(n - 1) * st for n, st in zip(a.shape, a.strides)]
    return (id(r), start + sum(x for x in reach if x < 0),
            start + sum(x for x in reach if x > 0) + a.itemsize)


def _meet(a: tuple, b: tuple) -> bool:
    """Whether two regions of the same root share a byte."""
    return a[1] < b[2] and b[1] < a[2]


def _deps(values: Any, into: list) -> list:
    """The buffers (as regions) and scalars (("s", slot)) that `values` read, in order."""
    for v in values:
        if isinstance(v, np.ndarray):
            into.append(_region(v))
        elif type(v) is Ref:
            into.append(("s", v.slot))
        elif type(v) is Expr:
            _deps([v.args, v.kwargs], into)
        elif type(v) is tuple or type(v) is list:
            _deps(v, into)
        elif type(v) is dict:
            _deps(list(v.values()), into)
    return into


def _expr_text(v: Any) -> str:
    if type(v) is Expr:
        return f"{_fname(v.f)}({', '.join(_expr_text(a) for a in v.args)})"
    return "·" if isinstance(v, np.ndarray) else repr(v) if np.isscalar(v) else "…"


def _entry(e: tuple) -> tuple[list[str], list, list, str]:
    """(label lines, what it reads, what it writes (root ids), node kind) of one entry."""
    kind = e[0]
    if kind == "call":
        out = e[4][0] if e[4] else None
        args = e[2][1:] if e[1] is np.ndarray.fill or e[1] is np.copyto else e[2]
        kwargs = {k: v for k, v in e[3].items() if k != "out"}  # written, not read
        ops = getattr(e[1], "gk_ops", None)  # a fused element-wise loop (jit/loops.py)
        if ops is not None and out is not None:
            return (["fused loop", _shape(root(out)), " · ".join(ops)],
                    _deps([args], []), [_region(b) for b in e[4]], "fused")
        return ([_fname(e[1]), _shape(out)], _deps([args, kwargs], []),
                [_region(b) for b in e[4]], "op")
    if kind == "assign":
        name = _fname(e[2])
        if name == "draw":  # a random draw (dropout's mask)
            name = f"random {e[3][1]}"
        return ([name, _shape(e[1][0])], _deps([e[3], e[4]], []),
                [_region(b) for b in e[1]], "op")
    if kind == "sop":
        return ([_fname(e[2])], _deps(e[3], []), [("s", e[1])], "op")
    what, payload = e[1], e[2]
    if what == "scalar":
        return ([f"check {payload[1].strip('_')}"], [("s", payload[0])], [], "op")
    if what == "shape":
        return ([f"check shape of {_fname(payload[0])}"], _deps([payload[1], payload[2]], []),
                [_region(b) for b in payload[3]], "op")
    if what == "read":
        expr = payload[0]
        text = f"{payload[1].strip('_')}({_expr_text(expr)})"
    else:
        expr = payload[1]
        text = f"{_fname(payload[0])}({', '.join(_expr_text(a) for a in payload[1])})"
    fused = any(type(a) is Expr for a in (expr if isinstance(expr, list) else [expr]))
    lines = ["fused check", text] if fused else ["check", text]
    return lines, _deps([payload], []), [], "fused" if fused else "op"


def _leaf_labels(plan: Plan, names: Mapping[int, str]) -> dict[Any, tuple[str, str]]:
    """region (or ("s", slot)) -> (label, kind) for the buffers a plan starts from."""
    labels: dict[Any, tuple[str, str]] = {}
    for i, b in enumerate(plan.inputs):
        if b is not None:
            labels[_region(b)] = (f"input {i} {_shape(b)} {b.dtype}", "input")
    for c in plan.cells:
        if c.entry is None:
            continue
        if c.kind == "attr":
            name = names.get(id(c.owner), "tensor")
            labels[_region(c.entry)] = (f"{name} {_shape(c.entry)}", "param")
        elif c.kind == "grad":
            labels[_region(c.entry)] = (f"{names.get(id(c.owner), '')}.grad".lstrip("."),
                                        "param")
        else:
            labels[_region(c.entry)] = (f"state {c.key} {_shape(c.entry)}", "param")
    for _, key, slot in plan.scalar_inputs:
        labels[("s", slot)] = (str(key), "input")
    return labels


def plan_nodes(obj: Any, names: Any = None, max_nodes: int = 2000) -> list[Node]:
    """The nodes of a compiled function's latest plan (or of a Plan), inputs first."""
    plan = _plan_of(obj)
    given = dict(names.named_parameters()) if hasattr(names, "named_parameters") else \
        dict(names or {})
    labels = _leaf_labels(plan, {id(t): str(n) for n, t in given.items()})
    nodes: list[Node] = []
    last: dict[Any, list] = {}  # root id (or scalar) -> [(region, key of its last writer)]
    keys = iter(range(1, 1 << 62))

    def write(dep: Any, key: int) -> None:
        if type(dep[0]) is str:  # a scalar
            last[dep] = [(dep, key)]
            return
        kept = [(r, k) for r, k in last.get(dep[0], []) if r[1] < dep[1] or r[2] > dep[2]]
        last[dep[0]] = [*kept, (dep, key)]  # a region this write covers is gone

    def sources(dep: Any) -> list[int]:
        """The nodes that last wrote the bytes `dep` reads (leaves the first time)."""
        slot = dep if type(dep[0]) is str else dep[0]
        scalar = type(dep[0]) is str
        found = [k for r, k in last.get(slot, []) if r == dep or (not scalar and _meet(r, dep))]
        if found:
            return found
        leaves = [r for r in labels if r == dep or (
            not scalar and type(r[0]) is not str and r[0] == dep[0] and _meet(r, dep))]
        for r in leaves or [dep]:
            label, kind = labels.get(r, ("constant", "input"))
            key = next(keys)
            nodes.append(Node(key, kind, [label]))
            write(r, key)
        return sources(dep)

    for e in plan.entries:
        lines, reads, writes, kind = _entry(e)
        parents = list(dict.fromkeys(k for d in reads for k in sources(d)))
        key = next(keys)
        nodes.append(Node(key, kind, lines, parents))
        for w in writes:
            write(w, key)
        if len(nodes) > max_nodes:
            raise ValueError(f"draw_graph: the plan has more than {max_nodes} nodes; pass "
                             "a larger max_nodes")
    for i, out in enumerate(plan.outputs):
        dep = ("s", out.slot) if type(out) is Ref else _region(out)
        nodes.append(Node(next(keys), "output", [f"output {i}", _shape(out)
                                                 if type(out) is not Ref else "scalar"],
                          sources(dep)))
    return nodes
