"""Grad mode, the reverse pass, freeing the graph, and gradients as values.

Each op's result keeps its parents and a closure `vjp(g)` mapping the result's gradient to one
gradient per parent (raw arrays; `None` where a parent needs none). `backward` runs the closures
in reverse topological order (sorted iteratively: deep graphs cannot overflow the stack) and
sums broadcast gradients back to each parent's shape in one place, `unbroadcast`. Then it frees
the graph (PyTorch's rule) unless `retain_graph`/`create_graph`: see `_Freed`. `create_graph`
runs the same closures on Tensors under `enable_grad`, recording the gradients; an op opts in
with `register_differentiable` (one rule, two array namespaces, as in HIPS autograd), any other
raises naming it. Grad mode is per thread and asyncio task: see `_GradMode`."""

from __future__ import annotations

import contextvars
import operator
from typing import Any

import numpy as np

from .autograd_rules import (  # noqa: F401
    DIFFERENTIABLE_OPS,
    IN_RULE,
    RECORDED_NS,
    _recorded_rule,
    register_differentiable,
)
from .errors import AutogradError
from .grad_mode import GRAD_MODE, enable_grad, is_grad_enabled, no_grad  # noqa: F401

# gk.grad/value_and_grad calls running in this context: one called inside another records its
# gradients (create_graph), so that the outer one can differentiate them (grad of grad).
TRANSFORM_DEPTH = contextvars.ContextVar("gradkit_transform_depth", default=0)


# ---- freed graphs -----------------------------------------------------------------------------


class _Freed(tuple):
    """What is left of a node once `backward` dropped its closure (with the arrays the op
    saved) and its references to intermediate results: (op name, result shape, parents: freed
    records and leaves). It stands in for the node's closure (the node stays no leaf) and for
    the node among its children's parents (pictures still draw); a kept loss keeps only these
    and the leaves alive. Calling it raises: walking again needs `retain_graph=True`."""

    __slots__ = ()
    _op, shape, _parents = (property(operator.itemgetter(i)) for i in range(3))
    _vjp = grad = None  # never walked again: only the freed node it stands for is
    requires_grad, is_leaf = True, False
    ndim = property(lambda self: len(self[1]))

    def __call__(self, g):
        raise AutogradError(
            f"backward: trying to backward through the graph a second time: '{self[0]}' "
            f"(result of shape {self[1]}) already freed what it saved for its gradient in an "
            f"earlier backward(); pass retain_graph=True to the first backward() to walk the "
            f"graph again, or compute the forward pass again")


def _free(order) -> None:
    """Free the nodes of `order` (children before parents), parents first, so that each
    parent's record exists when its children point at it (freeing twice is harmless)."""
    record, size = _Freed, len
    for node in reversed(order):
        ps = node._parents
        if size(ps) == 1:
            p = ps[0]
            ps = (p._vjp or p,)  # a freed parent's record; a leaf (or a record) itself
        elif size(ps) == 2:
            p, q = ps
            ps = (p._vjp or p, q._vjp or q)
        else:
            ps = tuple([p._vjp or p for p in ps])
        node._vjp = record((node._op, node._data.shape, ps))
        node._parents = ps


# ---- in-place writes (PyTorch's version-counter rule) -----------------------------------------


class VersionCounter:
    """How many in-place writes a tensor's storage has had (`n`, PyTorch's version counter)
    and when the last one was (`last`, a count of all writes gradkit made: `WRITES.n`).

    A tensor gets one at its first write, or when a view or `detach()` of it is made (views
    share it). A recorded node keeps `WRITES.n` of its recording (`_saved`); `backward`
    refuses a node whose inputs or result were written later. With no write since the
    recording (the usual training step) that check is one integer comparison per node."""

    __slots__ = ("n", "last")

    def __init__(self) -> None:
        self.n = self.last = 0


WRITES = VersionCounter()  # every in-place write gradkit made, in this process


