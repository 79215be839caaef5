"""The array namespace of recorded gradient rules: NumPy's names, as gk ops on Tensors.

`create_graph=True` runs an op's gradient closure with its arrays swapped for Tensors and its
`xp` (NumPy or CuPy) swapped for this module (`gradkit.autograd._recorded_rule`), so each name
a rule calls on `xp` must be here, with NumPy's signature, recording what it computes. Names
that make new arrays give constants on the device of their argument (`zeros_like`, ...) or of
NumPy's `like=` keyword (`zeros`, `ones`, `full`, `eye`, `arange`), without one on the CPU.
In-place forms (`out=`, `a[i] = v`) cannot record: `out=` raises, naming the function, so a
rule that uses them needs a recorded branch (`if xp is recorded:`; in the modules this one
imports, `if xp is RECORDED_NS[0]:`), e.g. with `scatter` for an indexed write, or a
decomposition (`vjp_of`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import grad as _grad
from ..backend.devices import xp_of as _xp
from ..tensor import Tensor, as_tensor
from . import compare as _c
from . import elementwise as _e
from . import indexing as _i
from . import linalg as _l
from . import reduce as _r
from . import shape as _s

exp, log, sqrt, sin, cos, tanh = _e.exp, _e.log, _e.sqrt, _e.sin, _e.cos, _e.tanh
abs, sign, reciprocal, where = _e.abs, _e.sign, _e.reciprocal, _e.where  # noqa: A001
maximum, minimum, clip = _e.maximum, _e.minimum, _e.clip
matmul, einsum = _l.matmul, _l.einsum
swapaxes, expand_dims, broadcast_to, concatenate, stack = (
    _s.swapaxes, _s.expand_dims, _s.broadcast_to, _s.concatenate, _s.stack)
flip, tril, triu, split = _s.flip, _s.tril, _s.triu, _s.split
cumsum, prod = _r.cumsum, _r.prod
scatter = _i.scatter  # zeros(shape) with values added at an index: getitem's adjoint
erf = _e.erf_op
greater, greater_equal, less, less_equal = _c.greater, _c.greater_equal, _c.less, _c.less_equal
equal, not_equal = _c.equal, _c.not_equal  # comparisons: zero-gradient masks
float32, float64, newaxis = np.float32, np.float64, None


def _no_out(name: str, out: Any) -> None:
    if out is not None:
        raise TypeError(f"recorded gradient rule: {name}(out=...) writes in place and cannot "
                        f"be recorded; the rule needs a recorded branch")


def add(a: Any, b: Any, out: Any = None) -> Tensor:
    _no_out("add", out)
    return _e.add(a, b)


def subtract(a: Any, b: Any, out: Any = None) -> Tensor:
    _no_out("subtract", out)
    return _e.sub(a, b)


def multiply(a: Any, b: Any, out: Any = None) -> Tensor:
    _no_out("multiply", out)
    return _e.mul(a, b)


def divide(a: Any, b: Any, out: Any = None) -> Tensor:
    _no_out("divide", out)
    return _e.div(a, b)


def log1p(x: Any) -> Tensor:
    return _e.log(1 + as_tensor(x))


def expm1(x: Any) -> Tensor:
    return _e.exp(x) - 1


def logaddexp(a: Any, b: Any) -> Tensor:
    a, b = as_tensor(a), as_tensor(b)
    m = _e.maximum(a, b).detach()
    return m + _e.log(_e.exp(a - m) + _e.exp(b - m))


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    return _s.transpose(x, *(() if axes is None else (tuple(axes),)))


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    return _s.reshape(x, shape)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _r.sum(x, axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _r.mean(x, axis=axis, keepdims=keepdims)


def squeeze(x: Any, axis: Any = None) -> Tensor:
    return _s.squeeze(x, axis)


def ascontiguousarray(x: Any, dtype: Any = None) -> Any:
    """Layout only: the Tensor itself (in `dtype` when given)."""
    x = as_tensor(x)
    return x if dtype is None or np.dtype(dtype) == x.dtype else x.astype(dtype)


def take(a: Any, indices: Any, axis: int | None = None) -> Tensor:
    """NumPy's `take` (no `out`, no `mode`): a getitem along `axis` (flattened when None)."""
    a = as_tensor(a)
    if axis is None:
        return _i.getitem(_s.reshape(a, -1), indices)
    axis = axis % max(a.ndim, 1)
    return _i.getitem(a, (slice(None),) * axis + (indices,))


