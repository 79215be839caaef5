"""What the ops do inside `gk.autocast` (the state is backend/autocast.py): `low(...)` casts the
floating inputs of a matrix product or convolution to the block's dtype, `high(x)` casts a
float16/bfloat16 input of a softmax or a loss up to float32. Both go through the
differentiable `astype`, so gradients reach float32 parameters as float32; outside every
block both return their inputs unchanged (one ContextVar read)."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from ..backend import autocast as amp
from ..errors import DTypeError
from ..tensor import Tensor
from .elementwise import astype

_FLOAT32 = np.dtype(np.float32)
_LOW_KINDS = ("float16", "bfloat16")
T = TypeVar("T")


def _wanted(t: Any, device_type: str | None) -> bool:
    if not isinstance(t, Tensor) or t._data.dtype.kind != "f":
        return False
    if device_type is None:
        return True
    on_cpu = isinstance(t._data, np.ndarray)
    return on_cpu if device_type == "cpu" else not on_cpu


def low(*tensors: T) -> tuple[T, ...]:
    """`tensors` with each floating Tensor cast to the autocast dtype (None, non-Tensors and
    tensors on other devices than the block's `device_type` pass as they are)."""
    s = amp.state()
    if s is None:
        return tensors
    name, device_type = s
    out: list[Any] = []
    for t in tensors:
        if isinstance(t, Tensor) and _wanted(t, device_type) and t._data.dtype.name != name:
            out.append(_cast(t, name))
        else:
            out.append(t)
    return tuple(out)


def _cast(t: Tensor, name: str) -> Tensor:
    dtype = amp.low_dtype(name, isinstance(t._data, np.ndarray), t.device)
    try:
        return astype(t, dtype)
    except (TypeError, ValueError) as exc:  # e.g. an array library without bfloat16
        raise DTypeError(f"autocast: cannot cast a {t.dtype} tensor on '{t.device}' to "
                         f"{name} ({type(exc).__name__}: {exc})") from None


def high(x: Tensor) -> Tensor:
    """`x` as float32 when autocast runs and `x` is a float16/bfloat16 Tensor, else itself."""
    s = amp.state()
    if s is None or not _wanted(x, s[1]) or x._data.dtype.name not in _LOW_KINDS:
        return x
    return astype(x, _FLOAT32)