def _written_after(t, saved: int) -> bool:
    c = getattr(t, "_ver", None)  # a freed record has none: it is never written
    return c is not None and c.last > saved


def check_versions(order) -> None:
    """Refuse to walk a node whose result or inputs were written in place after it was
    recorded: its gradient rule would read the new values and give a wrong gradient."""
    now = WRITES.n
    for node in order:
        saved = node._saved
        if saved is None or saved == now:  # no write at all since: nothing to look at
            continue
        if _written_after(node, saved):
            raise _modified(node, node, f"the result of '{node._op}'")
        for i, p in enumerate(node._parents):
            if _written_after(p, saved):
                raise _modified(node, p, f"input {i} of '{node._op}'")


def _modified(node, t, which: str) -> AutogradError:
    kind = "a leaf" if t._vjp is None else f"made by '{t._op}'"
    return AutogradError(
        f"backward: {which} (a {t._data.dtype} tensor of shape {tuple(t.shape)}, {kind}) was "
        f"modified in place after '{node._op}' saved it for its gradient: it is at version "
        f"{t._ver.n}, and its last write came after the recording. Change it only after "
        f"backward() (e.g. optimizer.step() after loss.backward()), or change a copy "
        f"(.detach() and views share the data)")


# ---- the reverse pass -----------------------------------------------------------------------


def unbroadcast(g, shape: tuple):
    """Sum `g` (an array, or a Tensor in a recorded pass) over the axes along which an input
    of `shape` was broadcast."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and g.shape[lead + i] != 1)
    out = g.sum(axis=axes) if axes else g
    if isinstance(out, np.generic):
        out = np.asarray(out)
    return out.reshape(shape)


def _topological_order(roots) -> list:
    """The non-leaf nodes reachable from `roots`, each before its parents: an iterative
    depth-first search emits a node once all its parents are, then the order is reversed."""
    order: list = []
    seen: set[int] = set()
    emit, see = order.append, seen.add
    for root in roots:
        if root._vjp is None or id(root) in seen:
            continue
        see(id(root))
        stack = [(root, iter(root._parents))]
        push, pop = stack.append, stack.pop
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent._vjp is not None and (key := id(parent)) not in seen:
                    see(key)
                    push((parent, iter(parent._parents)))
                    break
            else:
                pop()
                emit(node)
    order.reverse()
    return order


def _store_leaf_grad(leaf, g, wrap) -> None:
    """Set or add `g` to `leaf.grad` (a new array: an existing `.grad` is never written)."""
    old = leaf.grad
    leaf.grad = wrap(_own(g, leaf) if old is None
                     else old._data + g.astype(leaf._data.dtype, copy=False))


def _own(g, t):
    """`g` in `t`'s dtype, copied if a view (of the seed or of another tensor's gradient)."""
    return g.astype(t._data.dtype) if g.dtype != t._data.dtype else (
        g.copy() if g.base is not None else g)


_ONES: dict = {}  # dtype -> a read-only 0-d NumPy one: the seed of backward() from a scalar


def _seed(root, grad, create_graph: bool):
    """The gradient that starts the pass at `root` (checked): a copy of `grad`, or ones for a
    one-element root, a shared read-only 0-d one for a NumPy scalar (no vjp writes into its
    `g` and no leaf keeps it). Tensors when `create_graph` (a Tensor `grad` as it is)."""
    data, wrap = root._data, type(root)._wrap
    if not root.requires_grad:
        raise AutogradError(
            "backward: this tensor does not require grad and has no graph; create the inputs "
            "with requires_grad=True (and do not compute it under no_grad)")
    if grad is None and data.size != 1:
        raise AutogradError(
            f"backward: grad can be omitted only for a one-element tensor, this one has shape "
            f"{data.shape}; pass grad= (the vector of the vector-Jacobian product)")
    if grad is None:
        if create_graph or type(data) is not np.ndarray or data.ndim:
            return wrap(root._xp.ones_like(data)) if create_graph else root._xp.ones_like(data)
        if data.dtype not in _ONES:
            _ONES[data.dtype] = np.ones((), data.dtype)
            _ONES[data.dtype].flags.writeable = False
        return _ONES[data.dtype]
    arr = grad._data if isinstance(grad, type(root)) else root._xp.asarray(grad)
    if arr.shape != data.shape:
        raise AutogradError(
            f"backward: grad has shape {arr.shape} but the tensor has shape {data.shape}")
    if type(arr) is not type(data):
        raise AutogradError("backward: grad is on a different device than the tensor")
    if create_graph and isinstance(grad, type(root)):
        return grad if grad.dtype == data.dtype else grad.astype(data.dtype)  # recorded
    arr = arr.astype(data.dtype, copy=True)
    return wrap(arr) if create_graph else arr


def backward(root, grad=None, retain_graph: bool = False, create_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into `.grad` of every leaf that requires grad, then free the
    graph unless `retain_graph` or `create_graph` (walking it again raises `AutogradError`).
    With `create_graph=True` what is added to `.grad` is recorded (differentiable again)."""
    g = _seed(root, grad, create_graph)
    if create_graph:
        with enable_grad():
            for leaf, lg in _values_pass([root], [g], (), True)[0].values():
                lg = lg if lg.dtype == leaf._data.dtype else lg.astype(leaf._data.dtype)
                leaf.grad = lg if leaf.grad is None else leaf.grad + lg
        return
    wrap = type(root)._wrap
    if root._vjp is None:  # backward from a leaf: d(root)/d(root)
        _store_leaf_grad(root, g.copy(), wrap)
        return
    order = _topological_order((root,))
    check_versions(order)
    for leaf, lg in _pass(order, {id(root): g}).values():
        _store_leaf_grad(leaf, lg, wrap)
    if not retain_graph:
        _free(order)


