"""Layers: Linear, activations, Dropout, Flatten, Identity, BatchNorm1d, LayerNorm.

Each `forward` calls one op. Shape errors from the op are caught and re-raised naming the
layer (an `except` clause costs nothing when no error is raised).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..backend.deferred import check_later
from ..backend.devices import to_device, xp_of
from ..backend.kernels import count_nonfinite
from ..errors import DeviceError, ShapeError
from ..ops.elementwise import elu, gelu, leaky_relu, relu, sigmoid, softplus, tanh
from ..ops.neural import dropout, linear, log_softmax, softmax
from ..ops.norm import batch_norm, layer_norm
from ..ops.shape import reshape
from ..tensor import Tensor
from . import init
from .module import Module, Parameter

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from ..backend.devices import DeviceLike
    from ..tensor_base import TensorLike

__all__ = [
    "Linear", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "GELU", "ELU", "Softplus", "Softmax",
    "LogSoftmax", "Dropout", "Flatten", "Identity", "BatchNorm1d", "LayerNorm",
]


def _layer_error(layer: Module, x, detail: str) -> ShapeError:
    shape = tuple(getattr(x, "shape", np.shape(x)))
    return ShapeError(f"{layer!r} got input of shape {shape}: {detail}")


# A tensor made by none of these ops holds data as given (reshaped, moved or cast at most):
# layers check such inputs for NaN/inf, and trust what other layers computed.
_DATA_OPS = frozenset({None, "reshape", "to", "astype"})


def _check_finite_input(layer: Module, x) -> None:
    """Refuse NaN/inf in data given to `layer` (a tensor no recorded op produced, or an array).

    One sum on the CPU (the details are worked out only on failure); on a GPU a
    counting kernel whose error is raised at the next read of a value (gradkit.deferred).
    """
    d = x._data if isinstance(x, Tensor) else x
    if getattr(d, "dtype", None) is None or d.dtype.kind != "f" or not d.size:
        return
    if xp_of(d) is not np:
        shape = tuple(d.shape)
        check_later(count_nonfinite(d), lambda n: ValueError(
            f"{layer!r} got input of shape {shape} with {n} NaN or inf values (checked on the "
            "GPU without waiting for it, so reported at the next value read back)"))
        return
    if d.size < 4096 and d.itemsize <= 4:  # a float64 sum of float32 cannot overflow
        if math.isfinite(d.sum(dtype=np.float64)):
            return
    else:  # the sum of squares (BLAS dot, the fastest pass): NaN/inf stay, finite stays...
        flat = d.reshape(-1)
        with np.errstate(over="ignore", invalid="ignore"):
            if math.isfinite(np.dot(flat, flat)):
                return
    bad = ~np.isfinite(d)  # ...unless it overflowed: look at every value
    if not bad.any():  # the sum overflowed; every value is finite
        return
    n_nan = int(np.isnan(d).sum())
    row = int(bad.reshape(len(d), -1).any(axis=1).argmax()) if d.ndim > 1 else int(bad.argmax())
    raise ValueError(
        f"{layer!r} got input of shape {d.shape} with {n_nan} NaN and {int(bad.sum()) - n_nan} "
        f"inf values (the first in {'row' if d.ndim > 1 else 'position'} {row}); fix or drop "
        "them in the data (NaN usually marks a missing value)")


def _filled(fill, shape, device, dtype) -> Tensor:
    """A tensor of `fill` values on `device` (float32 unless `dtype`)."""
    arr = np.full(shape, fill, dtype=np.dtype(dtype or np.float32))
    return Tensor._wrap(to_device(arr, device))


def _param(fill, shape, device, dtype) -> Parameter:
    return Parameter(_filled(fill, shape, device, dtype))


def _default_init_(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for Linear and convolution layers, in place: kaiming_uniform_ with
    a=sqrt(5) for the weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = init.calculate_fan_in_and_fan_out(weight)[0]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """y = x @ weight.T + bias, weight (out_features, in_features), PyTorch's default init."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: DeviceLike = "cpu", dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = _param(0.0, (self.out_features, self.in_features), device, dtype)
        if bias:
            self.bias = _param(0.0, (self.out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """kaiming_uniform(a=sqrt(5)) weight and U(-1/sqrt(in), 1/sqrt(in)) bias, as PyTorch."""
        _default_init_(self.weight, self.bias)

    def forward(self, x: TensorLike) -> Tensor:
        return self._forward_fused(x, None)

    def _forward_fused(self, x, activation: str | None):
        """`forward` followed by `activation` ("relu" or "tanh") in the same graph node (the
        numbers of the two layers in a row; `Sequential` calls this for Linear -> ReLU/Tanh)."""
        try:
            out = linear(x, self.weight, self.bias, activation)
        except ShapeError:
            raise self._shape_error(x) from None
        except DeviceError as exc:
            raise DeviceError(f"{self!r}: {exc}") from None
        if not isinstance(x, Tensor) or x._op in _DATA_OPS:  # data, not a layer's output
            _check_finite_input(self, x)
        return out

    def _shape_error(self, x) -> ShapeError:
        shape = tuple(getattr(x, "shape", np.shape(x)))
        detail = f"its last axis must be {self.in_features}"
        if len(shape) > 2 and math.prod(shape[1:]) == self.in_features:
            detail += " (flatten it first, e.g. with nn.Flatten())"
        return _layer_error(self, x, detail)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: TensorLike) -> Tensor:
        return relu(x)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: TensorLike) -> Tensor:
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x: TensorLike) -> Tensor:
        return tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x: TensorLike) -> Tensor:
        return sigmoid(x)


