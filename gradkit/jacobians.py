"""Jacobians, Hessians and the two products: `jacobian`, `hessian`, `vjp`, `jvp` (JAX and
torch.func style), built on reverse mode like `gk.grad` and nesting the same way (see
`transforms.py`): inside another transform each one records its gradients, so they compose.

- `jacobian` runs one reverse pass per element of each output (rows of the Jacobian).
- `hessian(f)` is `jacobian(jacobian(f))`: the inner one records, the outer differentiates it.
- `vjp` returns the output and a function of a cotangent: one reverse pass per call.
- `jvp` is forward mode by the double-vjp trick: `u -> J^T u` is recorded with a dummy
  cotangent `u` (`create_graph=True`); it is linear in `u`, so its vjp with the tangent `t`
  is `J t`. It needs every op of `f` to have a differentiable gradient rule.

Functions may return a Tensor or a tuple/list of them (nested too); results follow that
structure, JAX's way: per output, one Jacobian, or a tuple of them for a tuple of argnums.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .autograd import grad as _grads_of
from .errors import AutogradError, DTypeError
from .ops import stack
from .tensor import Tensor, as_tensor
from .transforms import _argnums, _traced, zeros_of

# ---- outputs as trees of Tensors (tuples and lists) -------------------------------------------


def _flat(tree: Any, who: str) -> list[Tensor]:
    """The Tensors of `tree` (a Tensor, or tuples/lists of them), in order."""
    if isinstance(tree, (tuple, list)):
        return [t for sub in tree for t in _flat(sub, who)]
    if not isinstance(tree, Tensor):
        raise TypeError(f"{who}: the function must return a Tensor or a tuple/list of "
                        f"Tensors, got {type(tree).__name__}")
    return [tree]


def _rebuild(tree: Any, values: Iterator[Any]) -> Any:
    """`tree`'s structure with its Tensors replaced, in order, by `values`."""
    if isinstance(tree, (tuple, list)):
        return type(tree)(_rebuild(sub, values) for sub in tree)
    return next(values)


def _float_output(o: Tensor, i: int, who: str) -> None:
    if o.dtype.kind != "f":
        raise DTypeError(f"{who}: output {i} has dtype {o.dtype}; only float outputs have "
                         f"derivatives")


# ---- jacobian and hessian -----------------------------------------------------------------


def _rows(o: Tensor, inputs: list[Tensor], nested: bool) -> list[Tensor]:
    """d(o)/d(input) for each input, of shape `o.shape + input.shape`: one reverse pass per
    element of `o`, seeded with that element's one-hot cotangent."""
    if not o.requires_grad:  # `o` does not depend on the inputs
        return [Tensor._wrap(t._xp.zeros(o.shape + t.shape, t.dtype)) for t in inputs]
    rows: list[list[Tensor]] = [[] for _ in inputs]
    xp = o._xp
    for k in range(o.size):
        seed = xp.zeros(o.shape, o.dtype)
        seed.reshape(-1)[k] = 1
        gs = _grads_of(o, inputs, seed, retain_graph=True, create_graph=nested,
                       allow_unused=True)
        for row, g, t in zip(rows, gs, inputs):
            row.append(zeros_of(t) if g is None else g)
    out = []
    for row, t in zip(rows, inputs):
        shape = o.shape + t.shape
        if o.shape == ():
            out.append(row[0])
        elif nested:  # recorded: the outer transform differentiates the rows
            out.append(stack(row).reshape(shape))
        else:
            out.append(Tensor._wrap(xp.stack([g._data for g in row]).reshape(shape)))
    return out