def _pass(order, grads: dict) -> dict:
    """Run the closures of `order` on raw arrays, from the seed in `grads`, freeing each
    node's gradient once used; returns {id: (leaf, summed gradient)}."""
    leaves: dict[int, tuple] = {}  # id -> (leaf, summed gradient), stored after the pass
    summed: set[int] = set()  # keys whose gradient is a sum this pass made: safe to add to in place
    take, get = grads.pop, grads.get
    for node in order:
        g = take(id(node), None)
        if g is None:
            continue
        for parent, pg in zip(node._parents, node._vjp(g)):
            if pg is None or not parent.requires_grad:
                continue
            if pg.shape != parent._data.shape:
                pg = unbroadcast(pg, parent._data.shape)
            key = id(parent)
            if parent._vjp is None:
                entry = leaves.get(key)
                if entry is None:
                    leaves[key] = (parent, pg.copy() if pg is g else pg)
                else:
                    leaves[key] = (parent, _add(entry[1], pg, key, summed))
                continue
            acc = get(key)
            grads[key] = pg if acc is None else _add(acc, pg, key, summed)
    return leaves


def _add(acc, g, key: int, summed: set):
    """acc + g: in place when `acc` is a sum made by this pass (no one else holds it), else
    into a new array, which then counts as made by this pass."""
    if key in summed and acc.dtype == g.dtype:
        acc += g  # a NumPy scalar rebinds, an array adds in place
        return acc
    summed.add(key)
    return acc + g


# ---- recorded gradients (create_graph=True) and gradients as values ---------------------------

def _toward(order, targets: set[int]) -> list:
    """The nodes of `order` on a path to one of `targets` (ids), in the same order; a target
    none of whose parents leads to another one only collects its gradient, so it is left out."""
    live = set(targets)
    kept = []
    for node in reversed(order):  # parents before children; a freed node stays, to raise
        if type(node._vjp) is _Freed or any(id(p) in live for p in node._parents):
            live.add(id(node))
            kept.append(node)
    kept.reverse()
    return kept


