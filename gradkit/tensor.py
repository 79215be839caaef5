"""Tensor: an array (NumPy or CuPy) plus the metadata autograd needs.

Ops live in `gradkit.ops`; this file holds the class, its operators (which call those ops)
and `_make`, the one place a differentiable op's result is recorded in the graph.
"""

from __future__ import annotations

import numpy as np

from . import autograd
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
from .errors import AutogradError, DTypeError

_GRAD = autograd.GRAD_MODE


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_vjp", "_op", "__weakref__")
    __array_ufunc__ = None  # make `ndarray + Tensor` defer to Tensor.__radd__
    __hash__ = object.__hash__

    def __init__(self, data, dtype=None, requires_grad: bool = False, device=None) -> None:
        self.data = _to_array(data, dtype, device)
        self.grad = None
        self.requires_grad = False
        self._parents = ()
        self._vjp = None
        self._op = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data) -> Tensor:
        """A leaf around an existing array, without checks or copies."""
        t = object.__new__(Tensor)
        t.data = data
        t.grad = None
        t.requires_grad = False
        t._parents = ()
        t._vjp = None
        t._op = None
        return t

    # ---- metadata ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def device(self) -> str:
        return device_name(self.data)

    @property
    def _xp(self):
        return _xp_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self._vjp is None

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # ---- conversion -------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """A NumPy array on the host (a copy when the tensor lives on a GPU)."""
        if _deferred._pending:
            _deferred.verify()
        return to_numpy(self.data)

    def __array__(self, dtype=None, copy=None):
        if _deferred._pending:
            _deferred.verify()
        arr = to_numpy(self.data)
        return arr.astype(dtype) if dtype is not None else arr

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export the underlying NumPy/CuPy array through DLPack (zero copy)."""
        given = {"stream": stream, "max_version": max_version, "dl_device": dl_device,
                 "copy": copy}
        return self.data.__dlpack__(**{k: v for k, v in given.items() if v is not None})

    def __dlpack_device__(self) -> tuple:
        """(DLPack device type, device index) of the underlying array."""
        return self.data.__dlpack_device__()

    def item(self):
        """The value of a one-element tensor as a Python scalar."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors, this one has shape {self.shape}")
        if _deferred._pending:
            _deferred.verify()
        return self.data.item()

    def tolist(self):
        if _deferred._pending:
            _deferred.verify()
        return to_numpy(self.data).tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.item())

    def __repr__(self) -> str:
        body = np.array2string(
            to_numpy(self.data), separator=", ", prefix="tensor(", threshold=200
        )
        extras = []
        if self.data.dtype not in (DEFAULT_FLOAT, DEFAULT_INT, np.dtype(bool)):
            extras.append(f"dtype={self.data.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._vjp is not None:
            extras.append(f"op={self._op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ---- autograd -----------------------------------------------------------------------
    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set whether gradients are accumulated into this (leaf) tensor; returns self."""
        if flag and self.data.dtype.kind not in "fc":
            raise DTypeError(
                f"requires_grad: only floating tensors can require grad, this one is "
                f"{self.data.dtype}; convert it with .astype('float32')"
            )
        if not flag and self._vjp is not None:
            raise AutogradError("requires_grad_(False) on a non-leaf tensor; use .detach()")
        self.requires_grad = bool(flag)
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory)."""
        return Tensor._wrap(self.data)

    def backward(self, grad=None) -> None:
        """Reverse-mode autodiff from this tensor; gradients accumulate into leaves' `.grad`."""
        autograd.backward(self, grad)

    def zero_grad(self) -> None:
        self.grad = None

    # ---- dtype / device -----------------------------------------------------------------
    def astype(self, dtype) -> Tensor:
        """A copy with another dtype (differentiable between floating dtypes)."""
        from .ops.elementwise import astype

        return astype(self, dtype)

    def float(self) -> Tensor:
        return self.astype(DEFAULT_FLOAT)

    def to(self, device=None, dtype=None) -> Tensor:
        """This tensor on `device` (itself when already there); differentiable."""
        from .ops.elementwise import to_device_op

        out = self if device is None else to_device_op(self, device)
        return out if dtype is None else out.astype(dtype)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Tensor:
        return self.to(f"cuda:{index}")

    # ---- in-place updates (outside the graph) -------------------------------------------
    def _check_inplace(self, opname: str) -> None:
        if _GRAD.enabled and (self.requires_grad or self._vjp is not None):
            raise AutogradError(
                f"{opname}: in-place change of a tensor that is part of the graph "
                f"(requires_grad=True); do it under gk.no_grad() or on .detach()"
            )

    def _inplace(self, other, ufunc_name: str, opname: str) -> Tensor:
        self._check_inplace(opname)
        other = _operand_data(other, self, opname)
        xp = self._xp
        try:
            getattr(xp, ufunc_name)(self.data, other, out=self.data)
        except TypeError as exc:
            raise DTypeError(
                f"{opname}: cannot update a {self.data.dtype} tensor in place with "
                f"{getattr(other, 'dtype', type(other).__name__)} values ({exc})"
            ) from None
        except ValueError:
            raise _shape_error(opname, self.shape, getattr(other, "shape", ())) from None
        return self

    def __iadd__(self, other):
        return self._inplace(other, "add", "+=")

    def __isub__(self, other):
        return self._inplace(other, "subtract", "-=")

    def __imul__(self, other):
        return self._inplace(other, "multiply", "*=")

    def __itruediv__(self, other):
        return self._inplace(other, "divide", "/=")

    def __setitem__(self, index, value) -> None:
        self._check_inplace("setitem")
        self.data[_index_data(index)] = _operand_data(value, self, "setitem")

    def copy_(self, other) -> Tensor:
        """Overwrite this tensor's values with `other`'s (same shape), outside the graph."""
        self._check_inplace("copy_")
        src = _operand_data(other, self, "copy_")
        if getattr(src, "shape", self.shape) != self.shape:
            raise _shape_error("copy_", self.shape, src.shape)
        self.data[...] = src
        return self


def _shape_error(opname, *shapes):
    from .errors import ShapeError

    return ShapeError(f"{opname}: incompatible shapes " + " and ".join(map(str, shapes)))


def _index_data(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _operand_data(value, like: Tensor, opname: str):
    """Raw data of `value` for an op with `like`, checking the device."""
    if isinstance(value, Tensor):
        if type(value.data) is not type(like.data):
            from .errors import DeviceError

            raise DeviceError(
                f"{opname}: tensors on different devices ({like.device} and {value.device})"
            )
        return value.data
    if isinstance(value, (int, float, bool, np.generic)):
        return value
    return like._xp.asarray(value)


def _default_dtype(data):
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


def _to_array(data, dtype=None, device=None):
    """Build an array from Python data, NumPy/CuPy arrays or Tensors, on `device`."""
    if isinstance(data, Tensor):
        data = data.data
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


def _make(data, parents: tuple, vjp, op: str) -> Tensor:
    """Wrap an op's result; record `parents` and `vjp` when any parent requires grad."""
    if isinstance(data, np.generic):
        data = np.asarray(data)
    out = object.__new__(Tensor)
    out.data = data
    out.grad = None
    out._op = op
    if _GRAD.enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._vjp = vjp
                return out
    out.requires_grad = False
    out._parents = ()
    out._vjp = None
    return out


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """`x` itself if it is a Tensor, else a constant tensor (on `like`'s device)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and not isinstance(like.data, np.ndarray):
        return Tensor(x, device=like.device)
    return Tensor(x)


def tensor(data, dtype=None, requires_grad: bool = False, device="cpu") -> Tensor:
    """Make a tensor: floats become float32, ints int64, bools stay bool (unless `dtype`)."""
    if isinstance(data, Tensor) and dtype is None:
        dtype = data.dtype
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)
