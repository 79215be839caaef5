"""TensorBase: a tensor's storage and metadata, with everything that needs no op.

`gradkit.tensor.Tensor` subclasses it and adds the differentiable maths (its methods and
operators call `gradkit.ops`). Here: the slots, construction from Python data (gradkit's dtype
rules), shape/dtype/device, conversions to host values, `repr`, and in-place updates made
outside the graph. (PyTorch splits `torch.Tensor` from its `TensorBase` the same way.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from . import grad_mode
from .autograd import WRITES, VersionCounter
from .backend import deferred as _deferred
from .backend.devices import (
    DEFAULT_FLOAT,
    DEFAULT_INT,
    device_name,
    parse_device,
    to_device,
    to_numpy,
)
from .backend.devices import xp_of as _xp_of
from .errors import AutogradError, DeviceError, DTypeError, ShapeError

if TYPE_CHECKING:
    from typing import TypeAlias

    from numpy.typing import ArrayLike, DTypeLike

    from .backend.devices import DeviceLike
    from .tensor import Tensor

    #: What an op takes where it takes a tensor: a Tensor, or anything NumPy turns into an
    #: array (Python scalars, nested lists, NumPy arrays).
    TensorLike: TypeAlias = "Tensor | ArrayLike"
    #: An axis argument: one axis, several, or None for all of them.
    Axis: TypeAlias = "int | Sequence[int] | None"
    #: What `t[index]` takes: ints, slices, None, Ellipsis, integer arrays/tensors, masks.
    Index: TypeAlias = Any

__all__ = ["TensorBase"]

_GRAD = grad_mode.GRAD_MODE




def version_counter(t: TensorBase) -> VersionCounter:
    """`t`'s counter, made on first use (so that a view can share it)."""
    c = t._ver
    if c is None:
        c = t._ver = VersionCounter()
    return c


def view_counter(base: Any, parents: Sequence[TensorBase]) -> VersionCounter | None:
    """The counter of the parent whose storage an op's result views (None: it views none)."""
    for p in parents:
        if p._data is base or p._data.base is base:
            return version_counter(p)
    return None


def bump_version(t: TensorBase) -> None:
    """Count one in-place write of `t`'s data (every write gradkit makes calls this)."""
    c = version_counter(t)
    WRITES.n += 1
    c.n += 1
    c.last = WRITES.n
_Self = TypeVar("_Self", bound="TensorBase")


