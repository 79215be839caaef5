"""`torch.float32`, `torch.long`, ...: PyTorch's dtype objects over NumPy's dtypes.

A `torch.dtype` prints as PyTorch's (`torch.float32`), and stands in for its NumPy dtype
wherever gradkit or NumPy takes one (`np.dtype(torch.float32)` is float32; `kind`,
`itemsize`, `name`, ... are the NumPy dtype's), so a tensor's `.dtype` works in both dialects.
`Size` is `torch.Size`: a tuple of ints that prints as PyTorch's.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

__all__ = ["Size", "dtype", "finfo", "iinfo", "get_default_dtype", "set_default_dtype",
           "to_numpy_dtype", "to_torch_dtype"]


class dtype:  # noqa: N801 - PyTorch's name
    """A PyTorch dtype (`torch.float32`, ...) that is also usable as its NumPy dtype."""

    __slots__ = ("_np", "_name", "is_floating_point", "is_complex", "is_signed")

    def __init__(self, name: str, np_dtype: Any) -> None:
        self._np = np.dtype(np_dtype)
        self._name = name
        self.is_floating_point = self._np.kind == "f"
        self.is_complex = self._np.kind == "c"
        self.is_signed = self._np.kind in "fic"

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype (what `np.dtype(d)` reads)."""
        return self._np

    @property
    def itemsize(self) -> builtins.int:
        """Bytes per element."""
        return self._np.itemsize

    def __getattr__(self, name: str) -> Any:  # kind, char, name, type, ... of NumPy's dtype
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._np, name)

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    __str__ = __repr__

    def __eq__(self, other: object) -> builtins.bool:
        if isinstance(other, dtype):
            return other is self
        if isinstance(other, (np.dtype, type, str)):
            try:
                return np.dtype(other) == self._np
            except TypeError:
                return False
        return NotImplemented

    def __ne__(self, other: object) -> builtins.bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> builtins.int:
        return hash(self._np)

    def __reduce__(self) -> str:
        return self._name  # pickles as the module attribute of that name


float32 = dtype("float32", "float32")
float64 = dtype("float64", "float64")
float16 = dtype("float16", "float16")
complex64 = dtype("complex64", "complex64")
complex128 = dtype("complex128", "complex128")
uint8 = dtype("uint8", "uint8")
uint16 = dtype("uint16", "uint16")
uint32 = dtype("uint32", "uint32")
uint64 = dtype("uint64", "uint64")
int8 = dtype("int8", "int8")
int16 = dtype("int16", "int16")
int32 = dtype("int32", "int32")
int64 = dtype("int64", "int64")
bool = dtype("bool", "bool")  # noqa: A001 - PyTorch's name
_BY_NP: dict[np.dtype, dtype] = {d._np: d for d in (
    float32, float64, float16, complex64, complex128, uint8, uint16, uint32, uint64, int8,
    int16, int32, int64, bool)}
float = float32  # noqa: A001
double = float64
half = float16
cfloat = complex64
cdouble = complex128
short = int16
int = int32  # noqa: A001
long = int64

#: PyTorch's legacy tensor type names, by NumPy dtype ('torch.FloatTensor', ...).
TYPE_NAMES = {np.dtype(k): v for k, v in (
    ("float32", "FloatTensor"), ("float64", "DoubleTensor"), ("float16", "HalfTensor"),
    ("uint8", "ByteTensor"), ("int8", "CharTensor"), ("int16", "ShortTensor"),
    ("int32", "IntTensor"), ("int64", "LongTensor"), ("bool", "BoolTensor"),
    ("complex64", "ComplexFloatTensor"), ("complex128", "ComplexDoubleTensor"))}
_BY_TYPE_NAME = {v: k for k, v in TYPE_NAMES.items()}

_DEFAULT = [float32]


def to_torch_dtype(np_dtype: Any) -> dtype:
    """The `torch.dtype` of a NumPy dtype."""
    found = _BY_NP.get(np_dtype)
    if found is None:
        raise TypeError(f"gradkit.torch: NumPy dtype {np_dtype} has no PyTorch dtype")
    return found


def to_numpy_dtype(d: Any) -> np.dtype | None:
    """NumPy's dtype for a `torch.dtype`, a NumPy dtype/type, a Python type or a name
    (also 'torch.FloatTensor'); None stays None."""
    if d is None or isinstance(d, np.dtype):
        return d
    if isinstance(d, dtype):
        return d._np
    if isinstance(d, str):
        found = _BY_TYPE_NAME.get(d.rsplit(".", 1)[-1])
        if found is not None:
            return found
        d = d.removeprefix("torch.")
    np_type = getattr(d, "np_dtype", None)  # a legacy tensor class (torch.FloatTensor)
    if np_type is not None:
        return np_type
    try:
        return np.dtype(d)
    except TypeError:
        raise TypeError(f"gradkit.torch: {d!r} is not a dtype (use torch.float32, "
                        "torch.long, ...)") from None


def get_default_dtype() -> dtype:
    """The dtype of Python floats and of float creation functions (float32)."""
    return _DEFAULT[0]


def set_default_dtype(d: Any) -> None:
    """Make `d` (torch.float32 or torch.float64) the default floating dtype."""
    np_d = to_numpy_dtype(d)
    if np_d not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"set_default_dtype: only torch.float32 and torch.float64 are "
                        f"supported, got {d}")
    _DEFAULT[0] = _BY_NP[np_d]


def default_float() -> np.dtype:
    """The NumPy dtype of the default float."""
    return _DEFAULT[0]._np


class Size(tuple):
    """`torch.Size`: a tensor's shape, a tuple of ints (`torch.Size([2, 3])`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, index: Any) -> Any:
        out = tuple.__getitem__(self, index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other: Any) -> Size:
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:
        return Size(tuple(other) + tuple(self))

    def numel(self) -> builtins.int:
        """The number of elements of a tensor of this shape."""
        n = 1
        for s in self:
            n *= s
        return n


class finfo:  # noqa: N801 - PyTorch's name
    """Machine limits of a floating dtype (`torch.finfo(torch.float32).eps`)."""

    def __init__(self, type: Any = None) -> None:  # noqa: A002 - PyTorch's name
        info = np.finfo(to_numpy_dtype(type) if type is not None else default_float())
        self.bits, self.dtype = info.bits, to_torch_dtype(info.dtype).__repr__()[6:]
        self.eps, self.max, self.min = builtins.float(info.eps), builtins.float(info.max), \
            builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = builtins.float(info.resolution)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801 - PyTorch's name
    """Limits of an integer dtype (`torch.iinfo(torch.int64).max`)."""

    def __init__(self, type: Any) -> None:  # noqa: A002 - PyTorch's name
        info = np.iinfo(to_numpy_dtype(type))
        self.bits, self.min, self.max = info.bits, builtins.int(info.min), builtins.int(info.max)
        self.dtype = info.dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
