"""Tensor creation: zeros, ones, full, arange, eye, randn, rand, ... (all on any device)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..backend import random as gkrandom
from ..backend.devices import DEFAULT_FLOAT, DEFAULT_INT, device_scope, namespace
from ..tensor import Tensor

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from ..backend.devices import DeviceLike
    from ..tensor_base import TensorLike


def _shape(shape: Sequence[Any]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        dims = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"shape must be ints or a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in dims):
        raise ValueError(f"shape must not have negative sizes, got {dims}")
    return dims


def _finish(arr: Any, requires_grad: bool) -> Tensor:
    t = Tensor._wrap(arr)
    return t.requires_grad_(True) if requires_grad else t


def _build(device: DeviceLike, make: Callable[[Any], Any], requires_grad: bool = False) -> Tensor:
    """make(xp), run with `device` current (so CuPy allocates there), as a Tensor."""
    with device_scope(device):
        return _finish(make(namespace(device)), requires_grad)


def zeros(*shape: int | Sequence[int], dtype: DTypeLike | None = None, requires_grad: bool = False,
          device: DeviceLike = "cpu") -> Tensor:
    """A tensor of zeros (float32 unless `dtype`)."""
    return _build(device, lambda xp: xp.zeros(_shape(shape), dtype=dtype or DEFAULT_FLOAT),
                  requires_grad)


def ones(*shape: int | Sequence[int], dtype: DTypeLike | None = None, requires_grad: bool = False,
         device: DeviceLike = "cpu") -> Tensor:
    """A tensor of ones (float32 unless `dtype`)."""
    return _build(device, lambda xp: xp.ones(_shape(shape), dtype=dtype or DEFAULT_FLOAT),
                  requires_grad)


def full(shape: int | Sequence[int], value: float, dtype: DTypeLike | None = None,
         requires_grad: bool = False, device: DeviceLike = "cpu") -> Tensor:
    """A tensor filled with `value` (its dtype follows gradkit's rules unless `dtype`)."""
    if dtype is None:
        dtype = (bool if isinstance(value, bool) else DEFAULT_INT if isinstance(value, int)
                 else DEFAULT_FLOAT)
    shape = _shape((shape,) if isinstance(shape, int) else (tuple(shape),))
    return _build(device, lambda xp: xp.full(shape, value, dtype=dtype), requires_grad)


def _like(t: TensorLike, fill: float, dtype: DTypeLike | None, requires_grad: bool,
          device: DeviceLike) -> Tensor:
    t = t if isinstance(t, Tensor) else Tensor(t)
    return _build(device or t.device, lambda xp: xp.full(t.shape, fill, dtype=dtype or t.dtype),
                  requires_grad)


def zeros_like(t: TensorLike, dtype: DTypeLike | None = None, requires_grad: bool = False,
               device: DeviceLike = None) -> Tensor:
    """Zeros with the shape (and dtype, device) of `t`."""
    return _like(t, 0, dtype, requires_grad, device)


def ones_like(t: TensorLike, dtype: DTypeLike | None = None, requires_grad: bool = False,
              device: DeviceLike = None) -> Tensor:
    """Ones with the shape (and dtype, device) of `t`."""
    return _like(t, 1, dtype, requires_grad, device)


def full_like(t: TensorLike, value: float, dtype: DTypeLike | None = None,
              requires_grad: bool = False, device: DeviceLike = None) -> Tensor:
    """`value` everywhere, with the shape (and dtype, device) of `t`."""
    return _like(t, value, dtype, requires_grad, device)


def arange(start: float, stop: float | None = None, step: float = 1,
           dtype: DTypeLike | None = None, requires_grad: bool = False,
           device: DeviceLike = "cpu") -> Tensor:
    """Evenly spaced values in [start, stop); int64 for int arguments, else float32."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = DEFAULT_INT if ints else DEFAULT_FLOAT
    return _build(device, lambda xp: xp.arange(start, stop, step, dtype=dtype), requires_grad)


def linspace(start: float, stop: float, num: int = 50, dtype: DTypeLike | None = None,
             requires_grad: bool = False, device: DeviceLike = "cpu") -> Tensor:
    """`num` evenly spaced values from start to stop (inclusive), float32."""
    return _build(device, lambda xp: xp.linspace(start, stop, num, dtype=dtype or DEFAULT_FLOAT),
                  requires_grad)


def eye(n: int, m: int | None = None, dtype: DTypeLike | None = None,
        requires_grad: bool = False, device: DeviceLike = "cpu") -> Tensor:
    """The identity matrix (n x m)."""
    return _build(device, lambda xp: xp.eye(n, m, dtype=dtype or DEFAULT_FLOAT),
                  requires_grad)


def randn(*shape: int | Sequence[int], dtype: DTypeLike | None = None, requires_grad: bool = False,
          device: DeviceLike = "cpu") -> Tensor:
    """Standard normal samples from gradkit's seeded generator."""
    dtype = np.dtype(dtype or DEFAULT_FLOAT)
    sample = dtype if dtype.itemsize >= 4 else np.float32
    dims = _shape(shape)
    return _build(device, lambda xp: gkrandom.generator(device).standard_normal(
        dims, dtype=sample).astype(dtype, copy=False), requires_grad)


def rand(*shape: int | Sequence[int], dtype: DTypeLike | None = None, requires_grad: bool = False,
         device: DeviceLike = "cpu") -> Tensor:
    """Uniform samples in [0, 1) from gradkit's seeded generator."""
    dtype = np.dtype(dtype or DEFAULT_FLOAT)
    sample = dtype if dtype.itemsize >= 4 else np.float32
    dims = _shape(shape)
    return _build(device, lambda xp: gkrandom.generator(device).random(
        dims, dtype=sample).astype(dtype, copy=False), requires_grad)


def randint(low: int, high: int | None = None, size: int | Sequence[int] = (),
            dtype: DTypeLike | None = None, device: DeviceLike = "cpu") -> Tensor:
    """Random integers in [low, high) (int64)."""
    if high is None:
        low, high = 0, low
    size = _shape((size,) if isinstance(size, int) else (tuple(size),))
    return _build(device, lambda xp: gkrandom.generator(device).integers(low, high, size=size,
                                                  dtype=dtype or DEFAULT_INT))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (no dtype change, no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a NumPy array, got {type(array).__name__}")
    return Tensor._wrap(array)