class TensorBase:
    """The array (NumPy or CuPy) of a tensor plus the metadata autograd needs."""

    __slots__ = ("_data", "grad", "requires_grad", "_parents", "_vjp", "_op", "_ver", "_saved",
                 "__weakref__")
    __array_ufunc__ = None  # make `ndarray + Tensor` defer to Tensor.__radd__

    _data: Any  # the NumPy or CuPy array (what the core reads and writes)
    grad: Tensor | None
    requires_grad: bool
    _parents: tuple[Tensor, ...]
    _vjp: Callable[[Any], Sequence[Any]] | None
    _op: str | None
    _ver: VersionCounter | None  # shared by views; None until written or viewed
    _saved: int | None  # WRITES.n when the node was recorded

    def __init__(self, data: Any, dtype: DTypeLike | None = None,
                 requires_grad: bool = False, device: DeviceLike = None) -> None:
        self._data = _to_array(data, dtype, device)
        self.grad = None
        self.requires_grad = False
        self._parents = ()
        self._vjp = None
        self._op = None
        self._ver = self._saved = None
        if requires_grad:
            self.requires_grad_(True)

    # ---- metadata ---------------------------------------------------------------------
    @property
    def data(self) -> Any:
        """The underlying NumPy or CuPy array (no copy). Assigning an array (or a tensor,
        whose array is taken) swaps the storage outside the graph."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value._data if isinstance(value, TensorBase) else value

    @property
    def shape(self) -> tuple[int, ...]:
        """The length of each axis."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the elements."""
        return self._data.dtype

    @property
    def size(self) -> int:
        """The number of elements."""
        return self._data.size

    @property
    def device(self) -> str:
        """'cpu' or 'cuda:N'."""
        return device_name(self._data)

    @property
    def _xp(self) -> Any:
        return _xp_of(self._data)

    @property
    def is_leaf(self) -> bool:
        """True unless an op recorded in the graph made this tensor."""
        return self._vjp is None

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ---- conversion -------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """A NumPy array on the host (a copy when the tensor lives on a GPU)."""
        if _deferred._pending:
            _deferred.verify()
        return to_numpy(self._data)

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        if _deferred._pending:
            _deferred.verify()
        arr = to_numpy(self._data)
        return arr.astype(dtype) if dtype is not None else arr

    def __dlpack__(self, *, stream: Any = None, max_version: tuple[int, int] | None = None,
                   dl_device: tuple[int, int] | None = None, copy: bool | None = None) -> Any:
        """Export the underlying NumPy/CuPy array through DLPack (zero copy)."""
        given = {"stream": stream, "max_version": max_version, "dl_device": dl_device,
                 "copy": copy}
        return self._data.__dlpack__(**{k: v for k, v in given.items() if v is not None})

    def __dlpack_device__(self) -> tuple[int, int]:
        """(DLPack device type, device index) of the underlying array."""
        return self._data.__dlpack_device__()

    def item(self) -> Any:
        """The value of a one-element tensor as a Python scalar (float, int or bool)."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors, this one has shape {self.shape}")
        if _deferred._pending:
            _deferred.verify()
        return self._data.item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists, or a scalar for a 0-d tensor."""
        if _deferred._pending:
            _deferred.verify()
        return to_numpy(self._data).tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.item())

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its number (`f"{loss:.3f}"`, `f"{loss}"`), like PyTorch."""
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        body = np.array2string(
            to_numpy(self._data), separator=", ", prefix="tensor(", threshold=200
        )
        extras = []
        if self._data.dtype not in (DEFAULT_FLOAT, DEFAULT_INT, np.dtype(bool)):
            extras.append(f"dtype={self._data.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._vjp is not None:
            extras.append(f"op={self._op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ---- autograd flags ---------------------------------------------------------------
    def requires_grad_(self: _Self, flag: bool = True) -> _Self:
        """Set whether gradients are accumulated into this (leaf) tensor; returns self."""
        if flag and self._data.dtype.kind not in "fc":
            raise DTypeError(
                f"requires_grad: only floating tensors can require grad, this one is "
                f"{self._data.dtype}; convert it with .astype('float32')"
            )
        if not flag and self._vjp is not None:
            raise AutogradError("requires_grad_(False) on a non-leaf tensor; use .detach()")
        self.requires_grad = bool(flag)
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (`.grad` becomes None)."""
        self.grad = None

    # ---- in-place updates (outside the graph) -------------------------------------------
    def _check_inplace(self, opname: str) -> None:
        if _GRAD.enabled and (self.requires_grad or self._vjp is not None):
            raise AutogradError(
                f"{opname}: in-place change of a tensor that is part of the graph "
                f"(requires_grad=True); do it under gk.no_grad() or on .detach()"
            )

    def _inplace(self: _Self, other: TensorLike, ufunc_name: str, opname: str) -> _Self:
        self._check_inplace(opname)
        other = _operand_data(other, self, opname)
        xp = self._xp
        try:
            getattr(xp, ufunc_name)(self._data, other, out=self._data)
        except TypeError as exc:
            raise DTypeError(
                f"{opname}: cannot update a {self._data.dtype} tensor in place with "
                f"{getattr(other, 'dtype', type(other).__name__)} values ({exc})"
            ) from None
        except ValueError:
            raise _shape_error(opname, self.shape, getattr(other, "shape", ())) from None
        bump_version(self)
        return self

    def __iadd__(self: _Self, other: TensorLike) -> _Self:
        return self._inplace(other, "add", "+=")

    def __isub__(self: _Self, other: TensorLike) -> _Self:
        return self._inplace(other, "subtract", "-=")

    def __imul__(self: _Self, other: TensorLike) -> _Self:
        return self._inplace(other, "multiply", "*=")

    def __itruediv__(self: _Self, other: TensorLike) -> _Self:
        return self._inplace(other, "divide", "/=")

    def __setitem__(self, index: Index, value: TensorLike) -> None:
        self._check_inplace("setitem")
        self._data[_index_data(index)] = _operand_data(value, self, "setitem")
        bump_version(self)

    def copy_(self: _Self, other: TensorLike) -> _Self:
        """Overwrite this tensor's values with `other`'s (same shape), outside the graph."""
        self._check_inplace("copy_")
        src = _operand_data(other, self, "copy_")
        if getattr(src, "shape", self.shape) != self.shape:
            raise _shape_error("copy_", self.shape, src.shape)
        self._data[...] = src
        bump_version(self)
        return self


def _shape_error(opname: str, *shapes: tuple[int, ...]) -> ShapeError:
    return ShapeError(f"{opname}: incompatible shapes " + " and ".join(map(str, shapes)))


def _index_data(index: Index) -> Any:
    if isinstance(index, TensorBase):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, TensorBase) else i for i in index)
    return index


def _operand_data(value: TensorLike, like: TensorBase, opname: str) -> Any:
    """Raw data of `value` for an op with `like`, checking the device."""
    if isinstance(value, TensorBase):
        if type(value._data) is not type(like._data):
            raise DeviceError(
                f"{opname}: tensors on different devices ({like.device} and {value.device})"
            )
        return value._data
    if isinstance(value, (int, float, bool, np.generic)):
        return value
    return like._xp.asarray(value)


def _default_dtype(data: Any) -> np.dtype | None:
    """gradkit's dtype rule: floats -> float32, Python ints -> int64, bools stay bool."""
    if isinstance(data, bool):
        return np.dtype(bool)
    if isinstance(data, int):
        return DEFAULT_INT
    if isinstance(data, float):
        return DEFAULT_FLOAT
    kind = getattr(data, "dtype", None)
    if kind is None:
        probe = np.asarray(data)
        if probe.dtype.kind in "iu":
            return DEFAULT_INT
        kind = probe.dtype
    return DEFAULT_FLOAT if np.dtype(kind) == np.float64 else None


def _to_array(data: Any, dtype: DTypeLike | None = None,
              device: DeviceLike = None) -> Any:
    """Build an array from Python data, NumPy/CuPy arrays or Tensors, on `device`."""
    if isinstance(data, TensorBase):
        data = data._data
    dtype = np.dtype(dtype) if dtype is not None else _default_dtype(data)
    on_gpu = hasattr(data, "__cuda_array_interface__")
    if device is None:
        device = device_name(data) if on_gpu else "cpu"
    if parse_device(device)[0] == "cpu":
        arr = to_numpy(data) if on_gpu else np.asarray(data)
    else:
        arr = to_device(data, device)
    if arr.dtype == object:
        raise TypeError(
            f"tensor: cannot make a tensor from {type(data).__name__} "
            "(ragged or non-numeric data)"
        )
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr
