"""The training loop's backward pass: the loss a `train_step` returned must have a graph."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


def backward(loss: Any) -> None:
    """`loss.backward()`, or a RuntimeError saying what to return when it has no graph."""
    if not isinstance(loss, Tensor) or not loss.requires_grad:
        raise RuntimeError(
            "train_step returned a loss without a graph (it does not require grad), so it "
            "cannot be backpropagated; return the loss Tensor computed from the model's "
            "output, or set `automatic_optimization = False` on the model and update the "
            "weights yourself in train_step")
    loss.backward()
