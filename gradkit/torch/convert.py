"""Tensor methods for dtypes, devices, copies and autograd: to, type, long/float/int/...,
cpu/cuda, clone, detach, contiguous, new_*, backward(gradient, retain_graph,
create_graph, inputs), numpy, element_size, ... with PyTorch's semantics."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import autograd as _autograd
from .. import ops as _ops
from ..autograd import register_differentiable
from ..tensor import Tensor as _Native
from ..tensor import _make
from ..tensor_base import TensorBase
from . import creation
from .device import resolve
from .dtypes import TYPE_NAMES, to_numpy_dtype
from .tensor import Tensor, alias, from_array, named, retag

__all__ = ["to", "type_", "cast_method", "clone", "detach", "detach_", "contiguous",
           "is_contiguous", "backward", "new_tensor", "new_zeros", "new_ones", "new_full",
           "new_empty", "is_tensor", "is_floating_point", "is_complex", "numel"]


def _parse_to(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, bool]:
    """(device, dtype, copy) of `to(device, dtype)`, `to(dtype)`, `to(other)`, keywords."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keywords {sorted(kwargs)}")
    for a in args:
        if isinstance(a, TensorBase):
            device, dtype = a.device, a._data.dtype
        elif (isinstance(a, str) and not a.startswith("torch.")) or (
                isinstance(a, int) and not isinstance(a, bool)):
            device = a
        elif isinstance(a, bool) or a is None:
            continue
        else:
            dtype = a
    return device, dtype, copy


def to(self: Any, *args: Any, **kwargs: Any) -> Tensor:
    """This tensor with another device and/or dtype (`to('cuda')`, `to(torch.float64)`,
    `to(other)`); itself when nothing changes (unless `copy=True`); differentiable."""
    device, dtype, copy = _parse_to(args, dict(kwargs))
    out: Any = self
    if device is not None and resolve(device) != self.device:
        out = _ops.to_device_op(out, resolve(device))
    want = to_numpy_dtype(dtype)
    if want is not None and want != out._data.dtype:
        out = _ops.astype(out, want)
    if out is self:
        return clone(self) if copy else (self if type(self) is Tensor else alias(self))
    return retag(out)


def cast_method(np_name: str, name: str) -> Any:
    """The method `t.long()`, `t.float()`, ...: `to(dtype)` (itself if already so)."""
    want = np.dtype(np_name)

    def method(self: Any, memory_format: Any = None) -> Tensor:
        return to(self, want)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"This tensor as {want.name} (itself if it already is)."
    return method


def type_(self: Any, dtype: Any = None, non_blocking: bool = False, **kw: Any) -> Any:
    """Without a dtype, the type name ('torch.FloatTensor', 'torch.cuda.LongTensor');
    with one (a dtype or such a name), this tensor cast to it."""
    if dtype is None:
        where = "" if isinstance(self._data, np.ndarray) else "cuda."
        return f"torch.{where}{TYPE_NAMES.get(self._data.dtype, 'Tensor')}"
    if isinstance(dtype, str) and ".cuda." in dtype:
        return to(self, "cuda", to_numpy_dtype(dtype))
    return to(self, to_numpy_dtype(dtype))


def type_as(self: Any, other: Any) -> Tensor:
    """This tensor cast to `other`'s dtype."""
    return to(self, other._data.dtype)


def clone(input: Any, *, memory_format: Any = None) -> Tensor:
    """A copy with its own storage, in the graph (the gradient flows back)."""
    x = input if isinstance(input, TensorBase) else creation.tensor(input)
    data = x._data.copy()
    if x._data.dtype.kind not in "fc":
        return from_array(data)
    return named(_make(data, (x,), _identity, "clone"), "clone")  # type: ignore[arg-type]


def _identity(g: Any) -> tuple[Any]:
    return (g,)


def contiguous(self: Any, memory_format: Any = None) -> Tensor:
    """Itself when C-contiguous, else a C-contiguous copy (in the graph)."""
    if self._data.flags.c_contiguous:
        return self if type(self) is Tensor else alias(self)
    data = self._data.copy(order="C")
    if self._data.dtype.kind not in "fc":
        return from_array(data)
    return named(_make(data, (self,), _identity, "contiguous"), "contiguous")


def is_contiguous(self: Any, memory_format: Any = None) -> bool:
    """Whether the storage is C-contiguous (row-major, no gaps)."""
    return bool(self._data.flags.c_contiguous)


