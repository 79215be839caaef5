"""Loss modules: thin classes over nn.functional, each with `reduction="mean"|"sum"|"none"`.

Call them as `loss_fn(prediction, target)`. Errors name the class (e.g. "MSELoss: ...").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..ops.loss import check_reduction
from . import functional as F
from .module import Module

if TYPE_CHECKING:
    from ..tensor import Tensor
    from ..tensor_base import TensorLike

__all__ = ["MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss"]


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_reduction(reduction, type(self).__name__)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error; prediction and target shapes must match."""

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F._mse(input, target, self.reduction, "MSELoss")


class L1Loss(_Loss):
    """Mean absolute error; prediction and target shapes must match."""

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F._l1(input, target, self.reduction, "L1Loss")


class HuberLoss(_Loss):
    """Squared error below `delta`, linear above it (smooth L1 scaled by delta)."""

    def __init__(self, delta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or delta <= 0:
            raise ValueError(f"HuberLoss: delta must be a positive number, got {delta!r}")
        self.delta = float(delta)

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F._huber(input, target, self.reduction, self.delta, "HuberLoss")

    def extra_repr(self) -> str:
        return f"delta={self.delta}, reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax + cross-entropy of logits (N, C) against int labels (N,) or probabilities
    (N, C), as one fused node; optional `label_smoothing`."""

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.cross_entropy(input, target, self.reduction, self.label_smoothing)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class NLLLoss(_Loss):
    """Negative log-likelihood of int labels given log-probabilities (e.g. LogSoftmax)."""

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.nll_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped to >= -100)."""

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F._binary(F._bce, input, target, self.reduction, "BCELoss")


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy on logits, stable for any logit size."""

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F._binary(F._bce_logits, input, target, self.reduction, "BCEWithLogitsLoss")