def _values_pass(roots, seeds, keep, recorded: bool, targets: set[int] | None = None):
    """The reverse pass for `grad`: ({id: (leaf, gradient)} for the leaves reached, roots
    that are leaves included, and {id: (None, gradient)} for the ids in `keep`; the order
    walked). With `recorded` it runs on Tensors under enable_grad, so gradients are recorded."""
    grads: dict[int, Any] = {}
    out: dict[int, tuple] = {}
    for root, g in zip(roots, seeds):
        if root._vjp is None:  # an output that is a leaf: d(root)/d(root)
            g = g if recorded else g.copy()
            out[id(root)] = (root, g if id(root) not in out else out[id(root)][1] + g)
        else:
            grads[id(root)] = g if id(root) not in grads else grads[id(root)] + g
    order = _topological_order(roots)
    if targets is not None:
        order = _toward(order, targets)
    check_versions(order)
    with enable_grad():
        for node in order:
            g = grads.get(id(node)) if id(node) in keep else grads.pop(id(node), None)
            if g is None:
                continue
            rule = node._vjp
            if recorded and type(rule) is not _Freed:
                IN_RULE[0] = True
                try:
                    pgs = _recorded_rule(node)(g)
                finally:
                    IN_RULE[0] = False
            else:
                pgs = rule(g)
            for parent, pg in zip(node._parents, pgs):
                if pg is None or not parent.requires_grad:
                    continue
                if pg.shape != parent._data.shape:
                    pg = unbroadcast(pg, parent._data.shape)
                key = id(parent)
                if parent._vjp is None:
                    pg = pg.copy() if pg is g and not recorded else pg  # never alias g
                    out[key] = (parent, pg if key not in out else out[key][1] + pg)
                else:
                    grads[key] = pg if key not in grads else grads[key] + pg
    out.update((k, (None, grads[k])) for k in keep if k in grads)
    return out, order


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """The gradients of `outputs` (a Tensor or a sequence: their gradients add up, seeded by
    `grad_outputs`, which one-element outputs may omit) with respect to each of `inputs`
    (leaves or intermediate results), as a tuple, like `torch.autograd.grad`; no `.grad` is
    written. The graph is freed unless `retain_graph` (default: `create_graph`); with
    `create_graph=True` the results are recorded. An input the outputs do not depend on
    raises, unless `allow_unused=True` (its gradient is then None)."""
    many = isinstance(outputs, (list, tuple))
    outs = list(outputs) if many else [outputs]
    given = [None] * len(outs) if grad_outputs is None else (
        list(grad_outputs) if many else [grad_outputs])
    if len(given) != len(outs):
        raise AutogradError(f"grad: {len(outs)} outputs but {len(given)} grad_outputs")
    ins = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    for i, t in enumerate(ins):
        if not getattr(t, "requires_grad", False):
            raise AutogradError(f"grad: input {i} does not require grad")
    seeds = [_seed(o, s, create_graph) for o, s in zip(outs, given)]
    found, order = _values_pass(outs, seeds, {id(t) for t in ins if t._vjp is not None},
                                create_graph, {id(t) for t in ins})
    if not (create_graph if retain_graph is None else retain_graph):
        _free(order)
    result, given_out = [], {id(s) for s in seeds}  # arrays never handed out as they are
    for i, t in enumerate(ins):
        g = found.get(id(t), (None, None))[1]
        if g is None and not allow_unused:
            raise AutogradError(f"grad: input {i} was not used to compute the outputs; pass "
                                f"allow_unused=True to get None as its gradient")
        if g is not None and create_graph:
            g = g if g.dtype == t._data.dtype else g.astype(t._data.dtype)
        elif g is not None:
            g = _own(g, t)
            g = type(t)._wrap(g.copy() if id(g) in given_out else g)
            given_out.add(id(g._data))
        result.append(g)
    return tuple(result)