def pad(array: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0) -> Tensor:
    """NumPy's `pad`, constant mode only (what gradkit's pad records)."""
    if mode != "constant":
        raise ValueError(f"recorded gradient rule: pad(mode={mode!r}) is not recorded; "
                         f"only mode='constant'")
    return _s.pad(array, pad_width, value=constant_values)


# ---- constants (never recorded) ---------------------------------------------------------------


def _const(arr: Any) -> Tensor:
    return Tensor._wrap(arr)


def _host(like: Any) -> Any:
    return like._data if isinstance(like, Tensor) else like


def zeros_like(a: Any, dtype: Any = None) -> Tensor:
    d = _host(a)
    return _const(_xp(d).zeros_like(d, dtype=dtype))


def ones_like(a: Any, dtype: Any = None) -> Tensor:
    d = _host(a)
    return _const(_xp(d).ones_like(d, dtype=dtype))


def full_like(a: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    d = _host(a)
    return _const(_xp(d).full_like(d, fill_value, dtype=dtype))


empty_like = zeros_like  # a constant: its values are defined (zeros)


def asarray(a: Any, dtype: Any = None) -> Any:
    if isinstance(a, Tensor):
        return a if dtype is None or np.dtype(dtype) == a.dtype else a.astype(dtype)
    return _const(_xp(a).asarray(a, dtype))  # a host value stays on the CPU


def _space(like: Any) -> Any:
    """The array namespace of `like` (a Tensor or an array), NumPy without one."""
    return np if like is None else _xp(_host(like))


def zeros(shape: Any, dtype: Any = None, *, like: Any = None) -> Tensor:
    """Zeros on the device of `like` (NumPy's keyword), on the CPU without it."""
    return _const(_space(like).zeros(shape, dtype or np.float32))


def ones(shape: Any, dtype: Any = None, *, like: Any = None) -> Tensor:
    """Ones on the device of `like` (NumPy's keyword), on the CPU without it."""
    return _const(_space(like).ones(shape, dtype or np.float32))


empty = zeros  # a constant: its values are defined (zeros)


def full(shape: Any, fill_value: Any, dtype: Any = None, *, like: Any = None) -> Tensor:
    """`fill_value` everywhere, on the device of `like`, on the CPU without it."""
    return _const(_space(like).full(shape, fill_value, dtype))


def eye(n: int, m: int | None = None, k: int = 0, dtype: Any = None, *,
        like: Any = None) -> Tensor:
    """The identity, a constant on the device of `like`, on the CPU without it."""
    return _const(_space(like).eye(n, m, k, dtype=dtype or np.float32))


def arange(*args: Any, dtype: Any = None, like: Any = None) -> Tensor:
    """NumPy's `arange`, a constant on the device of `like`, on the CPU without it."""
    return _const(_space(like).arange(*args, dtype=dtype))


def isfinite(x: Any) -> Any:
    d = _host(x)
    return _xp(d).isfinite(d)


# ---- decompositions ---------------------------------------------------------------------------


def vjp_of(fn: Callable[..., Tensor], inputs: Sequence[Tensor], g: Tensor) -> tuple:
    """The recorded vector-Jacobian product of `fn` at `inputs` with `g`, one entry per input
    (None where `fn` does not use it): how a fused op's rule records its gradient, through
    the composition of gk ops that defines it."""
    outs = fn(*inputs)
    wanted = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    found = iter(_grad(outs, wanted, g, create_graph=True, allow_unused=True))
    return tuple(next(found) if isinstance(t, Tensor) and t.requires_grad else None
                 for t in inputs)
