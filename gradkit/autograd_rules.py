"""Recorded gradient rules (`create_graph=True`): which ops' gradient closures may run on
recorded Tensors, and how one is re-run there (`_recorded_rule`)."""

from __future__ import annotations

import types

import numpy as np

from .errors import AutogradError

DIFFERENTIABLE_OPS: set[str] = set()  # op names whose rules run on recorded Tensors
LOOSE_OPS: set[str] = set()  # ... whose rules may hold other float arrays (not swapped)
RECORDED_NS: list = []  # [the namespace of gk ops that stands for NumPy/CuPy]: set by gradkit.ops
#: [True while a recorded rule runs]: a comparison of a recorded value there (a ReLU's mask
#: `y > 0`) is then a node with a zero gradient, so what the mask depends on stays in the
#: gradient's graph and gets zeros, not None, as in PyTorch (whose rules save that value).
IN_RULE: list = [False]


def register_differentiable(*ops: str, strict: bool = True) -> None:
    """Declare that the gradient closures recorded under these op names (`_op`) compute the
    same on recorded values (see `_recorded_rule`), so `create_graph=True` may use them;
    every registered op is checked to second order in the op table. `strict=False`: the
    float arrays their closures hold besides their inputs and result either do not depend on
    the inputs (a dropout mask) or go unused on recorded values (a fused op whose rule has a
    recorded branch, `if xp is recorded:`), so they are left as they are."""
    DIFFERENTIABLE_OPS.update(ops)
    if not strict:
        LOOSE_OPS.update(ops)


def _recorded_rule(node):
    """`node`'s gradient closure run on recorded values: the same code with what it closed
    over swapped, the arrays of its inputs and of its result for those Tensors, NumPy (or
    CuPy) for the namespace of gk ops, one level into tuples and lists (HIPS autograd's one
    rule, two namespaces). A float array left over would be a constant in the recorded
    gradient, silently wrong if it depends on the inputs, so it raises instead."""
    fn = node._vjp
    if node._op not in DIFFERENTIABLE_OPS:
        raise AutogradError(
            f"create_graph=True (or gk.grad inside gk.grad): the gradient rule of "
            f"'{node._op}' is not differentiable yet, so its gradient cannot be "
            f"differentiated again; first-order gradients (create_graph=False) work")
    if not fn.__closure__:
        return fn
    swap = {id(node._data): node}
    swap.update((id(p._data), p) for p in node._parents)  # an input wins over an alias
    ns = RECORDED_NS[0]
    strict = node._op not in LOOSE_OPS
    cells = tuple(types.CellType(_swapped(_contents(c), swap, ns, strict, node))
                  for c in fn.__closure__)
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__,
                              cells)


def _contents(cell):
    try:
        return cell.cell_contents
    except ValueError:  # a cell not bound yet
        return None


def _swapped(v, swap: dict, ns, strict: bool, node):
    """`v` (a value a gradient closure holds) as the recorded rule sees it."""
    hit = swap.get(id(v))
    if hit is not None:
        return hit
    if isinstance(v, np.generic) and node._data.ndim == 0 and v.dtype == node._data.dtype \
            and v == node._data:  # the op's 0-d result as NumPy returned it (a scalar)
        return node
    if isinstance(v, types.ModuleType) and v.__name__ in ("numpy", "cupy"):
        return ns
    if isinstance(v, (tuple, list)) and v and not isinstance(v[0], (int, str)):
        return type(v)(_swapped(e, swap, ns, strict, node) for e in v)
    if strict and _is_float_array(v):
        raise AutogradError(
            f"create_graph=True: the gradient rule of '{node._op}' holds a float array of "
            f"shape {v.shape} that is neither an input nor the result, so its gradient "
            f"cannot be differentiated again (it would be a constant: silently wrong)")
    return v


def _is_float_array(v) -> bool:
    """A NumPy or CuPy float array (not a scalar, a dtype or a Tensor)."""
    is_array = isinstance(v, np.ndarray) or type(v).__module__.startswith("cupy")
    return is_array and getattr(getattr(v, "dtype", None), "kind", "") in "fc"
