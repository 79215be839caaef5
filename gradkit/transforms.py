"""Function transforms: `grad`, `value_and_grad` (JAX/MLX style), `gradcheck` and
`gradgradcheck` (analytic gradients against central finite differences, in float64).

The nesting rule every transform keeps (`gk.jacobian`, `gk.vjp` & co. in `jacobians.py` too):
a transform called while another one runs its function (`TRANSFORM_DEPTH` > 0) records its
gradients (`create_graph=True`) and keeps its arguments connected to the outer one's, so the
outer one can differentiate what it returns (grad of grad, hessian = jacobian of jacobian)."""

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
    x = inputs[i]._data
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)
    out = grad.reshape(-1)
    for k in range(flat.size):
        old = flat[k].item()
        flat[k] = old + eps
        hi = float((to_numpy(f(*inputs)._data) * v).sum())
        flat[k] = old - eps
        lo = float((to_numpy(f(*inputs)._data) * v).sum())
        flat[k] = old
        out[k] = (hi - lo) / (2 * eps)
    return grad


def _float64_leaves(inputs: Sequence[TensorLike]) -> list[Tensor]:
    """Floating inputs as new float64 leaves that require grad; others (labels) as they are."""
    leaves = []
    for a in inputs:
        t = a if isinstance(a, Tensor) else Tensor(np.asarray(a))
        if t.dtype.kind == "f":
            t = Tensor(to_numpy(t._data).astype(np.float64), dtype=np.float64).requires_grad_()
        leaves.append(t)
    return leaves


def _unpacked(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """PyTorch's form, one tuple or list of Tensors/arrays (`gradcheck(f, (x, y))`), as the
    inputs themselves; anything else (`gradcheck(f, x, y)`, or a list of numbers meaning one
    tensor) as it is."""
    if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)) and all(
            isinstance(a, Tensor) or (hasattr(a, "shape") and not np.isscalar(a))
            for a in inputs[0]):
        return tuple(inputs[0])
    return inputs


def gradcheck(f: Callable[..., Tensor], *inputs: TensorLike, eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0,
              raise_exception: bool = True) -> bool:
    """Compare the gradients of `f` at `inputs` with central differences (float64).

    `inputs` are `f`'s arguments, `gradcheck(f, x, y)`, or PyTorch's form, one tuple or list
    of them, `gradcheck(f, (x, y))`. Floating inputs are copied to float64 leaves; other
    inputs (labels, masks) pass through. A non-scalar output is contracted with a fixed random
    vector, so any Jacobian is tested. Raises `GradcheckError` naming the input and worst
    element (or returns False).
    """
    leaves = _float64_leaves(_unpacked(inputs))
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
        analytic = np.zeros(t.shape) if t.grad is None else to_numpy(t.grad._data)
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
    """Compare the second derivatives of `f` at `inputs` with central differences (float64).

    Like `torch.autograd.gradgradcheck`: the recorded gradients of `sum(f(*inputs) * v)`
    (`create_graph=True`), contracted with fixed random vectors, are differentiated again and
    compared with central differences of the first-order gradients. `inputs` as for
    `gradcheck` (also PyTorch's `gradgradcheck(f, (x, y))`). Raises `GradcheckError` (or
    returns False)."""
    leaves = _float64_leaves(_unpacked(inputs))
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


def _as_leaves(args: Sequence[Any], argnums: Sequence[int], nested: bool = False,
               who: str = "grad") -> list[Any]:
    """`args` with those at `argnums` made fresh float leaves that require grad. `nested`
    (inside another transform) turns a Tensor that requires grad into a new node of it
    (`a * 1.0`), so the outer transform differentiates through it while this one's
    gradient is taken with respect to the argument alone, not to the tensor wherever `fn`
    also closes over it (JAX's semantics: no perturbation confusion)."""
    out = list(args)
    for i in argnums:
        if i >= len(args):
            raise ValueError(f"{who}: argnums {i} but the function got {len(args)} arguments")
        a = args[i]
        if nested and isinstance(a, Tensor) and a.requires_grad:
            out[i] = a * 1.0
            continue
        t = a.detach() if isinstance(a, Tensor) else tensor(a)
        if t.dtype.kind != "f":
            raise DTypeError(
                f"{who}: argument {i} has dtype {t.dtype}; only floats have gradients (pass "
                f"integer inputs such as labels through a closure, or leave them out of "
                f"argnums)")
        out[i] = t.requires_grad_(True)
    return out


def _argnums(argnums: int | Sequence[int]) -> tuple[bool, tuple[int, ...]]:
    """(whether `argnums` is one int, the argument indices as a tuple)."""
    if isinstance(argnums, int):
        return True, (argnums,)
    nums = tuple(argnums)
    if not nums or not all(isinstance(i, int) for i in nums):
        raise TypeError(f"argnums must be an int or a non-empty sequence of ints, got {argnums!r}")
    return False, nums


def _traced(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict, argnums: Sequence[int],
            who: str) -> tuple[bool, list[Any], Any]:
    """Run `fn` as a transform does: (whether nested in another transform, `args` with leaves
    at `argnums`, the value), with grad enabled and `TRANSFORM_DEPTH` one deeper inside."""
    depth = TRANSFORM_DEPTH.get()
    nested = depth > 0
    leaves = _as_leaves(args, argnums, nested, who)
    token = TRANSFORM_DEPTH.set(depth + 1)
    try:
        with enable_grad():
            value = fn(*leaves, **kwargs)
    finally:
        TRANSFORM_DEPTH.reset(token)
    return nested, leaves, value


def value_and_grad(fn: Callable[..., Tensor],
                   argnums: int | Sequence[int] = 0) -> Callable[..., tuple[Tensor, Any]]:
    """Return a function giving `(fn(*args), gradient(s) of fn w.r.t. args[argnums])`.

    Called inside another transform (grad of grad), it records its gradients
    (`create_graph=True`) and keeps its value and its arguments connected, so the outer one
    differentiates them; that needs every op on the way to have a differentiable gradient
    rule (an op without one raises `AutogradError` naming it). At the top level the
    gradients are plain values and the graph of `fn` is freed.
    """
    single, nums = _argnums(argnums)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        nested, args, value = _traced(fn, args, kwargs, nums, "grad")
        if not isinstance(value, Tensor) or value.size != 1:
            raise AutogradError(
                f"grad: the function must return a one-element tensor, got "
                f"{getattr(value, 'shape', type(value).__name__)}; for a function with more "
                f"outputs use gk.jacobian (all of it) or gk.vjp (a vector-Jacobian product)")
        inputs = [args[i] for i in nums]
        grads = (_grads_of(value, inputs, create_graph=nested, allow_unused=True)
                 if value.requires_grad else [None] * len(inputs))
        grads = [g if g is not None else zeros_of(t) for g, t in zip(grads, inputs)]
        return value if nested else value.detach(), grads[0] if single else tuple(grads)

    return wrapped


def zeros_of(t: Tensor) -> Tensor:
    """The gradient of an input a function does not use: zeros like `t` (a constant)."""
    return Tensor._wrap(t._xp.zeros_like(t._data))


def grad(fn: Callable[..., Tensor], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Return a function computing the gradient(s) of scalar-valued `fn` (JAX/MLX style).

    `argnums` (an int or a tuple of ints) picks the positional arguments: one gradient, or a
    tuple of them. It composes: `gk.grad(gk.grad(f))` is the second derivative."""
    vg = value_and_grad(fn, argnums)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    return wrapped