def detach(input: Any) -> Tensor:
    """The same storage, cut from the graph (shares the version counter)."""
    return retag(_Native.detach(input))


def detach_(self: Any) -> Tensor:
    """Cut this tensor from the graph, in place (it becomes a leaf)."""
    self._parents, self._vjp, self._op, self._saved = (), None, None, None
    self.requires_grad = False
    return self


def backward(self: Any, gradient: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """Reverse-mode autodiff from this tensor into the leaves' `.grad` (PyTorch's
    arguments; `retain_graph` defaults to `create_graph`; `inputs` limits the leaves)."""
    retain = create_graph if retain_graph is None else bool(retain_graph)
    if inputs is None:
        _autograd.backward(self, gradient, retain, create_graph)
        return
    ins = [inputs] if isinstance(inputs, TensorBase) else list(inputs)
    grads = _autograd.grad(self, ins, gradient, retain, create_graph, allow_unused=True)
    for t, g in zip(ins, grads):
        if g is not None:
            t.grad = g if t.grad is None else _ops.add(t.grad, g)


def _new(self: Any, make: Any, size: tuple[Any, ...], dtype: Any, device: Any,
         requires_grad: bool, **kw: Any) -> Tensor:
    return make(*size, dtype=dtype or self._data.dtype,
                device=self.device if device is None else device,
                requires_grad=requires_grad, **kw)


def new_zeros(self: Any, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **kw: Any) -> Tensor:
    """Zeros of `size` with this tensor's dtype and device."""
    return _new(self, creation.zeros, size, dtype, device, requires_grad)


def new_ones(self: Any, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, **kw: Any) -> Tensor:
    """Ones of `size` with this tensor's dtype and device."""
    return _new(self, creation.ones, size, dtype, device, requires_grad)


new_empty = new_zeros


def new_full(self: Any, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`fill_value` in `size`, with this tensor's dtype and device."""
    return creation.full(size, fill_value, dtype=dtype or self._data.dtype,
                         device=self.device if device is None else device,
                         requires_grad=requires_grad)


def new_tensor(self: Any, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """A tensor of `data` with this tensor's dtype and device (unless given)."""
    return creation.tensor(data, dtype=dtype or self._data.dtype,
                           device=self.device if device is None else device,
                           requires_grad=requires_grad)


def is_tensor(obj: Any) -> bool:
    """Whether `obj` is a tensor (a gradkit.torch or a native gradkit tensor)."""
    return isinstance(obj, TensorBase)


def is_floating_point(input: Any) -> bool:
    """Whether the dtype is a floating one."""
    return input._data.dtype.kind == "f"


def is_complex(input: Any) -> bool:
    """Whether the dtype is complex."""
    return input._data.dtype.kind == "c"


def numel(input: Any) -> int:
    """The number of elements."""
    return int(input._data.size)


def element_size(self: Any) -> int:
    """Bytes per element."""
    return int(self._data.dtype.itemsize)


def get_device(self: Any) -> int:
    """The GPU index, -1 on the CPU."""
    return -1 if isinstance(self._data, np.ndarray) else int(self._data.device.id)


def data_ptr(self: Any) -> int:
    """The address of the first element."""
    d = self._data
    return int(d.ctypes.data) if isinstance(d, np.ndarray) else int(d.data.ptr)


def pin_memory(self: Any, device: Any = None) -> Tensor:
    """Itself (gradkit does not pin host memory; the result is the same)."""
    return self


def is_pinned(self: Any, device: Any = None) -> bool:
    """False: gradkit does not pin host memory."""
    return False


def cpu(self: Any, memory_format: Any = None) -> Tensor:
    """This tensor on the CPU (itself when already there)."""
    return to(self, "cpu")


def cuda(self: Any, device: Any = None, non_blocking: bool = False,
         memory_format: Any = None) -> Tensor:
    """This tensor on GPU `device` (the current one when None)."""
    return to(self, "cuda" if device is None else device)


def requires_grad_(self: Any, requires_grad: bool = True) -> Any:
    """Set whether gradients accumulate into this leaf; returns it."""
    return _Native.requires_grad_(self, requires_grad)


def item(self: Any) -> Any:
    """The value of a one-element tensor as a Python number."""
    if self._data.size != 1:
        raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to "
                           f"Scalar")
    return _Native.item(self)


register_differentiable("clone", "contiguous")
