"""tensor, zeros, ones, empty, full, eye, arange, linspace, logspace, *_like, from_numpy,
as_tensor: PyTorch's creation functions (`*size` or `size=`, `dtype=`, `device=`,
`requires_grad=`) and dtype rules: Python floats -> the default dtype (float32), ints ->
int64, bools -> bool; NumPy arrays and tensors keep their dtype."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backend.devices import device_name, device_scope, namespace, to_device
from ..tensor import Tensor as _Native
from ..tensor_base import TensorBase
from .common import size_arg
from .device import resolve
from .dtypes import default_float, to_numpy_dtype
from .tensor import Tensor, alias, from_array

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "empty", "full",
           "eye", "arange", "linspace", "logspace", "zeros_like", "ones_like", "empty_like",
           "full_like", "scalar_tensor"]

_INT64 = np.dtype(np.int64)


def infer_array(data: Any) -> Any:
    """An array of `data` with PyTorch's dtype rules (NumPy arrays keep theirs)."""
    if isinstance(data, TensorBase):
        return data._data
    if isinstance(data, (np.ndarray, np.generic)) or hasattr(data, "__cuda_array_interface__"):
        return data
    arr = np.asarray(data)
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(default_float(), copy=False)
    if kind in "iu":
        return arr.astype(_INT64, copy=False)
    if kind == "c":
        return arr.astype(np.complex64 if default_float() == np.float32 else np.complex128)
    if kind == "b":
        return arr
    raise TypeError(f"tensor(): could not make a tensor from {type(data).__name__} (dtype "
                    f"{arr.dtype}); gradkit tensors hold numbers and bools")


def _finish(arr: Any, dtype: Any, device: Any, requires_grad: bool, copy: bool) -> Tensor:
    """`arr` cast to `dtype`, moved to `device` (a copy when `copy`), as a tensor."""
    want = to_numpy_dtype(dtype)
    if want is not None and arr.dtype != want:
        arr, copy = arr.astype(want), False
    where = resolve(device) if device is not None else (
        device_name(arr) if hasattr(arr, "__cuda_array_interface__") else resolve(None))
    moved = to_device(arr, where)
    if moved is not arr:
        arr, copy = moved, False
    t = from_array(arr.copy() if copy else arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (lists, numbers, NumPy arrays, tensors)."""
    return _finish(infer_array(data), dtype, device, requires_grad, copy=True)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a tensor without a copy where it can: a torch tensor of that dtype and
    device is returned itself, a native gradkit tensor shares its storage and graph, a
    NumPy array its memory."""
    if isinstance(data, Tensor) and (dtype is None or to_numpy_dtype(dtype) ==
                                     data._data.dtype) and (device is None or
                                                            resolve(device) == data.device):
        return data
    if isinstance(data, TensorBase):
        same = (dtype is None or to_numpy_dtype(dtype) == data._data.dtype) and (
            device is None or resolve(device) == data.device)
        if same:
            return alias(data)
        out = _Native.to(data, None if device is None else resolve(device),  # type: ignore
                         to_numpy_dtype(dtype))
        return alias(out)
    return _finish(infer_array(data), dtype, device, False, copy=False)


asarray = as_tensor


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (its dtype, no copy)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy(): expected np.ndarray (got {type(ndarray).__name__})")
    return from_array(ndarray)


def _build(size: Sequence[Any], make: Any, dtype: Any, device: Any, requires_grad: bool,
           opname: str) -> Tensor:
    shape = size_arg(size, opname)
    where = resolve(device)
    with device_scope(where):
        arr = make(namespace(where), shape, to_numpy_dtype(dtype) or default_float())
    t = from_array(arr)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """A tensor of zeros (`zeros(2, 3)`, `zeros((2, 3))`, `zeros(size=(2, 3))`)."""
    return _build(kw.get("size", size), lambda xp, s, d: xp.zeros(s, d), dtype, device,
                  requires_grad, "zeros")


def ones(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """A tensor of ones."""
    return _build(kw.get("size", size), lambda xp, s, d: xp.ones(s, d), dtype, device,
                  requires_grad, "ones")


def empty(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """A new tensor (gradkit fills it with zeros: its values are defined)."""
    return _build(kw.get("size", size), lambda xp, s, d: xp.zeros(s, d), dtype, device,
                  requires_grad, "empty")


def _fill_dtype(value: Any) -> Any:
    if isinstance(value, TensorBase):
        return value._data.dtype
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(value, (int, np.integer)):
        return _INT64
    return default_float()


def full(size: Sequence[int], fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, **kw: Any) -> Tensor:
    """A tensor filled with `fill_value` (its dtype: bool, int64 or the default float)."""
    value = fill_value.item() if isinstance(fill_value, TensorBase) else fill_value
    return _build((size,) if isinstance(size, int) else (tuple(size),),
                  lambda xp, s, d: xp.full(s, value, d), dtype or _fill_dtype(fill_value),
                  device, requires_grad, "full")


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    """A 0-d tensor of `s` (the default float dtype)."""
    return full((), s, dtype=dtype or default_float(), device=device,
                requires_grad=requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix."""
    return _build((n, n if m is None else m), lambda xp, s, d: xp.eye(s[0], s[1], dtype=d),
                  dtype, device, requires_grad, "eye")


def arange(start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """start, start + step, ... below `end`: int64 when all arguments are ints, else the
    default float (PyTorch's rule; the values are computed in float64, as PyTorch does)."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, TensorBase) else v for v in (start, end, step)]
    if values[2] == 0:
        raise RuntimeError("arange(): step must be nonzero")
    ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)
    n = max(0, math.ceil((values[1] - values[0]) / values[2]))
    want = to_numpy_dtype(dtype) or (_INT64 if ints else default_float())
    return _build((n,), lambda xp, s, d: (xp.arange(n, dtype=np.float64) * values[2]
                                         + values[0]).astype(d) if not ints else
                  xp.arange(values[0], values[1], values[2]).astype(d), want, device,
                  requires_grad, "arange")


def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from `start` to `end` (inclusive)."""
    return _build((steps,), lambda xp, s, d: xp.linspace(start, end, steps).astype(d), dtype,
                  device, requires_grad, "linspace")


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """`steps` values from base**start to base**end, evenly spaced in the exponent."""
    return _build((steps,), lambda xp, s, d: (base ** xp.linspace(start, end, steps)).astype(d),
                  dtype, device, requires_grad, "logspace")


def _like(input: Any, make: Any, dtype: Any, device: Any, requires_grad: bool,
          opname: str) -> Tensor:
    if not isinstance(input, TensorBase):
        raise TypeError(f"{opname}(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    return _build(tuple(input.shape), make, dtype or input._data.dtype,
                  input.device if device is None else device, requires_grad, opname)


def zeros_like(input: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kw: Any) -> Tensor:
    """Zeros of `input`'s shape, dtype and device."""
    return _like(input, lambda xp, s, d: xp.zeros(s, d), dtype, device, requires_grad,
                 "zeros_like")


def ones_like(input: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **kw: Any) -> Tensor:
    """Ones of `input`'s shape, dtype and device."""
    return _like(input, lambda xp, s, d: xp.ones(s, d), dtype, device, requires_grad,
                 "ones_like")


empty_like = zeros_like


def full_like(input: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **kw: Any) -> Tensor:
    """`fill_value` everywhere, with `input`'s shape, dtype and device."""
    return _like(input, lambda xp, s, d: xp.full(s, fill_value, d), dtype, device,
                 requires_grad, "full_like")
