"""Graph recording switches and the reverse pass.

Each result of a differentiable op keeps its parents and a closure `vjp(g)` that maps the
gradient of the result to one gradient per parent (raw arrays, `None` where a parent needs
none). `backward` walks the graph once in reverse topological order (computed iteratively,
so deep graphs cannot overflow the stack) and reduces broadcast gradients to each parent's
shape in one place, `unbroadcast`.
"""

from __future__ import annotations

import functools

import numpy as np

from .errors import AutogradError


class _GradMode:
    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


GRAD_MODE = _GradMode()


class no_grad:
    """Context manager (and decorator) inside which no graph is recorded."""

    _flag = False

    def __enter__(self) -> None:
        self._prev = GRAD_MODE.enabled
        GRAD_MODE.enabled = self._flag

    def __exit__(self, *exc) -> None:
        GRAD_MODE.enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Context manager that turns recording back on (e.g. inside `no_grad`)."""

    _flag = True


def is_grad_enabled() -> bool:
    """Whether ops record the graph now."""
    return GRAD_MODE.enabled


def unbroadcast(g, shape: tuple):
    """Sum `g` over the axes along which an input of `shape` was broadcast."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    out = g.sum(axis=axes) if axes else g
    if isinstance(out, np.generic):
        out = np.asarray(out)
    return out.reshape(shape)


def _topological_order(root) -> list:
    """The non-leaf nodes reachable from `root` that require grad, each after everything it
    feeds.

    An iterative depth-first search: a node is emitted once all its parents are, and the
    reversed emission order puts every node before its parents. Leaves are not listed: they
    receive their gradients from the nodes they feed.
    """
    order, seen = [], {id(root)}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent._vjp is not None and id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(parent._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def _store_leaf_grad(leaf, g, wrap) -> None:
    """Set or add `g` to `leaf.grad` (a new array: an existing `.grad` is never written)."""
    if g.dtype != leaf.data.dtype:
        g = g.astype(leaf.data.dtype)
    elif g.base is not None:
        g = g.copy()  # a view may share memory with another tensor's gradient
    leaf.grad = wrap(g if leaf.grad is None else leaf.grad.data + g)


_ONES: dict = {}  # dtype -> a read-only 0-d NumPy one: the seed of backward() from a scalar


def _seed(root):
    """d(root)/d(root) for a one-element root: ones of its shape (shared and read-only for a
    NumPy 0-d root; no vjp writes into its `g`, and a leaf never keeps it)."""
    data = root.data
    if type(data) is np.ndarray and data.ndim == 0:
        one = _ONES.get(data.dtype)
        if one is None:
            one = _ONES[data.dtype] = np.ones((), data.dtype)
            one.flags.writeable = False
        return one
    return root._xp.ones_like(data)


def backward(root, grad=None) -> None:
    """Accumulate d(root)/d(leaf) into `.grad` of every leaf that requires grad."""
    if not root.requires_grad:
        raise AutogradError(
            "backward: this tensor does not require grad and has no graph; create the inputs "
            "with requires_grad=True (and do not compute it under no_grad)"
        )
    data = root.data
    if grad is None:
        if data.size != 1:
            raise AutogradError(
                f"backward: grad can be omitted only for a one-element tensor, this one has "
                f"shape {data.shape}; pass grad= (the vector of the vector-Jacobian product)"
            )
        g = _seed(root)
    else:
        g = _root_grad(root, grad)
    wrap = type(root)._wrap
    if root._vjp is None:  # backward from a leaf: d(root)/d(root)
        _store_leaf_grad(root, g.copy(), wrap)
        return
    grads = {id(root): g}  # gradient of each node reached so far
    leaves = {}  # id -> (leaf, its summed gradient), stored once every node has run
    summed = set()  # keys whose gradient is a sum this pass made: safe to add to in place
    for node in _topological_order(root):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        for parent, pg in zip(node._parents, node._vjp(g)):
            if pg is None or not parent.requires_grad:
                continue
            if pg.shape != parent.data.shape:
                pg = unbroadcast(pg, parent.data.shape)
            key = id(parent)
            if parent._vjp is None:
                entry = leaves.get(key)
                if entry is None:
                    leaves[key] = (parent, pg.copy() if pg is g else pg)
                else:
                    leaves[key] = (parent, _add(entry[1], pg, key, summed))
                continue
            acc = grads.get(key)
            grads[key] = pg if acc is None else _add(acc, pg, key, summed)
    for leaf, g in leaves.values():
        _store_leaf_grad(leaf, g, wrap)


def _add(acc, g, key: int, summed: set):
    """acc + g: in place when `acc` is a sum made by this pass (no one else holds it), else
    into a new array, which then counts as made by this pass."""
    if key in summed and acc.dtype == g.dtype:
        acc += g  # a NumPy scalar rebinds, an array adds in place
        return acc
    summed.add(key)
    return acc + g


def _root_grad(root, grad):
    arr = grad.data if isinstance(grad, type(root)) else root._xp.asarray(grad)
    if arr.shape != root.data.shape:
        raise AutogradError(
            f"backward: grad has shape {arr.shape} but the tensor has shape {root.data.shape}"
        )
    if type(arr) is not type(root.data):
        raise AutogradError("backward: grad is on a different device than the tensor")
    return arr.astype(root.data.dtype, copy=True)
