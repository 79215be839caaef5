"""`keras.regularizers`: weight penalties added to the training loss (`l1`, `l2`, `l1_l2`).

    layers.Dense(64, kernel_regularizer=keras.regularizers.l2(1e-4))   # or "l2" (0.01)

The penalty of every regularised weight is added to the loss of each training batch (and
so to the reported "loss"), as Keras does.
"""

from __future__ import annotations

from typing import Any

from .. import ops
from ..tensor import Tensor
from ._missing import missing

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "get", "serialize"]


class Regularizer:
    """Base class: `__call__(weight) -> scalar Tensor` (the penalty)."""

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}


class L1L2(Regularizer):
    """l1 * sum(|w|) + l2 * sum(w ** 2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x: Tensor) -> Tensor:
        out = None
        if self.l1:
            out = self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            term = self.l2 * ops.sum(x * x)
            out = term if out is None else out + term
        return out if out is not None else ops.sum(x) * 0.0

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|w|) (Keras's default l1=0.01)."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(w ** 2) (Keras's default l2=0.01; no factor 1/2)."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        raise NotImplementedError("keras.regularizers.OrthogonalRegularizer is not in gradkit's "
                                  "Keras; write the penalty as a function of the weight and "
                                  "pass it as kernel_regularizer=")


l1, l2, l1_l2 = L1, L2, L1L2


def _l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    return L1L2(l1, l2)


_NAMES: dict[str, Any] = {"l1": L1, "l2": L2, "l1_l2": _l1_l2, "l1l2": _l1_l2}
_CLASSES: dict[str, type] = {"L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier: Any) -> Any:
    """A regularizer from None, a name ("l2"), a config dict or a callable (kept)."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        make = _NAMES.get(identifier.lower())
        if make is None:
            raise ValueError(f"keras.regularizers: unknown regularizer {identifier!r}; choose "
                             f"from {sorted(_NAMES)} or pass a function f(weight) -> Tensor")
        return make()
    if isinstance(identifier, dict):
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"keras.regularizers: expected a name or a callable, got {identifier!r}")


def serialize(reg: Any) -> Any:
    """A JSON-able description (`get` reads it back); None for no regularizer."""
    if reg is None:
        return None
    if isinstance(reg, L1L2):
        return {"class_name": type(reg).__name__, "config": reg.get_config()}
    return getattr(reg, "__name__", type(reg).__name__)


def __getattr__(name: str) -> Any:
    raise missing("regularizers", name, __all__)
