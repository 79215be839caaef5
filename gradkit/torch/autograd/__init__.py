"""`torch.autograd`: `grad`, `backward`, `Variable`, `functional` (jacobian, hessian, vjp,
jvp) and the grad-mode managers, over gradkit's reverse pass (the same graph)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ... import autograd as _autograd
from ...tensor_base import TensorBase
from .. import creation
from ..grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from ..missing import missing_attribute
from ..tensor import Tensor, retag_all
from . import functional

__all__ = ["grad", "backward", "Variable", "functional", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode"]


def _many(x: Any) -> list[Any]:
    return [x] if isinstance(x, TensorBase) else list(x)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True,
         allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple[Any, ...]:
    """The gradients of `outputs` with respect to each of `inputs` (a tuple; no `.grad` is
    written), PyTorch's arguments; `create_graph=True` makes them differentiable."""
    if is_grads_batched:
        raise NotImplementedError("torch.autograd.grad(is_grads_batched=True) is not in "
                                  "gradkit.torch: loop over the grad_outputs")
    outs = _many(outputs)
    seeds = None if grad_outputs is None else (
        [grad_outputs] if isinstance(grad_outputs, TensorBase) else list(grad_outputs))
    found = _autograd.grad(outs, _many(inputs), seeds, retain_graph, create_graph,
                           bool(allow_unused) or materialize_grads)
    if materialize_grads:
        found = tuple(creation.zeros_like(t) if g is None else g
                      for g, t in zip(found, _many(inputs)))
    return retag_all(tuple(found))


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Sequence[Any] | None = None) -> None:
    """`t.backward()` for each of `tensors` (seeded by `grad_tensors`), into `.grad`."""
    ts = _many(tensors)
    seeds = [None] * len(ts) if grad_tensors is None else _many(grad_tensors)
    for i, (t, g) in enumerate(zip(ts, seeds)):
        keep = True if i < len(ts) - 1 else retain_graph
        Tensor.backward(t, g, retain_graph=keep, create_graph=create_graph,  # type: ignore
                        inputs=inputs)


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: N802
    """PyTorch's old `Variable`: the tensor itself (a copy of other data), with
    `requires_grad` set."""
    t = data if isinstance(data, Tensor) else creation.tensor(data)
    return t.requires_grad_(True) if requires_grad else t


def __getattr__(name: str) -> Any:
    if name == "Function":
        raise AttributeError(
            "module 'gradkit.torch.autograd' has no attribute 'Function': a custom gradient "
            "is a gradkit op (docs/architecture.md, 'a new op'); most custom Functions are "
            "compositions of torch ops, which gradkit differentiates as they are")
    raise missing_attribute("gradkit.torch.autograd", name)
