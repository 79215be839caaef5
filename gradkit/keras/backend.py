"""`keras.backend` / `keras.config`: the few functions the lessons call."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend.devices import to_device
from ..tensor import Tensor
from ..tensor_base import bump_version
from ._missing import missing
from .naming import clear_session

__all__ = ["clear_session", "epsilon", "floatx", "set_floatx", "image_data_format", "backend",
           "set_value", "get_value"]


def epsilon() -> float:
    """1e-7, Keras's fuzz factor (the cross-entropies' clipping)."""
    return 1e-7


def floatx() -> str:
    return "float32"


def set_floatx(value: str) -> None:
    if value != "float32":
        raise NotImplementedError("gradkit's Keras layers compute in float32; for mixed "
                                  "precision use gradkit's model.compile(precision=...)")


def image_data_format() -> str:
    return "channels_last"


def backend() -> str:
    return "gradkit"


def set_value(x: Any, value: Any) -> None:
    """Write `value` into a variable in place."""
    if not isinstance(x, Tensor):
        raise TypeError("set_value: give a variable (a layer weight); to change a learning "
                        "rate set optimizer.learning_rate = value")
    x._data[...] = to_device(np.asarray(value, dtype=x.dtype), x.device)
    bump_version(x)


def get_value(x: Any) -> Any:
    """A NumPy copy of a variable (numbers pass through)."""
    return x.numpy() if isinstance(x, Tensor) else x


def __getattr__(name: str) -> Any:
    raise missing("backend", name, __all__)
