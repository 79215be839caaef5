"""`tf.Tensor`: gradkit's Tensor that prints and behaves like TensorFlow's eager tensor.

The rule: **every tensor the dialect makes is a `gradkit.tf.Tensor`**, a subclass of
`gradkit.Tensor` with no extra slots (the same storage, graph and ops). Its operators and
methods are gradkit's, wrapped so that results are retagged as `tf.Tensor` (one
`__class__` store per op, paid by dialect code only: the core class is untouched). A
native gradkit Tensor meeting a `tf.Tensor` in an operator gives a `tf.Tensor` (Python
tries the subclass's reflected operator first). Keras layers and other gradkit functions
return native Tensors: they work everywhere a `tf.Tensor` does and print like gradkit.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..backend.devices import parse_device, to_device
from ..tensor import Tensor as _Native
from ..tensor_base import TensorBase

__all__ = ["Tensor", "TensorShape", "convert_to_tensor", "from_array", "retag", "tf_array"]

#: The device tf creation functions use (`with tf.device("/GPU:0"):` changes it).
DEVICE: contextvars.ContextVar[str] = contextvars.ContextVar("gradkit_tf_device",
                                                             default="cpu")
_INT32 = np.iinfo(np.int32)


class TensorShape(tuple):
    """A tensor's shape: a tuple of ints that prints as TF's (`(2, 3)`) and equals lists."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TensorShape | list | tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = tuple.__hash__

    def __repr__(self) -> str:
        return f"TensorShape({list(self)})"

    def __str__(self) -> str:
        return tuple.__repr__(tuple(self))

    def as_list(self) -> list[int]:
        """The sizes as a list."""
        return list(self)

    @property
    def rank(self) -> int:
        """The number of axes."""
        return len(self)

    ndims = rank

    def num_elements(self) -> int:
        """The number of elements."""
        return int(np.prod(self, dtype=np.int64))


def _numpy_text(arr: np.ndarray | np.generic, is_repr: bool) -> str:
    """TF's `numpy_text`: the NumPy repr (or str), on a new line when it spans several."""
    text = repr(arr) if is_repr and np.ndim(arr) else str(arr)  # a scalar: 3.0
    return "\n" + text if "\n" in text else text


class Tensor(_Native):
    """An eager TensorFlow tensor over gradkit: same data and graph, TF's printing."""

    __slots__ = ()
    __hash__ = _Native.__hash__

    @property
    def shape(self) -> TensorShape:
        """The shape as a `TensorShape` (a tuple)."""
        return TensorShape(self._data.shape)

    def get_shape(self) -> TensorShape:
        """The shape (TF 1's name)."""
        return TensorShape(self._data.shape)

    def numpy(self) -> Any:
        """The values on the host: a NumPy array, or a NumPy scalar for a 0-d tensor (TF)."""
        arr = super().numpy()
        return arr[()] if arr.ndim == 0 else arr

    def __repr__(self) -> str:
        return (f"<tf.Tensor: shape={self.shape}, dtype={self._data.dtype.name}, "
                f"numpy={_numpy_text(self.numpy(), True)}>")

    def __str__(self) -> str:
        return (f"tf.Tensor({_numpy_text(self.numpy(), False)}, shape={self.shape}, "
                f"dtype={self._data.dtype.name})")

    # TF tensors are immutable: `x += 1` makes a new tensor, item assignment is refused.
    def __iadd__(self, other: Any) -> Tensor:  # type: ignore[misc]
        return self + other

    def __isub__(self, other: Any) -> Tensor:  # type: ignore[misc]
        return self - other

    def __imul__(self, other: Any) -> Tensor:  # type: ignore[misc]
        return self * other

    def __itruediv__(self, other: Any) -> Tensor:  # type: ignore[misc]
        return self / other

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            "'tf.Tensor' object does not support item assignment (TF tensors are "
            "immutable): build a new tensor (tf.where, tf.concat), or use a tf.Variable "
            "and its assign()")


