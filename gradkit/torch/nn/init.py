"""`torch.nn.init`: fill parameters in place, PyTorch's formulas (gradkit's `nn.init`, plus
`trunc_normal_`, `eye_`, `orthogonal_`). Each returns its tensor and records no graph.

Draws come from gradkit's seeded generator (`torch.manual_seed` makes them reproducible);
they are not PyTorch's numbers. A `generator=` is refused (gradkit has one generator).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...backend import random as _gkrandom
from ...backend.devices import to_device
from ...nn import init as _gkinit
from ...tensor import Tensor as _Native
from ...tensor_base import bump_version

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
    "eye_", "orthogonal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
    "kaiming_normal_",
]

calculate_gain = _gkinit.calculate_gain
_calculate_fan_in_and_fan_out = _gkinit.calculate_fan_in_and_fan_out


def _no_generator(generator: Any, name: str) -> None:
    if generator is not None:
        raise NotImplementedError(f"{name}: generator= is not supported; gradkit draws from "
                                  "its one seeded generator (torch.manual_seed(n))")


def _calculate_correct_fan(tensor: _Native, mode: str) -> int:
    fan_in, fan_out = _gkinit.calculate_fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: _Native, a: float = 0.0, b: float = 1.0, generator: Any = None) -> _Native:
    """Fill with samples from U(a, b)."""
    _no_generator(generator, "uniform_")
    return _gkinit.uniform_(tensor, a, b)


def normal_(tensor: _Native, mean: float = 0.0, std: float = 1.0,
            generator: Any = None) -> _Native:
    """Fill with samples from N(mean, std**2)."""
    _no_generator(generator, "normal_")
    return _gkinit.normal_(tensor, mean, std)


def trunc_normal_(tensor: _Native, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> _Native:
    """Fill with samples from N(mean, std**2) restricted to [a, b] (redrawn until inside)."""
    _no_generator(generator, "trunc_normal_")
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    d = tensor._data
    rng = _gkrandom.generator(tensor.device)
    xp = tensor._xp
    out = rng.standard_normal(d.shape, dtype=np.float32) * np.float32(std) + np.float32(mean)
    for _ in range(1000):
        bad = (out < a) | (out > b)
        if not bool(bad.any()):
            break
        redraw = rng.standard_normal(d.shape, dtype=np.float32) * np.float32(std) + mean
        out = xp.where(bad, redraw, out)
    d[...] = xp.clip(out, a, b)
    bump_version(tensor)
    return tensor


def constant_(tensor: _Native, val: float) -> _Native:
    """Fill with `val`."""
    return _gkinit.constant_(tensor, val)


def ones_(tensor: _Native) -> _Native:
    """Fill with 1."""
    return _gkinit.ones_(tensor)


def zeros_(tensor: _Native) -> _Native:
    """Fill with 0."""
    return _gkinit.zeros_(tensor)


def eye_(tensor: _Native) -> _Native:
    """Fill a 2-D tensor with the identity matrix."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    tensor._data[...] = tensor._xp.eye(*tensor.shape, dtype=tensor.dtype)
    bump_version(tensor)
    return tensor


def orthogonal_(tensor: _Native, gain: float = 1.0, generator: Any = None) -> _Native:
    """Fill with a (semi-)orthogonal matrix (rows x the rest flattened), times `gain`."""
    _no_generator(generator, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor._data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor._data.size // rows
    flat = np.asarray(_gkrandom.generator("cpu").standard_normal((rows, cols)), np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    arr = (q * gain).reshape(tensor.shape).astype(tensor.dtype)
    tensor._data[...] = to_device(arr, tensor.device)
    bump_version(tensor)
    return tensor


def xavier_uniform_(tensor: _Native, gain: float = 1.0, generator: Any = None) -> _Native:
    """Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    _no_generator(generator, "xavier_uniform_")
    return _gkinit.xavier_uniform_(tensor, gain)


def xavier_normal_(tensor: _Native, gain: float = 1.0, generator: Any = None) -> _Native:
    """Glorot normal: N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    _no_generator(generator, "xavier_normal_")
    return _gkinit.xavier_normal_(tensor, gain)


def kaiming_uniform_(tensor: _Native, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> _Native:
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan)."""
    _no_generator(generator, "kaiming_uniform_")
    return _gkinit.kaiming_uniform_(tensor, a, mode, nonlinearity)


def kaiming_normal_(tensor: _Native, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> _Native:
    """He normal: N(0, std**2), std = gain / sqrt(fan)."""
    _no_generator(generator, "kaiming_normal_")
    return _gkinit.kaiming_normal_(tensor, a, mode, nonlinearity)

