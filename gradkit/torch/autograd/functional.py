"""`torch.autograd.functional`: jacobian, hessian, vjp, jvp of a function of tensors, by
reverse passes through gradkit's graph (one per output element for a Jacobian)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ... import autograd as _autograd
from ... import ops as _ops
from ...tensor_base import TensorBase
from .. import creation
from ..tensor import retag, retag_all

__all__ = ["jacobian", "hessian", "vjp", "jvp"]


def _leaves(inputs: Any) -> tuple[bool, tuple[Any, ...]]:
    single = isinstance(inputs, TensorBase)
    ins = (inputs,) if single else tuple(inputs)
    return single, tuple(retag(x.detach()).requires_grad_(True) for x in ins)


def _grads(out: Any, xs: tuple[Any, ...], seed: Any, create_graph: bool) -> list[Any]:
    found = _autograd.grad(out, list(xs), seed, True, create_graph, allow_unused=True)
    return [creation.zeros_like(x) if g is None else g for g, x in zip(found, xs)]


def _jacobian_of(out: Any, xs: tuple[Any, ...], create_graph: bool) -> list[Any]:
    """d out / d x for each x: shape out.shape + x.shape."""
    flat = _ops.reshape(out, -1)
    rows: list[list[Any]] = [[] for _ in xs]
    for k in range(flat.shape[0]):
        for i, g in enumerate(_grads(flat[k], xs, None, create_graph)):
            rows[i].append(g if create_graph else g.detach())
    return [_ops.reshape(_ops.stack(r) if r else creation.zeros((0,) + tuple(x.shape)),
                         tuple(out.shape) + tuple(x.shape)) for r, x in zip(rows, xs)]


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian of `func` at `inputs`: a tensor for one input and one output, else
    tuples (outputs outside, inputs inside), as PyTorch returns it."""
    single, xs = _leaves(inputs)
    out = func(*xs)
    outs = (out,) if isinstance(out, TensorBase) else tuple(out)
    result = [_jacobian_of(o, xs, create_graph) for o in outs]
    shaped = [r[0] if single else tuple(r) for r in result]
    return retag_all(shaped[0] if isinstance(out, TensorBase) else tuple(shaped))


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of the scalar `func` at `inputs` (tuples of blocks for several inputs)."""
    single = isinstance(inputs, TensorBase)

    def gradient(*xs: Any) -> Any:
        gs = _grads(func(*xs), xs, None, True)
        return gs[0] if single else tuple(gs)

    return jacobian(gradient, inputs, create_graph=create_graph)


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """`(func(inputs), v^T J)`."""
    single, xs = _leaves(inputs)
    out = func(*xs)
    gs = _grads(out, xs, v, create_graph)
    gs = gs if create_graph else [g.detach() for g in gs]
    value = out if create_graph else out.detach()
    return retag_all((value, gs[0] if single else tuple(gs)))


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """`(func(inputs), J v)`, by differentiating a vector-Jacobian product again."""
    single, xs = _leaves(inputs)
    out = func(*xs)
    u = creation.zeros_like(out, requires_grad=True)
    gs = _grads(out, xs, u, True)
    tangents = (v,) if isinstance(v, TensorBase) else (
        tuple(v) if v is not None else tuple(creation.ones_like(x) for x in xs))
    jv = _autograd.grad(list(gs), [u], list(tangents), True, create_graph, allow_unused=True)[0]
    jv = creation.zeros_like(out) if jv is None else jv
    value = out if create_graph else out.detach()
    return retag_all((value, jv if create_graph else jv.detach()))