class GELU(Module):
    """x * Phi(x), the exact (erf) form."""

    def forward(self, x: TensorLike) -> Tensor:
        return gelu(x)


class ELU(Module):
    """x where x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: TensorLike) -> Tensor:
        return elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, computed stably."""

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: Tensor) -> Tensor:
        if self.beta == 1.0:
            return softplus(x)
        return softplus(x * self.beta) / self.beta

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `axis`."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: TensorLike) -> Tensor:
        return softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    """x - logsumexp(x) along `axis`."""

    def forward(self, x: TensorLike) -> Tensor:
        return log_softmax(x, self.axis)


class Dropout(Module):
    """Zero each element with probability p and scale the rest by 1/(1-p), in training only.

    Draws from gradkit's seeded generator, so `gk.manual_seed` makes it reproducible.
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: TensorLike) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    """Merge axes start_axis..end_axis into one (the batch axis 0 is kept by default)."""

    def __init__(self, start_axis: int = 1, end_axis: int = -1) -> None:
        super().__init__()
        self.start_axis, self.end_axis = start_axis, end_axis

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape
        n = len(shape)
        s = self.start_axis + n if self.start_axis < 0 else self.start_axis
        e = self.end_axis + n if self.end_axis < 0 else self.end_axis
        if not 0 <= s <= e < n:
            raise _layer_error(self, x, f"it needs at least {max(s, e) + 1} axes")
        return reshape(x, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, x: Any) -> Any:
        return x


class BatchNorm1d(Module):
    """Batch normalisation of (N, C) or (N, C, L) input, exactly as torch.nn.BatchNorm1d.

    Training: normalise with the batch's mean and biased variance, and update the running
    stats with the unbiased variance (`momentum=None`: a cumulative average). Eval: normalise
    with the running stats.
    """

    weight: Parameter | None  # None without affine
    bias: Parameter | None
    running_mean: Tensor | None  # buffers (None without track_running_stats)
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: DeviceLike = "cpu", dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        c = (self.num_features,)
        self.register_parameter("weight", _param(1.0, c, device, dtype) if affine else None)
        self.register_parameter("bias", _param(0.0, c, device, dtype) if affine else None)
        stats = ((_filled(0.0, c, device, dtype), _filled(1.0, c, device, dtype),
                  _filled(0, (), device, np.int64)) if track_running_stats else (None,) * 3)
        for name, t in zip(("running_mean", "running_var", "num_batches_tracked"), stats):
            self.register_buffer(name, t)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        for t, value in ((self.running_mean, 0), (self.running_var, 1),
                         (self.num_batches_tracked, 0)):
            if t is not None:
                t._data[...] = value

    def forward(self, x: Any) -> Tensor:
        counting = self.training and self.track_running_stats
        counted = self.num_batches_tracked if counting else None  # None: nothing to count
        momentum = self.momentum
        if counted is not None and momentum is None:  # cumulative average over the batches
            seen = counted._data  # on a GPU: stays there (no wait to read it)
            momentum = 1.0 / ((float(seen) if isinstance(seen, np.ndarray) else seen) + 1)
        try:
            out = batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                             self.training, 0.0 if momentum is None else momentum, self.eps)
        except ShapeError as exc:
            raise _layer_error(self, x, _norm_detail(exc, self.num_features)) from None
        if counted is not None:
            counted._data += 1
        return out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


def _norm_detail(exc: ShapeError, c: int) -> str:
    msg = str(exc)
    if "more than 1 value" in msg:
        return "expected more than 1 value per channel when training (use a batch of 2+)"
    return f"expected (N, {c}) or (N, {c}, L)"


class LayerNorm(Module):
    """Normalise over the last axes (`normalized_shape`), then scale and shift (one node)."""

    weight: Parameter | None  # None without elementwise_affine
    bias: Parameter | None

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True,
                 device: DeviceLike = "cpu", dtype: DTypeLike | None = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = ns = tuple(int(n) for n in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        affine = elementwise_affine
        self.register_parameter("weight", _param(1.0, ns, device, dtype) if affine else None)
        self.register_parameter("bias", _param(0.0, ns, device, dtype) if affine and bias
                                else None)

    def forward(self, x: TensorLike) -> Tensor:
        try:
            return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        except ShapeError:
            raise _layer_error(
                self, x, f"its last axes must be {self.normalized_shape}") from None

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
