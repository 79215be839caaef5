"""Parameter initialisation, in place, with PyTorch's semantics (torch.nn.init).

Every function writes into `tensor._data` directly (so no graph is recorded and parameters
that require grad can be filled), draws from gradkit's seeded generator for the tensor's
device (`gk.manual_seed` makes it reproducible) and returns the tensor.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import random as gkrandom
from ..tensor import Tensor
from ..tensor_base import bump_version

__all__ = [
    "calculate_gain", "calculate_fan_in_and_fan_out", "zeros_", "ones_", "constant_",
    "normal_", "uniform_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
    "kaiming_normal_",
]

_GAIN_ONE = {"linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
             "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (torch.nn.init.calculate_gain)."""
    if nonlinearity in _GAIN_ONE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), exactly like PyTorch."""
    shape = _checked(tensor, "calculate_fan_in_and_fan_out").shape
    if len(shape) < 2:
        raise ValueError(
            "calculate_fan_in_and_fan_out: fan in and fan out can not be computed for a "
            f"tensor with fewer than 2 dimensions (shape {shape})"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _checked(tensor, name: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a gradkit Tensor, got {type(tensor).__name__}")
    bump_version(tensor)  # every init_ writes in place: a graph that saved it must not walk
    return tensor


def _sample_dtype(tensor: Tensor):
    dtype = tensor._data.dtype
    if dtype.kind != "f":
        raise TypeError(f"random init needs a floating tensor, got {dtype}")
    return dtype if dtype.itemsize >= 4 else np.dtype(np.float32)


def _fill_random(tensor: Tensor, kind: str, loc: float, scale: float) -> Tensor:
    """tensor[...] = loc + scale * sample, sample ~ U[0, 1) or N(0, 1), in place."""
    d = tensor._data
    if d.size == 0:
        return tensor
    rng = gkrandom.generator(tensor.device)
    dtype = _sample_dtype(tensor)
    sample = rng.random(d.shape, dtype=dtype) if kind == "uniform" else rng.standard_normal(
        d.shape, dtype=dtype)
    if scale != 1.0:
        sample *= dtype.type(scale)
    if loc != 0.0:
        sample += dtype.type(loc)
    d[...] = sample
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples from U(a, b)."""
    _checked(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    return _fill_random(tensor, "uniform", a, b - a)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples from N(mean, std**2)."""
    _checked(tensor, "normal_")
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill_random(tensor, "normal", mean, std)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with `val`."""
    _checked(tensor, "constant_")._data[...] = val
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill_random(tensor, "uniform", -bound, 2 * bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return _fill_random(tensor, "normal", 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity) -> float | None:
    if 0 in _checked(tensor, "kaiming init").shape:
        return None  # nothing to fill (PyTorch warns and returns)
    fan = _fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan) (fan from `mode`)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return _fill_random(tensor, "uniform", -bound, 2 * bound)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """He normal: N(0, std**2) with std = gain / sqrt(fan) (fan from `mode`)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else _fill_random(tensor, "normal", 0.0, std)
