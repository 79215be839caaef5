"""Keras's loss names for gradkit's own `compile`: `"binary_crossentropy"`,
`"categorical_crossentropy"` and `"sparse_categorical_crossentropy"` take probabilities (a
Softmax / Sigmoid output), as in Keras, and clip them to [1e-7, 1 - 1e-7] as Keras does.

    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax())
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..nn import losses
from ..ops.elementwise import clip, log

__all__ = ["KERAS_EPSILON", "KERAS_LOSSES", "KERAS_LOSS_KINDS", "ClippedBCELoss",
           "ProbabilityCrossEntropyLoss"]

KERAS_EPSILON = 1e-7  # keras.backend.epsilon()


class ProbabilityCrossEntropyLoss(losses.CrossEntropyLoss):
    """Cross-entropy of probabilities (N, C), clipped to [1e-7, 1 - 1e-7] and renormalised,
    against int labels (N,) or one-hot / probability rows (N, C)."""

    def forward(self, input: Any, target: Any) -> Any:
        return super().forward(log(clip(input, KERAS_EPSILON, 1.0 - KERAS_EPSILON)), target)


class ClippedBCELoss(losses.BCELoss):
    """Binary cross-entropy of probabilities clipped to [1e-7, 1 - 1e-7] (a saturated wrong
    prediction costs 16.1, as in Keras, not the -100 log floor of BCELoss)."""

    def forward(self, input: Any, target: Any) -> Any:
        return super().forward(clip(input, KERAS_EPSILON, 1.0 - KERAS_EPSILON), target)


#: Keras's name -> the native loss on probabilities it means.
KERAS_LOSSES: Mapping[str, type] = MappingProxyType({
    "binary_crossentropy": ClippedBCELoss,
    "categorical_crossentropy": ProbabilityCrossEntropyLoss,
    "sparse_categorical_crossentropy": ProbabilityCrossEntropyLoss,
})
#: How fit checks the targets of each (as registry.LOSS_KINDS).
KERAS_LOSS_KINDS: Mapping[type, str] = MappingProxyType({
    ClippedBCELoss: "binary", ProbabilityCrossEntropyLoss: "labels"})
