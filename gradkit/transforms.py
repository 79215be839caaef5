"""Function transforms: `grad`, `value_and_grad` (JAX/MLX style) and `gradcheck` (analytic
gradients against central finite differences, in float64)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .autograd import TRANSFORM_DEPTH, enable_grad
from .autograd import grad as _grads_of
from .backend.devices import to_numpy
from .errors import AutogradError, DTypeError, GradcheckError
from .tensor import Tensor, tensor

if TYPE_CHECKING:
    from .tensor_base import TensorLike


def numerical_grad(f: Callable[..., Tensor], inputs: list[Tensor], i: int, v: np.ndarray,
                   eps: float) -> np.ndarray:
    """d(sum(f(*inputs) * v))/d(inputs[i]) by central differences."""
    x = inputs[i].data
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)
    out = grad.reshape(-1)
    for k in range(flat.size):
        old = flat[k].item()
        flat[k] = old + eps
        hi = float((to_numpy(f(*inputs).data) * v).sum())
        flat[k] = old - eps
        lo = float((to_numpy(f(*inputs).data) * v).sum())
        flat[k] = old
        out[k] = (hi - lo) / (2 * eps)
    return grad


def _float64_leaves(inputs: Sequence[TensorLike]) -> list[Tensor]:
    """Floating inputs as new float64 leaves that require grad; others (labels) as they are."""
    leaves = []
    for a in inputs:
        t = a if isinstance(a, Tensor) else Tensor(np.asarray(a))
        if t.dtype.kind == "f":
            t = Tensor(to_numpy(t.data).astype(np.float64), dtype=np.float64).requires_grad_()
        leaves.append(t)
    return leaves


def gradcheck(f: Callable[..., Tensor], *inputs: TensorLike, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0,
              raise_exception: bool = True) -> bool:
    """Compare the gradients of `f` at `inputs` with central differences (float64).

    Floating inputs are copied to float64 leaves; other inputs (labels, masks) pass through.
    A non-scalar output is contracted with a fixed random vector, so any Jacobian is tested.
    Raises `GradcheckError` naming the input and worst element (or returns False).
    """
    leaves = _float64_leaves(inputs)
    with enable_grad():
        out = f(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError("gradcheck: f must return a Tensor")
    v = np.random.default_rng(seed).standard_normal(out.shape)
    if out.requires_grad:
        out.backward(Tensor(v, dtype=out.dtype))
    for i, t in enumerate(leaves):
        if not t.requires_grad:
            continue
        analytic = np.zeros(t.shape) if t.grad is None else to_numpy(t.grad.data)
        numeric = numerical_grad(f, leaves, i, v, eps)
        bad = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
        if bad.any():
            k = np.unravel_index(int(np.argmax(np.abs(analytic - numeric))), t.shape)
            msg = (f"gradcheck: input {i} (shape {t.shape}): analytic {analytic[k]:.8g} vs "
                   f"numerical {numeric[k]:.8g} at index {tuple(int(j) for j in k)} "
                   f"({int(bad.sum())} of {bad.size} elements differ)")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def gradgradcheck(f: Callable[..., Tensor], *inputs: TensorLike, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0,
                  raise_exception: bool = True) -> bool:
    """Check second derivatives of `f` at `inputs` (float64): the recorded gradients of
    `sum(f(*inputs) * v)` (`create_graph=True`), contracted with fixed random vectors, are
    differentiated again and compared with central differences of the first-order gradients,
    like `torch.autograd.gradgradcheck`. Raises `GradcheckError` (or returns False)."""
    leaves = _float64_leaves(inputs)
    floats = [i for i, t in enumerate(leaves) if t.requires_grad]
    with enable_grad():
        out = f(*leaves)
    rng = np.random.default_rng(seed + 1)
    v = Tensor(rng.standard_normal(out.shape))
    us = [Tensor(rng.standard_normal(leaves[i].shape)) for i in floats]

    def first_order(*xs: Tensor) -> Tensor:
        y = f(*xs)
        gs = _grads_of(y, [xs[i] for i in floats], v, create_graph=True, allow_unused=True)
        terms = [(g * u).sum() for g, u in zip(gs, us) if g is not None]
        if not terms:
            return Tensor(np.zeros(()))
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    return gradcheck(first_order, *leaves, eps=eps, atol=atol, rtol=rtol, seed=seed,
                     raise_exception=raise_exception)


def _as_leaves(args: Sequence[Any], argnums: tuple[int, ...], nested: bool = False) -> list[Any]:
    """`args` with those at `argnums` made fresh float leaves that require grad; `nested`
    (inside another transform) keeps a Tensor that requires grad, so the outer transform
    differentiates through it."""
    out = list(args)
    for i in argnums:
        if i >= len(args):
            raise ValueError(f"grad: argnums {i} but the function got {len(args)} arguments")
        a = args[i]
        if nested and isinstance(a, Tensor) and a.requires_grad:
            continue
        t = a.detach() if isinstance(a, Tensor) else tensor(a)
        if t.dtype.kind != "f":
            raise DTypeError(f"grad: argument {i} has dtype {t.dtype}; only floats have gradients")
        out[i] = t.requires_grad_(True)
    return out


def value_and_grad(fn: Callable[..., Tensor],
                   argnums: int | Sequence[int] = 0) -> Callable[..., tuple[Tensor, Any]]:
    """Return a function giving `(fn(*args), gradient(s) of fn w.r.t. args[argnums])`.

    Called inside another `grad`/`value_and_grad` (grad of grad), it records its gradients
    (`create_graph=True`) and keeps its value and its arguments connected, so the outer one
    differentiates them; that needs every op on the way to have a differentiable gradient
    rule (an op without one raises `AutogradError` naming it). At the top level the
    gradients are plain values and the graph of `fn` is freed.
    """
    single = isinstance(argnums, int)
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        depth = TRANSFORM_DEPTH.get()
        nested = depth > 0
        args = _as_leaves(args, nums, nested)
        token = TRANSFORM_DEPTH.set(depth + 1)
        try:
            with enable_grad():
                value = fn(*args, **kwargs)
        finally:
            TRANSFORM_DEPTH.reset(token)
        if getattr(value, "size", None) != 1:
            raise AutogradError(
                f"grad: the function must return a one-element tensor, got "
                f"{getattr(value, 'shape', type(value).__name__)}"
            )
        inputs = [args[i] for i in nums]
        grads = (_grads_of(value, inputs, create_graph=nested, allow_unused=True)
                 if value.requires_grad else [None] * len(inputs))
        grads = [g if g is not None else t.detach() * 0 for g, t in zip(grads, inputs)]
        return value if nested else value.detach(), grads[0] if single else tuple(grads)

    return wrapped


def grad(fn: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return a function computing the gradient(s) of scalar-valued `fn` (JAX/MLX style)."""
    vg = value_and_grad(fn, argnums)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    return wrapped
