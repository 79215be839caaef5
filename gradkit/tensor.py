"""Tensor: its methods and operators, each written on the class and calling an op of `ops`.

`TensorBase` (`tensor_base.py`) holds storage, metadata, conversions and in-place updates.
`tensor` sits below `ops` and never imports them. Each method calls a module global of this
file (`_exp`, `_add`, ...) that holds the `_unbound` placeholder until **the one hook**:
`gradkit/ops/__init__.py` calls `_bind_ops(...)` once, on import, with every op function.
An operator thus costs one global lookup and one call on top of its op. `_make` records ops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import autograd
from .backend.devices import DEFAULT_FLOAT
from .tensor_base import WRITES, TensorBase, version_counter, view_counter

if TYPE_CHECKING:
    from .tensor_base import Axis, DeviceLike, DTypeLike, Index, TensorLike

_GRAD = autograd.GRAD_MODE


def _unbound(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("gradkit.tensor: the ops are not bound; `import gradkit` binds them")


# The ops behind the methods: `_bind_ops` replaces each placeholder with gradkit.ops' function.
(
    _add, _sub, _mul, _div, _pow, _floor_divide, _remainder, _neg, _matmul, _dot, _less,
    _less_equal, _greater, _greater_equal, _equal, _not_equal, _logical_and, _logical_or,
    _logical_xor, _getitem, _astype, _to_device_op, _exp, _log, _sqrt, _abs, _sign, _tanh,
    _sigmoid, _relu, _leaky_relu, _gelu, _elu, _softplus, _sin, _cos, _square, _reciprocal,
    _maximum, _minimum, _clip, _sum, _mean, _max, _min, _prod, _var, _std, _logsumexp,
    _argmax, _argmin, _any, _all, _cumsum, _softmax, _log_softmax, _reshape_packed,
    _flatten, _transpose_packed, _swapaxes, _expand_dims, _squeeze, _broadcast_to, _split,
    _flip, _pad, _tril, _triu,
) = (_unbound,) * 68
_OP_NAMES = frozenset(k[1:] for k, v in dict(globals()).items() if v is _unbound) - {"unbound"}


def _bind_ops(**ops: Callable[..., Any]) -> None:
    """THE hook: gradkit.ops passes every op the methods call, by name (`add=add, ...`)."""
    if ops.keys() != _OP_NAMES:
        raise RuntimeError(f"_bind_ops: missing {sorted(_OP_NAMES - ops.keys())}, "
                           f"unknown {sorted(ops.keys() - _OP_NAMES)}")
    globals().update({"_" + name: fn for name, fn in ops.items()})


class Tensor(TensorBase):
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ()
    __hash__ = object.__hash__  # identity, although `==` makes a tensor

    @classmethod
    def _wrap(cls, data: Any) -> Tensor:
        """A leaf around an existing array, without checks or copies."""
        t = object.__new__(Tensor)
        t._data = data
        t.grad = None
        t.requires_grad = False
        t._parents = ()
        t._vjp = None
        t._op = t._ver = t._saved = None
        return t

    # ---- autograd -----------------------------------------------------------------------
    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory and the version counter)."""
        t = Tensor._wrap(self._data)
        t._ver = version_counter(self)
        return t

    def backward(self, grad: TensorLike | None = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Reverse-mode autodiff from this tensor; gradients accumulate into leaves' `.grad`.

        `grad` may be omitted only for a one-element tensor. Afterwards the graph is freed
        (each op drops what it saved for its gradient), so a second `backward` through it
        raises `AutogradError`, unless `retain_graph=True`. With `create_graph=True` the
        graph is kept and the gradients are recorded, so they can be differentiated again
        (for the ops whose gradient rule is differentiable; others raise, naming the op).
        """
        autograd.backward(self, grad, retain_graph, create_graph)

    # ---- dtype / device -----------------------------------------------------------------
    def astype(self, dtype: DTypeLike) -> Tensor:
        """A copy with another dtype (differentiable between floating dtypes)."""
        return _astype(self, dtype)

    def to(self, device: DeviceLike = None, dtype: DTypeLike | None = None) -> Tensor:
        """This tensor on `device` (itself when already there); differentiable."""
        out = self if device is None else _to_device_op(self, device)
        return out if dtype is None else out.astype(dtype)

    def cpu(self) -> Tensor:
        """This tensor on the CPU."""
        return self.to("cpu")
    def cuda(self, index: int = 0) -> Tensor:
        """This tensor on GPU `index`."""
        return self.to(f"cuda:{index}")

    # ---- arithmetic operators (broadcasting like NumPy) -----------------------------------
    # (From here on each method is one call of its op: listed as a table, no blank lines.)
    def __add__(self, other: TensorLike) -> Tensor:
        """self + other."""
        return _add(self, other)
    def __radd__(self, other: TensorLike) -> Tensor:
        """other + self."""
        return _add(other, self)
    def __sub__(self, other: TensorLike) -> Tensor:
        """self - other."""
        return _sub(self, other)
    def __rsub__(self, other: TensorLike) -> Tensor:
        """other - self."""
        return _sub(other, self)
    def __mul__(self, other: TensorLike) -> Tensor:
        """self * other."""
        return _mul(self, other)
    def __rmul__(self, other: TensorLike) -> Tensor:
        """other * self."""
        return _mul(other, self)
    def __truediv__(self, other: TensorLike) -> Tensor:
        """self / other (integer operands give float32)."""
        return _div(self, other)
    def __rtruediv__(self, other: TensorLike) -> Tensor:
        """other / self."""
        return _div(other, self)
    def __rpow__(self, other: TensorLike) -> Tensor:
        """other ** self."""
        return _pow(other, self)
    def __rmatmul__(self, other: TensorLike) -> Tensor:
        """other @ self."""
        return _matmul(other, self)
    def __floordiv__(self, other: TensorLike) -> Tensor:
        """self // other (not differentiable)."""
        return _floor_divide(self, other)
    def __mod__(self, other: TensorLike) -> Tensor:
        """self % other (not differentiable)."""
        return _remainder(self, other)
    def __neg__(self) -> Tensor:
        """-self."""
        return _neg(self)
    def __pos__(self) -> Tensor:
        """+self: the tensor itself."""
        return self

    # ---- comparisons and logic: bool tensors, never differentiable -----------------------
    def __lt__(self, other: TensorLike) -> Tensor:
        """self < other."""
        return _less(self, other)
    def __le__(self, other: TensorLike) -> Tensor:
        """self <= other."""
        return _less_equal(self, other)
    def __gt__(self, other: TensorLike) -> Tensor:
        """self > other."""
        return _greater(self, other)
    def __ge__(self, other: TensorLike) -> Tensor:
        """self >= other."""
        return _greater_equal(self, other)
    def __eq__(self, other: TensorLike) -> Tensor:  # type: ignore[override]
        """self == other, elementwise (hashing stays by identity)."""
        return _equal(self, other)
    def __ne__(self, other: TensorLike) -> Tensor:  # type: ignore[override]
        """self != other, elementwise."""
        return _not_equal(self, other)
    def __and__(self, other: TensorLike) -> Tensor:
        """self & other."""
        return _logical_and(self, other)
    def __or__(self, other: TensorLike) -> Tensor:
        """self | other."""
        return _logical_or(self, other)
    def __xor__(self, other: TensorLike) -> Tensor:
        """self ^ other."""
        return _logical_xor(self, other)
    def __invert__(self) -> Tensor:
        """~self, elementwise (logical not of a bool tensor; not differentiable)."""
        return Tensor._wrap(~self._data)

    # ---- indexing -----------------------------------------------------------------------
    def __getitem__(self, index: Index) -> Tensor:
        """self[index]: ints, slices, None, ..., integer arrays, masks (differentiable)."""
        return _getitem(self, index)
    def __iter__(self) -> Iterator[Tensor]:
        """The sub-tensors along the first axis."""
        return (_getitem(self, i) for i in range(len(self)))

    # ---- elementwise maths --------------------------------------------------------------
    def exp(self) -> Tensor:
        """e ** x."""
        return _exp(self)
    def log(self) -> Tensor:
        """Natural logarithm."""
        return _log(self)
    def sqrt(self) -> Tensor:
        """Square root."""
        return _sqrt(self)
    def abs(self) -> Tensor:
        """|x|."""
        return _abs(self)
    __abs__ = abs
    def sign(self) -> Tensor:
        """Sign (-1, 0, 1)."""
        return _sign(self)
    def tanh(self) -> Tensor:
        """Hyperbolic tangent."""
        return _tanh(self)
    def sigmoid(self) -> Tensor:
        """1 / (1 + exp(-x)), stable."""
        return _sigmoid(self)
    def relu(self) -> Tensor:
        """max(x, 0)."""
        return _relu(self)
    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """x where x > 0, else negative_slope * x."""
        return _leaky_relu(self, negative_slope)
    def gelu(self) -> Tensor:
        """x * Phi(x) (exact, erf-based)."""
        return _gelu(self)
    def elu(self, alpha: float = 1.0) -> Tensor:
        """x where x > 0, else alpha * (exp(x) - 1)."""
        return _elu(self, alpha)
    def softplus(self) -> Tensor:
        """log(1 + exp(x)), stable."""
        return _softplus(self)
    def sin(self) -> Tensor:
        """Sine."""
        return _sin(self)
    def cos(self) -> Tensor:
        """Cosine."""
        return _cos(self)
    def square(self) -> Tensor:
        """x ** 2."""
        return _square(self)
    def reciprocal(self) -> Tensor:
        """1 / x."""
        return _reciprocal(self)
    def maximum(self, b: TensorLike) -> Tensor:
        """Elementwise maximum with `b`."""
        return _maximum(self, b)
    def minimum(self, b: TensorLike) -> Tensor:
        """Elementwise minimum with `b`."""
        return _minimum(self, b)
    def clip(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        """Values limited to [lo, hi] (either may be None)."""
        return _clip(self, lo, hi)
    def pow(self, b: TensorLike) -> Tensor:
        """self ** b."""
        return _pow(self, b)
    __pow__ = pow

    # ---- reductions (axis=None: all axes) -----------------------------------------------
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Sum over `axis`."""
        return _sum(self, axis, keepdims)
    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Mean over `axis` (integer tensors give float32)."""
        return _mean(self, axis, keepdims)
    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Maximum over `axis`."""
        return _max(self, axis, keepdims)
    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Minimum over `axis`."""
        return _min(self, axis, keepdims)
    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Product over `axis`."""
        return _prod(self, axis, keepdims)
    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Variance over `axis` with `ddof` delta degrees of freedom."""
        return _var(self, axis, keepdims, ddof)
    def std(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Standard deviation over `axis` with `ddof` delta degrees of freedom."""
        return _std(self, axis, keepdims, ddof)
    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))) over `axis`, without overflow."""
        return _logsumexp(self, axis, keepdims)
    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the maximum (int64, not differentiable)."""
        return _argmax(self, axis, keepdims)
    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the minimum (int64, not differentiable)."""
        return _argmin(self, axis, keepdims)
    def any(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """True where any element along `axis` is non-zero."""
        return _any(self, axis, keepdims)
    def all(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """True where every element along `axis` is non-zero."""
        return _all(self, axis, keepdims)
    def cumsum(self, axis: int | None = None) -> Tensor:
        """Cumulative sum along `axis` (of the flattened tensor when None)."""
        return _cumsum(self, axis)
    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / sum(exp(x)) along `axis`."""
        return _softmax(self, axis)
    def log_softmax(self, axis: int = -1) -> Tensor:
        """log(softmax(x)) along `axis`, computed stably."""
        return _log_softmax(self, axis)

    # ---- linear algebra -----------------------------------------------------------------
    def matmul(self, b: TensorLike) -> Tensor:
        """Matrix product with NumPy's rules (self @ b)."""
        return _matmul(self, b)
    __matmul__ = matmul
    def dot(self, b: TensorLike) -> Tensor:
        """Dot product of 1-D or 2-D tensors."""
        return _dot(self, b)

    # ---- shape --------------------------------------------------------------------------
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same elements in a new shape (ints or one tuple; one entry may be -1)."""
        return _reshape_packed(self, shape)
    def flatten(self, start_axis: int = 0) -> Tensor:
        """The axes from `start_axis` on merged into one."""
        return _flatten(self, start_axis)
    def transpose(self, *axes: int | Sequence[int] | None) -> Tensor:
        """Axes permuted (reversed when none are given)."""
        return _transpose_packed(self, axes)
    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed."""
        return _transpose_packed(self, ())
    @property
    def mT(self) -> Tensor:
        """The tensor with its last two axes swapped."""
        return _swapaxes(self, -1, -2)
    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Two axes exchanged."""
        return _swapaxes(self, axis1, axis2)
    def expand_dims(self, axis: int | Sequence[int]) -> Tensor:
        """A length-1 axis inserted at `axis`."""
        return _expand_dims(self, axis)
    def squeeze(self, axis: Axis = None) -> Tensor:
        """Length-1 axes removed (only `axis` when given)."""
        return _squeeze(self, axis)
    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """A read-only broadcast view in `shape`."""
        return _broadcast_to(self, shape)
    def split(self, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
        """Pieces along `axis`: equal sections, or cut at the given indices."""
        return _split(self, indices_or_sections, axis)
    def flip(self, axis: Axis = None) -> Tensor:
        """Elements in reverse order along `axis` (all axes when None)."""
        return _flip(self, axis)
    def pad(self, pad_width: Any, value: float = 0) -> Tensor:
        """Padded with a constant `value`; `pad_width` as in NumPy's `pad`."""
        return _pad(self, pad_width, value)
    def tril(self, k: int = 0) -> Tensor:
        """Lower triangle (elements above the k-th diagonal zeroed)."""
        return _tril(self, k)
    def triu(self, k: int = 0) -> Tensor:
        """Upper triangle (elements below the k-th diagonal zeroed)."""
        return _triu(self, k)
    def float(self) -> Tensor:  # last: in the class body `float` is this method from here on
        """A float32 copy (differentiable)."""
        return self.astype(DEFAULT_FLOAT)


def _make(data: Any, parents: tuple[Tensor, ...], vjp: Any, op: str) -> Tensor:
    """Wrap an op's result; record `parents` and `vjp` when any parent requires grad."""
    if isinstance(data, np.generic):
        data = np.asarray(data)
    out = object.__new__(Tensor)
    out._data = data
    out.grad = None
    out._op = op
    out._ver = None if data.base is None else view_counter(data.base, parents)
    if _GRAD.enabled:
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._vjp = vjp
                out._saved = WRITES.n
                return out
    out.requires_grad = False
    out._parents = ()
    out._vjp = out._saved = None
    return out



def as_tensor(x: TensorLike, like: Tensor | None = None) -> Tensor:
    """`x` itself if it is a Tensor, else a constant tensor (on `like`'s device)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and not isinstance(like._data, np.ndarray):
        return Tensor(x, device=like.device)
    return Tensor(x)


def tensor(data: Any, dtype: DTypeLike | None = None, requires_grad: bool = False,
           device: DeviceLike = "cpu") -> Tensor:
    """Make a tensor: floats become float32, ints int64, bools stay bool (unless `dtype`)."""
    if isinstance(data, Tensor) and dtype is None:
        dtype = data.dtype
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)
