"""The array namespace of recorded gradient rules: NumPy's names, as gk ops on Tensors.

`create_graph=True` runs an op's gradient closure with its arrays swapped for Tensors and its
`xp` (NumPy or CuPy) swapped for this module (`gradkit.autograd._recorded_rule`), so each name
a rule calls on `xp` must be here, with NumPy's signature, recording what it computes. Names
that make new arrays (`zeros`, `ones`, ...) give constants on the device of their `like`
argument (`zeros_like`) or, without one, on the CPU. In-place forms (`out=`) cannot record:
they raise, naming the function, so a rule that uses them needs a recorded branch
(`if xp is recorded`) or a decomposition (`vjp_of`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import grad as _grad
from ..backend.devices import xp_of as _xp
from ..tensor import Tensor, as_tensor
from . import elementwise as _e
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
cumsum = _r.cumsum
erf = _e.erf_op
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


# ---- constants (never recorded) ---------------------------------------------------------------


def _const(arr: Any) -> Tensor:
    return Tensor._wrap(arr)


def _host(like: Any) -> Any:
    return like.data if isinstance(like, Tensor) else like


def zeros_like(a: Any, dtype: Any = None) -> Tensor:
    d = _host(a)
    return _const(_xp(d).zeros_like(d, dtype=dtype))


def ones_like(a: Any, dtype: Any = None) -> Tensor:
    d = _host(a)
    return _const(_xp(d).ones_like(d, dtype=dtype))


def asarray(a: Any, dtype: Any = None) -> Any:
    return a if isinstance(a, Tensor) and dtype is None else _const(np.asarray(_host(a), dtype))


def zeros(shape: Any, dtype: Any = None) -> Tensor:
    return _const(np.zeros(shape, dtype or np.float32))


def ones(shape: Any, dtype: Any = None) -> Tensor:
    return _const(np.ones(shape, dtype or np.float32))


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
