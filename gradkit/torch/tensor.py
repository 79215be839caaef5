"""`torch.Tensor`: gradkit's Tensor with PyTorch's names, semantics and printing.

The rule: **every tensor the dialect makes is a `gradkit.torch.Tensor`**, a subclass of
`gradkit.Tensor` with no extra slots (the same storage, graph and ops). Results of its
methods and operators, and of `gradkit.torch` functions and modules applied to it, are
retagged as `torch.Tensor` (one `__class__` store, paid by dialect code only: the core class
is untouched). A native gradkit Tensor meeting a `torch.Tensor` in an operator gives a
`torch.Tensor` (Python tries the subclass's reflected operator first). `.data` is a
`torch.Tensor` sharing storage (PyTorch's), `.grad` is retagged when read. `t.native()` is
the same tensor as a native gradkit Tensor (same storage, same graph).

The operators are written here; the named methods (`view`, `sum(dim=)`, `add_`, ...) are the
dialect's functions, installed by `methods.py` through `install`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import ops as _ops
from ..autograd import register_differentiable
from ..tensor import Tensor as _Native
from ..tensor import _make
from ..tensor_base import TensorBase, version_counter
from .device import device, of_name
from .dtypes import Size, dtype, to_torch_dtype
from .grad_fn import grad_fn_of
from .missing import tensor_attribute
from .printing import tensor_repr

__all__ = ["Tensor", "alias", "from_array", "install", "named", "retag", "retag_all",
           "retagging"]

_GRAD_SLOT: Any = vars(TensorBase)["grad"]  # the slot where the core stores the gradient
_BASIC = (int, np.integer)


def _identity_vjp(g: Any) -> tuple[Any]:
    return (g,)


class Tensor(_Native):
    """A PyTorch-style tensor over gradkit: same data and graph, PyTorch's names."""

    __slots__ = ()
    __hash__ = _Native.__hash__

    def __init__(self, *args: Any, device: Any = None) -> None:
        """`torch.Tensor(data)` (float32 data) or `torch.Tensor(2, 3)` (a float32 tensor of
        that shape, zeros)."""
        if not args or all(isinstance(a, _BASIC) for a in args) or (
                len(args) == 1 and isinstance(args[0], Size)):
            shape = tuple(args[0]) if args and isinstance(args[0], Size) else (
                tuple(int(a) for a in args) if args else (0,))
            super().__init__(np.zeros(shape, np.float32), device=device)
        else:
            super().__init__(args[0], dtype=np.float32, device=device)

    # ---- storage, gradient, metadata ----------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The same storage as a tensor outside the graph (PyTorch's `.data`)."""
        return from_array(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value._data if isinstance(value, TensorBase) else value

    @property  # type: ignore[override]
    def grad(self) -> Tensor | None:
        """The accumulated gradient (a `torch.Tensor`), or None."""
        g = _GRAD_SLOT.__get__(self)
        if type(g) is _Native:
            g.__class__ = Tensor
        return g

    @grad.setter
    def grad(self, value: Any) -> None:
        _GRAD_SLOT.__set__(self, value)

    @property
    def shape(self) -> Size:
        """The shape, a `torch.Size`."""
        return Size(self._data.shape)

    @property
    def dtype(self) -> dtype:  # type: ignore[override]
        """The dtype, a `torch.dtype` (`torch.float32`)."""
        return to_torch_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        """The device, a `torch.device` (`device(type='cpu')`)."""
        return of_name(super().device)

    @property
    def is_cuda(self) -> bool:
        """Whether the tensor lives on a GPU."""
        return not isinstance(self._data, np.ndarray)

    @property
    def grad_fn(self) -> Any:
        """The node that made this tensor (None for a leaf): `grad_fn.name()`."""
        return grad_fn_of(self)

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed."""
        return retag(_ops.transpose_packed(self, ()))

    @property
    def mT(self) -> Tensor:
        """The tensor with its last two axes swapped."""
        return retag(_ops.swapaxes(self, -1, -2))

    def size(self, dim: int | None = None) -> Any:  # type: ignore[override]
        """The shape (a `torch.Size`), or the length of axis `dim`."""
        shape = self._data.shape
        return Size(shape) if dim is None else shape[dim]

    def dim(self) -> int:
        """The number of axes."""
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    def native(self) -> _Native:
        """This tensor as a native gradkit Tensor: the same storage, in the same graph
        (gradients flow back through it), with gradkit's NumPy-style methods."""
        return alias(self, _Native)

    def __repr__(self) -> str:
        return tensor_repr(self)

    __str__ = __repr__

    def __getattr__(self, name: str) -> Any:
        raise tensor_attribute(name)

    # ---- operators ------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        out: Any = _ops.add(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __radd__(self, other: Any) -> Tensor:
        out: Any = _ops.add(other, self)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __sub__(self, other: Any) -> Tensor:
        out: Any = _ops.sub(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __rsub__(self, other: Any) -> Tensor:
        return named(_ops.sub(other, self), "rsub")

    def __mul__(self, other: Any) -> Tensor:
        out: Any = _ops.mul(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __rmul__(self, other: Any) -> Tensor:
        out: Any = _ops.mul(other, self)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __truediv__(self, other: Any) -> Tensor:
        out: Any = _ops.div(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __rtruediv__(self, other: Any) -> Tensor:
        return named(_ops.div(other, self), "rdiv")

    def __floordiv__(self, other: Any) -> Tensor:
        out: Any = _ops.floor_divide(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __rfloordiv__(self, other: Any) -> Tensor:
        out: Any = _ops.floor_divide(other, self)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __mod__(self, other: Any) -> Tensor:
        out: Any = _ops.remainder(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __rmod__(self, other: Any) -> Tensor:
        out: Any = _ops.remainder(other, self)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __pow__(self, other: Any) -> Tensor:
        out: Any = _ops.pow(self, other)
        return named(out, "pow_tensor") if isinstance(other, TensorBase) else retag(out)

    def __rpow__(self, other: Any) -> Tensor:
        return named(_ops.pow(other, self), "rpow")

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(other, self)

    def __neg__(self) -> Tensor:
        out: Any = _ops.neg(self)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __invert__(self) -> Tensor:
        return retag(_Native.__invert__(self))

    def __lt__(self, other: Any) -> Tensor:
        out: Any = _ops.less(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __le__(self, other: Any) -> Tensor:
        out: Any = _ops.less_equal(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __gt__(self, other: Any) -> Tensor:
        out: Any = _ops.greater(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __ge__(self, other: Any) -> Tensor:
        out: Any = _ops.greater_equal(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        out: Any = _ops.equal(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        out: Any = _ops.not_equal(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    def __and__(self, other: Any) -> Tensor:
        out: Any = _ops.logical_and(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    __rand__ = __and__

    def __or__(self, other: Any) -> Tensor:
        out: Any = _ops.logical_or(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    __ror__ = __or__

    def __xor__(self, other: Any) -> Tensor:
        out: Any = _ops.logical_xor(self, other)
        out.__class__ = Tensor  # a fresh native result
        return out

    __rxor__ = __xor__

    def __getitem__(self, index: Any) -> Tensor:
        return named(_ops.getitem(self, index), _index_name(index))

    def __iter__(self) -> Iterator[Tensor]:
        return (named(_ops.getitem(self, i), "unbind") for i in range(len(self)))


def _index_name(index: Any) -> str:
    """PyTorch's node for `t[index]`: select (an int), slice, unsqueeze (None) or index."""
    last = index
    if isinstance(index, tuple):
        kept = [i for i in index if not (isinstance(i, slice) and i == slice(None))
                and i is not Ellipsis]
        if any(not isinstance(i, (int, np.integer, slice, type(None))) or isinstance(i, bool)
               for i in kept):
            return "getitem"
        last = kept[-1] if kept else slice(None)
    if isinstance(last, (int, np.integer)) and not isinstance(last, bool):
        return "select"
    if isinstance(last, slice):
        return "slice"
    return "expand_dims" if last is None else "getitem"


def retag(out: Any) -> Any:
    """`out` as a `torch.Tensor` when it is a native gradkit Tensor (in place: no copy)."""
    if type(out) is _Native:
        out.__class__ = Tensor
    return out


def named(out: Any, op: str) -> Any:
    """`out` retagged, its node renamed `op` (a dialect name that PyTorch's grad_fn shows:
    'sum_dim' prints as SumBackward1); the gradient rule stays the op's own."""
    if type(out) is _Native:
        out.__class__ = Tensor
    if out._vjp is not None:
        out._op = op
    return out


def retag_all(out: Any) -> Any:
    """`retag` through tuples, lists and dicts (named tuples keep their type)."""
    if type(out) is _Native:
        out.__class__ = Tensor
        return out
    if isinstance(out, tuple):
        items = [retag_all(o) for o in out]
        return type(out)(*items) if hasattr(out, "_fields") else tuple(items)
    if isinstance(out, list):
        return [retag_all(o) for o in out]
    if isinstance(out, dict):
        return {k: retag_all(v) for k, v in out.items()}
    return out


def from_array(arr: Any) -> Tensor:
    """A `torch.Tensor` around an existing NumPy/CuPy array (no copy, no graph)."""
    t = _Native._wrap(arr)
    t.__class__ = Tensor
    return t  # type: ignore[return-value]


def retagging(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` with its result(s) retagged as `torch.Tensor`."""
    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return retag_all(fn(*args, **kwargs))
    return wrapped


def alias(x: TensorBase, cls: type = Tensor) -> Any:
    """`x` as a tensor of class `cls`: the same storage and version counter, and in the
    graph an identity node whose gradient flows back to `x` (no copy)."""
    out = _make(x._data, (x,), _identity_vjp, "alias")  # type: ignore[arg-type]
    out._ver = version_counter(x)
    out.__class__ = cls
    return out


register_differentiable("alias")

_MATMUL_NAMES = {(2, 2): "mm", (1, 1): "dot", (2, 1): "mv"}


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product (NumPy's rules), named as PyTorch names it (mm, mv, dot, ...)."""
    out = _ops.matmul(a, b)
    key = (getattr(a, "ndim", 0), getattr(b, "ndim", 0))
    return named(out, _MATMUL_NAMES.get(key, "matmul"))


def _retagging_method(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return retag_all(fn(self, *args, **kwargs))
    return method


def install(methods: dict[str, Callable[..., Any]]) -> None:
    """Give `Tensor` the dialect's methods (`methods`: name -> function of the tensor), and a
    retagging version of every other gradkit method that returns tensors."""
    for name, fn in methods.items():
        setattr(Tensor, name, fn)
    for name, fn in vars(_Native).items():
        if name in vars(Tensor) or name.startswith("_") or isinstance(fn, property):
            continue
        back = getattr(fn, "__annotations__", {}).get("return")
        if back in ("Tensor", "list[Tensor]"):
            setattr(Tensor, name, _retagging_method(fn))
