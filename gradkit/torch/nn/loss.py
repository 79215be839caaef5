"""Loss modules with PyTorch's signatures (`weight`, `ignore_index`, `reduction`, the legacy
`size_average`/`reduce`), each a gradkit loss class (so `fit` knows its kind) that calls
`torch.nn.functional`. They print as PyTorch's do: `CrossEntropyLoss()`."""

from __future__ import annotations

from typing import Any

from ... import nn as _gknn
from . import _functional_loss as FL
from .module import COUNTERPARTS, Module

__all__ = ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss",
           "BCELoss", "BCEWithLogitsLoss", "KLDivLoss"]


class _Loss(Module):
    """`reduction` from the arguments, PyTorch's empty repr."""

    reduction: str
    weight: Any
    pos_weight: Any

    def _set_reduction(self, size_average: Any, reduce: Any, reduction: str) -> None:
        self.reduction = FL.legacy_reduction(size_average, reduce, reduction,
                                             type(self).__name__)

    def _set_weight(self, weight: Any) -> None:
        self.register_buffer("weight", weight)

    def extra_repr(self) -> str:
        return ""


class MSELoss(_gknn.MSELoss, _Loss):
    """Mean squared error; prediction and target shapes must match."""

    def __init__(self, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        self._set_reduction(size_average, reduce, reduction)

    def forward(self, input: Any, target: Any) -> Any:
        return FL.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_gknn.L1Loss, _Loss):
    """Mean absolute error; prediction and target shapes must match."""

    def __init__(self, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        self._set_reduction(size_average, reduce, reduction)

    def forward(self, input: Any, target: Any) -> Any:
        return FL.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_gknn.HuberLoss, _Loss):
    """Squared error below `delta`, linear above it."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(delta, reduction)

    def forward(self, input: Any, target: Any) -> Any:
        return FL.huber_loss(input, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    """0.5 d**2 / beta below `beta`, |d| - beta / 2 above it."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__()
        self._set_reduction(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Any, target: Any) -> Any:
        return FL.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class CrossEntropyLoss(_gknn.CrossEntropyLoss, _Loss):
    """Softmax + cross-entropy of logits against int labels (or class probabilities)."""

    def __init__(self, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__("mean", label_smoothing)
        self._set_reduction(size_average, reduce, reduction)
        self._set_weight(weight)
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any) -> Any:
        return FL.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                                reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_gknn.NLLLoss, _Loss):
    """Negative log-likelihood of int labels given log-probabilities (e.g. LogSoftmax)."""

    def __init__(self, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
                 reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__()
        self._set_reduction(size_average, reduce, reduction)
        self._set_weight(weight)
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any) -> Any:
        return FL.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                           reduction=self.reduction)


class BCELoss(_gknn.BCELoss, _Loss):
    """Binary cross-entropy of probabilities in [0, 1]."""

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        self._set_reduction(size_average, reduce, reduction)
        self._set_weight(weight)

    def forward(self, input: Any, target: Any) -> Any:
        return FL.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_gknn.BCEWithLogitsLoss, _Loss):
    """Sigmoid + binary cross-entropy on logits; `pos_weight` weighs the positives."""

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__()
        self._set_reduction(size_average, reduce, reduction)
        self._set_weight(weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Any, target: Any) -> Any:
        return FL.binary_cross_entropy_with_logits(input, target, self.weight,
                                                   reduction=self.reduction,
                                                   pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities `input` from `target` ("batchmean" for the true
    divergence)."""

    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__()
        if reduction == "batchmean":
            self.reduction = reduction
        else:
            self._set_reduction(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Any, target: Any) -> Any:
        return FL.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


for _cls in (MSELoss, L1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss):
    _cls.extra_repr = _Loss.extra_repr  # type: ignore[method-assign,assignment]  # none

COUNTERPARTS.update({
    _gknn.MSELoss: MSELoss, _gknn.L1Loss: L1Loss, _gknn.CrossEntropyLoss: CrossEntropyLoss,
    _gknn.NLLLoss: NLLLoss, _gknn.BCELoss: BCELoss, _gknn.BCEWithLogitsLoss: BCEWithLogitsLoss,
})