def retag(out: Any) -> Any:
    """`out` as a `tf.Tensor` when it is a native gradkit Tensor (in place: no copy)."""
    if type(out) is _Native:
        out.__class__ = Tensor
    return out


def from_array(arr: Any) -> Tensor:
    """A `tf.Tensor` around an existing NumPy/CuPy array (no copy, no graph)."""
    t = _Native._wrap(arr)
    t.__class__ = Tensor
    return t  # type: ignore[return-value]


def _retagging(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = fn(self, *args, **kwargs)
        if type(out) is _Native:
            out.__class__ = Tensor
        return out
    return method


def _retagging_list(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def method(self: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [retag(t) for t in fn(self, *args, **kwargs)]
    return method


def _iter(self: Any) -> Iterator[Any]:
    return (retag(_Native.__getitem__(self, i)) for i in range(len(self)))


def _install_methods() -> None:
    """Give `Tensor` a retagging version of every gradkit method that returns tensors."""
    for name, fn in vars(_Native).items():
        if name in vars(Tensor) or (name.startswith("_") and not name.startswith("__")):
            continue
        if isinstance(fn, property):
            back = fn.fget.__annotations__.get("return") if fn.fget else None
            if back == "Tensor":
                setattr(Tensor, name, property(_retagging(fn.fget)))  # type: ignore[arg-type]
            continue
        back = getattr(fn, "__annotations__", {}).get("return")
        if back == "Tensor":
            setattr(Tensor, name, _retagging(fn))
        elif back == "list[Tensor]":
            setattr(Tensor, name, _retagging_list(fn))
    Tensor.__iter__ = _iter  # type: ignore[method-assign]


_install_methods()


def _infer(value: Any) -> np.ndarray:
    """Python data as an array with TF's dtype rules: floats -> float32, ints -> int32
    (int64 past int32's range), bools stay bool; NumPy arrays keep their dtype."""
    if isinstance(value, np.ndarray | np.generic):
        return np.asarray(value)
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(np.float32)
    if kind in "iu":
        inside = arr.size == 0 or (_INT32.min <= arr.min() and arr.max() <= _INT32.max)
        return arr.astype(np.int32 if inside else np.int64)
    if kind == "c":
        return arr.astype(np.complex128)
    if kind == "b":
        return arr
    raise TypeError(
        f"gradkit.tf: cannot make a tensor from {type(value).__name__} of dtype {arr.dtype} "
        "(gradkit tensors hold numbers and bools; strings and ragged lists are not "
        "supported: encode them as numbers first)")


def tf_array(value: Any, dtype: Any = None, copy: bool = False) -> Any:
    """The raw array (NumPy or CuPy) of `value` with TF's dtype rules, on the tf device
    (`tf.device`) unless it is already on a GPU; cast to `dtype` when given."""
    if isinstance(value, TensorBase):
        arr = value._data
    elif hasattr(value, "__cuda_array_interface__"):
        arr = value
    else:
        arr = _infer(value)
        device = DEVICE.get()
        if parse_device(device)[0] != "cpu":
            arr, copy = to_device(arr, device), False
    if dtype is not None and arr.dtype != np.dtype(dtype):
        return arr.astype(np.dtype(dtype))
    return arr.copy() if copy else arr


def convert_to_tensor(value: Any, dtype: Any = None, dtype_hint: Any = None,
                      name: str | None = None) -> Any:
    """`value` as a tensor: a tensor stays itself (cast if `dtype` differs), other data
    becomes a `tf.Tensor` with TF's dtype rules."""
    if isinstance(value, TensorBase):
        if dtype is None or value._data.dtype == np.dtype(dtype):
            return value
        return from_array(value._data.astype(np.dtype(dtype)))
    if dtype is None and dtype_hint is not None and not isinstance(value, np.ndarray):
        kind = _infer(value).dtype.kind  # Python data takes the hint where it fits (ints: any)
        dtype = dtype_hint if kind in "iub" or kind == np.dtype(dtype_hint).kind else None
    return from_array(tf_array(value, dtype))
