"""Gradient clipping (PyTorch's `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`).

    loss.backward()
    total = gk.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()

Both work in place on each parameter's `.grad` and skip parameters without one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..backend.devices import xp_of
from ..errors import DeviceError
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list:
    """The gradient arrays of `parameters` (a Tensor or an iterable of them) that have one."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"clip_grad: parameters must be Tensors, got {type(p).__name__}")
    return [p.grad._data for p in params if p.grad is not None]


def _writable(p_grad):
    """The gradient array itself when it may be written in place, else a private copy."""
    return p_grad if p_grad.flags.writeable else p_grad.copy()


def _norm(xp, a, p: float):
    a = xp.abs(a.astype(np.float32))
    return xp.sqrt((a * a).sum()) if p == 2.0 else (a ** p).sum() ** np.float32(1.0 / p)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so that their joint `norm_type`-norm is at most
    `max_norm`; returns the norm before clipping (a 0-d float32 Tensor, like PyTorch).

    The scale is `max_norm / (norm + 1e-6)`, capped at 1 (PyTorch's formula). `norm_type`
    may be `float("inf")` (the largest absolute value). A NaN/inf norm raises with
    `error_if_nonfinite=True`; otherwise the gradients become NaN as in PyTorch.
    """
    if max_norm < 0 or not math.isfinite(float(max_norm)):
        raise ValueError(f"clip_grad_norm_: max_norm must be a finite number >= 0, got "
                         f"{max_norm}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = _grads(params)
    if not grads:
        return Tensor(0.0)
    xp = xp_of(grads[0])
    if any(xp_of(g) is not xp for g in grads):
        raise DeviceError("clip_grad_norm_: gradients on different devices")
    norm_type = float(norm_type)
    if norm_type == math.inf:
        per_grad = xp.stack([xp.abs(g).max().astype(np.float32) for g in grads])
        total = per_grad.max()
    else:  # the norm of the per-gradient norms, in PyTorch's order
        per_grad = xp.stack([_norm(xp, g, norm_type) for g in grads])
        total = _norm(xp, per_grad, norm_type)
    total = total.astype(np.float32)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} is "
                           f"{float(total)}; pass error_if_nonfinite=False to clip anyway")
    coef = xp.minimum(np.float32(max_norm) / (total + np.float32(1e-6)), np.float32(1.0))
    for p in params:
        if p.grad is not None:
            g = _writable(p.grad._data)
            xp.multiply(g, coef.astype(g.dtype), out=g)
            p.grad = Tensor._wrap(g)
    return Tensor._wrap(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into `[-clip_value, clip_value]`, in place."""
    clip_value = float(clip_value)
    if clip_value < 0 or math.isnan(clip_value):
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    _grads(params)
    for p in params:
        if p.grad is not None:
            g = _writable(p.grad._data)
            xp_of(g).clip(g, -clip_value, clip_value, out=g)
            p.grad = Tensor._wrap(g)
