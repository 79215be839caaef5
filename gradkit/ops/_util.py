"""Helpers shared by the op modules: operand coercion and error messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..backend.devices import DEFAULT_FLOAT
from ..errors import DeviceError, DTypeError, ShapeError
from ..tensor import Tensor, _make, as_tensor

if TYPE_CHECKING:
    from ..tensor_base import TensorLike

_NUMBER = (int, float, bool, np.number, np.bool_)


def float_tensor(x: TensorLike, opname: str) -> Tensor:
    """`x` as a floating tensor: integer/bool tensors are promoted to float32 (constants)."""
    x = as_tensor(x)
    if x._data.dtype.kind not in "fc":
        return Tensor._wrap(x._data.astype(DEFAULT_FLOAT))
    return x


def _scalar_dtype(value: Any, dtype: np.dtype) -> np.dtype:
    """The dtype a Python scalar takes next to a tensor of `dtype` (NumPy's weak scalars)."""
    if isinstance(value, (bool, np.bool_)):
        return dtype
    if isinstance(value, (float, np.floating)):
        return dtype if dtype.kind in "fc" else DEFAULT_FLOAT
    return dtype if dtype.kind in "iufc" else np.dtype(np.int64)


def _check_devices(a: Tensor, b: Tensor, opname: str) -> None:
    x, y = a._data, b._data
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        return  # both on the CPU (ndarray subclasses such as memmap included)
    if type(x) is not type(y) or x.device != y.device:
        raise DeviceError(
            f"{opname}: tensors on different devices ({a.device} and {b.device}); "
            "move one with .to(device)"
        )


def _to_float(t: Tensor, dtype: np.dtype) -> Tensor:
    """An int/bool operand as `dtype`; a recorded rule's mask (a comparison node, see
    `autograd_rules.IN_RULE`) stays connected, passing its gradient through."""
    out = t._data.astype(dtype)
    if t.requires_grad:
        return _make(out, (t,), lambda g: (g,), "astype")
    return Tensor._wrap(out)


def operands(a: Any, b: Any, opname: str) -> tuple[Tensor, Tensor]:
    """Two operands as tensors on one device with one dtype.

    Floats win over ints (an int tensor meeting a float becomes float32, never float64);
    Python scalars take the tensor's dtype, like NumPy's weak scalars.
    """
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        x, y = a._data, b._data
        if x.dtype is y.dtype and type(x) is np.ndarray and type(y) is np.ndarray:
            return a, b  # the common case: same dtype, both on the CPU
    elif not (ta or tb):
        a, ta = as_tensor(a), True
    if ta and tb:
        _check_devices(a, b, opname)
        kx, ky = a._data.dtype.kind, b._data.dtype.kind
        if kx == "f" and ky != "f":
            b = _to_float(b, a._data.dtype)
        elif ky == "f" and kx != "f":
            a = _to_float(a, b._data.dtype)
        return a, b
    t, other = (a, b) if ta else (b, a)
    if isinstance(other, _NUMBER):
        dtype = _scalar_dtype(other, t._data.dtype)
        if dtype != t._data.dtype:
            t = Tensor._wrap(t._data.astype(dtype))
        c = Tensor._wrap(t._xp.asarray(other, dtype=dtype))
        return (t, c) if ta else (c, t)
    if (isinstance(other, np.ndarray) and isinstance(t._data, np.ndarray)
            and other.dtype.kind == "f" and t._data.dtype.kind == "f"):
        c = Tensor._wrap(other.astype(t._data.dtype, copy=False))  # never through float32
    else:
        c = as_tensor(other, t)
    return operands(t, c, opname) if ta else operands(c, t, opname)


def shape_error(opname: str, *shapes: Sequence[int], detail: str = "") -> ShapeError:
    msg = f"{opname}: incompatible shapes " + " and ".join(str(tuple(s)) for s in shapes)
    return ShapeError(msg + (f" ({detail})" if detail else ""))


def check_float(t: Tensor, opname: str) -> None:
    if t._data.dtype.kind not in "fc":
        raise DTypeError(f"{opname}: needs a floating tensor, got {t._data.dtype}")


def norm_axis(axis: Any, ndim: int, opname: str) -> Any:
    """Validate `axis` (None, int or tuple) and return it with non-negative entries."""
    if axis is None:
        return None
    many = isinstance(axis, (tuple, list))
    axes = tuple(axis) if many else (axis,)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{opname}: axis must be an int or tuple of ints, got {axis!r}")
        if not -ndim <= a < max(ndim, 1):
            raise ShapeError(f"{opname}: axis {a} is out of range for a {ndim}-d tensor")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{opname}: repeated axis in {axis!r}")
    return tuple(out) if many else out[0]