def jacobian(fn: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return a function computing the Jacobian of `fn` w.r.t. `args[argnums]` (reverse mode,
    like `jax.jacrev` / `torch.func.jacrev`).

    For an output of shape `S` and an argument of shape `A` it has shape `S + A`; a tuple of
    argnums gives a tuple of Jacobians, and a tuple (or list) of outputs a tuple of those. It
    costs one reverse pass per output element. Nested in another transform (`hessian`, a
    `jacobian` of a `jacobian`) it records its result, so the outer one differentiates it.
    """
    single, nums = _argnums(argnums)

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nested, leaves, out = _traced(fn, args, kwargs, nums, "jacobian")
        outs = _flat(out, "jacobian")
        inputs = [leaves[i] for i in nums]
        per_out = []
        for i, o in enumerate(outs):
            _float_output(o, i, "jacobian")
            js = _rows(o, inputs, nested)
            per_out.append(js[0] if single else tuple(js))
        return _rebuild(out, iter(per_out))

    return wrapped


def hessian(fn: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return a function computing the Hessian of `fn` w.r.t. `args[argnums]`: the Jacobian of
    its Jacobian (`jax.hessian`, `torch.func.hessian`).

    For a scalar `fn` and one argument of shape `A` it has shape `A + A`; a tuple of argnums
    gives the blocks `H[i][j]` = d2 fn / d args[i] d args[j]. Every op of `fn` needs a
    differentiable gradient rule (others raise `AutogradError` naming the op).
    """
    return jacobian(jacobian(fn, argnums), argnums)


# ---- vector-Jacobian and Jacobian-vector products ---------------------------------------------


def _like(given: Any, tree: Any, who: str, what: str) -> list[Any]:
    """`given` (cotangents) flattened along the structure of `tree` (the output)."""
    if isinstance(tree, Tensor):
        return [given]
    if not isinstance(given, (tuple, list)) or len(given) != len(tree):
        n = len(given) if isinstance(given, (tuple, list)) else "not a tuple"
        raise AutogradError(f"{who}: the function returns a {type(tree).__name__} of "
                            f"{len(tree)} outputs but the {what}s are {n}; give one {what} "
                            f"per output, in the same structure")
    return [c for g, t in zip(given, tree) for c in _like(g, t, who, what)]


def _seeds(given: Any, out: Any, outs: list[Tensor], who: str, what: str) -> list[Tensor]:
    """The cotangents `given` for the output `out` (same structure, same shapes), as Tensors
    on their outputs' devices."""
    seeds = []
    for i, (c, o) in enumerate(zip(_like(given, out, who, what), outs)):
        c = as_tensor(c, like=o)
        if c.shape != o.shape:
            raise AutogradError(f"{who}: {what} {i} has shape {c.shape} but output {i} has "
                                f"shape {o.shape}")
        seeds.append(c)
    return seeds


def _vjp_of(outs: list[Tensor], seeds: list[Tensor], inputs: list[Tensor],
            record: bool) -> list[Tensor]:
    """sum_i seeds[i]^T d(outs[i])/d(inputs), one per input (zeros where none depends); the
    graph is kept (`vjp_fn` may be called again)."""
    live = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]
    gs: Sequence[Tensor | None] = [None] * len(inputs)
    if live:
        gs = _grads_of([o for o, _ in live], inputs, [s for _, s in live],
                       retain_graph=True, create_graph=record, allow_unused=True)
    return [zeros_of(t) if g is None else g for g, t in zip(gs, inputs)]


def vjp(fn: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """`(fn(*primals), vjp_fn)`: `vjp_fn(cotangent)` gives the vector-Jacobian products, one
    per primal, as a tuple (`jax.vjp`, `torch.func.vjp`).

    The cotangent is shaped like the output (a tuple for a tuple of outputs). `vjp_fn` may be
    called many times (the graph is kept while it lives). Nested in another transform, or
    with a cotangent that requires grad, its results are recorded (differentiable again)."""
    nested, inputs, out = _traced(fn, primals, {}, range(len(primals)), "vjp")
    outs = _flat(out, "vjp")
    for i, o in enumerate(outs):
        _float_output(o, i, "vjp")

    def vjp_fn(cotangent: Any) -> tuple:
        seeds = _seeds(cotangent, out, outs, "vjp", "cotangent")
        record = nested or any(s.requires_grad for s in seeds)
        return tuple(_vjp_of(outs, seeds, inputs, record))

    value = out if nested else _rebuild(out, iter([o.detach() for o in outs]))
    return value, vjp_fn


def _tangents(tangents: Sequence[Any], leaves: list[Tensor]) -> list:
    """The tangents as Tensors in their primal's dtype and device, shapes checked."""
    out = []
    for i, (t, p) in enumerate(zip(tangents, leaves)):
        t = as_tensor(t, like=p)
        if t.shape != p.shape:
            raise AutogradError(f"jvp: tangent {i} has shape {t.shape} but primal {i} has "
                                f"shape {p.shape}")
        out.append(t if t.dtype == p.dtype else t.astype(p.dtype))
    return out


def jvp(fn: Callable[..., Any], primals: Sequence[Any],
        tangents: Sequence[Any]) -> tuple[Any, Any]:
    """`(fn(*primals), J @ tangents)`: the Jacobian-vector product, forward mode
    (`jax.jvp`, `torch.func.jvp`).

    `primals` and `tangents` are tuples (or lists) of the same length and shapes; the second
    result has the structure of the output. Computed by the double-vjp trick (vjp of the
    vjp), so every op of `fn` needs a differentiable gradient rule (others raise
    `AutogradError` naming the op)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"jvp: primals and tangents must be tuples or lists (one entry per "
                        f"argument of the function), got {type(primals).__name__} and "
                        f"{type(tangents).__name__}; write gk.jvp(f, (x,), (v,))")
    if len(tangents) != len(primals):
        raise AutogradError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    nested, inputs, out = _traced(fn, primals, {}, range(len(primals)), "jvp")
    ts = _tangents(tangents, inputs)
    outs = _flat(out, "jvp")
    for i, o in enumerate(outs):
        _float_output(o, i, "jvp")
    us = [zeros_of(o).requires_grad_() for o in outs]  # the dummy cotangents
    vs = _vjp_of(outs, us, inputs, record=True)  # J^T u, recorded: linear in u
    live = [(v, t) for v, t in zip(vs, ts) if v.requires_grad]
    dots: Sequence[Tensor | None] = [None] * len(us)
    if live:
        dots = _grads_of([v for v, _ in live], us, [t for _, t in live],
                         create_graph=nested, allow_unused=True)
    tangent_out = [zeros_of(o) if d is None else d for d, o in zip(dots, outs)]
    value = out if nested else _rebuild(out, iter([o.detach() for o in outs]))
    return value, _rebuild(out, iter(tangent_out))
