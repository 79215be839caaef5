"""Dense, activation, dropout, shape and normalisation layers with PyTorch's constructor
signatures, defaults and reprs, each a gradkit layer under a dialect class.

`device=`/`dtype=` take `torch.device`s and the dialect's dtypes; `inplace=True` is accepted
and computes out of place (the same numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ... import nn as _gknn
from ...ops import shape as _shape
from ...tensor import as_tensor
from . import functional as F
from ._args import device_of, dtype_of
from .module import COUNTERPARTS, Module

__all__ = [
    "Linear", "Identity", "ReLU", "ReLU6", "SiLU", "Hardtanh", "Tanh", "Sigmoid", "GELU",
    "LeakyReLU", "ELU", "Softplus", "Softmax", "LogSoftmax", "Dropout", "Flatten", "Unflatten",
    "BatchNorm1d", "LayerNorm", "Embedding",
]


def _inplace(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class Linear(_gknn.Linear, Module):
    """y = x @ weight.T + bias; weight (out_features, in_features), both U(-1/sqrt(in),
    1/sqrt(in)) as PyTorch initialises them."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_features, out_features, bias, device_of(device), dtype_of(dtype))


class Identity(_gknn.Identity, Module):
    """Returns its input (any constructor arguments are ignored, as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()


class ReLU(_gknn.ReLU, Module):
    """max(x, 0)."""

    inplace = False  # the default for an adopted gradkit layer

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class ReLU6(Module):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        return F.relu6(input)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class SiLU(Module):
    """x * sigmoid(x)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Any) -> Any:
        return F.silu(input)

    def extra_repr(self) -> str:
        return _inplace(self.inplace)


class Hardtanh(Module):
    """x clamped into [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        min_val = min_val if min_value is None else min_value  # PyTorch's deprecated names
        max_val = max_val if max_value is None else max_value
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Any) -> Any:
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class Tanh(_gknn.Tanh, Module):
    """tanh(x)."""


class Sigmoid(_gknn.Sigmoid, Module):
    """1 / (1 + exp(-x))."""


class GELU(_gknn.GELU, Module):
    """x * Phi(x) (`approximate="tanh"`: PyTorch's tanh formula)."""

    approximate = "none"

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got "
                             f"{approximate!r}")
        self.approximate = approximate

    def forward(self, input: Any) -> Any:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class LeakyReLU(_gknn.LeakyReLU, Module):
    """x where x > 0, else negative_slope * x."""

    inplace = False  # the default for an adopted gradkit layer

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(negative_slope)
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" * self.inplace)


class ELU(_gknn.ELU, Module):
    """x where x > 0, else alpha * (exp(x) - 1)."""

    inplace = False  # the default for an adopted gradkit layer

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(alpha)
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" * self.inplace)


class Softplus(_gknn.Softplus, Module):
    """log(1 + exp(beta * x)) / beta."""

    threshold = 20.0

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta)
        self.threshold = threshold

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim` (None: PyTorch's legacy choice, with a warning)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Any) -> Any:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """x - logsumexp(x) along `dim`."""

    def forward(self, input: Any) -> Any:
        return F.log_softmax(input, self.dim)


class Dropout(_gknn.Dropout, Module):
    """Zero each element with probability p and scale the rest by 1/(1-p), in training."""

    inplace = False  # the default for an adopted gradkit layer

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        super().__init__(p)
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Flatten(_gknn.Flatten, Module):
    """Merge the axes start_dim..end_dim into one (the batch axis is kept by default)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__(start_dim, end_dim)

    @property
    def start_dim(self) -> int:
        return self.start_axis

    @property
    def end_dim(self) -> int:
        return self.end_axis

    def extra_repr(self) -> str:
        return f"start_dim={self.start_axis}, end_dim={self.end_axis}"


class Unflatten(Module):
    """Split axis `dim` into `unflattened_size` (the reverse of Flatten)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(int(s) for s in unflattened_size)

    def forward(self, input: Any) -> Any:
        x = as_tensor(input)
        d = self.dim % x.ndim
        return _shape.reshape(x, x.shape[:d] + self.unflattened_size + x.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class BatchNorm1d(_gknn.BatchNorm1d, Module):
    """Batch normalisation of (N, C) or (N, C, L) input (running stats as PyTorch's)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device_of(device), dtype_of(dtype))
        if not bias:
            self.register_parameter("bias", None)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class LayerNorm(_gknn.LayerNorm, Module):
    """Normalise over the last axes `normalized_shape`, then scale and shift."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(normalized_shape, eps, elementwise_affine, bias, device_of(device),
                         dtype_of(dtype))

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class Embedding(_gknn.Embedding, Module):
    """A lookup table: int64 ids of any shape -> vectors (weight N(0, 1), padding row 0)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, _weight: Any = None,
                 _freeze: bool = False, device: Any = None, dtype: Any = None) -> None:
        if max_norm is not None or scale_grad_by_freq:
            raise NotImplementedError("Embedding: max_norm and scale_grad_by_freq are not "
                                      "supported by gradkit")
        super().__init__(num_embeddings, embedding_dim, padding_idx, _weight, _freeze,
                         device_of(device) or "cpu", dtype_of(dtype))
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse


COUNTERPARTS.update({
    _gknn.Linear: Linear, _gknn.Identity: Identity, _gknn.ReLU: ReLU, _gknn.Tanh: Tanh,
    _gknn.Sigmoid: Sigmoid, _gknn.GELU: GELU, _gknn.LeakyReLU: LeakyReLU, _gknn.ELU: ELU,
    _gknn.Softplus: Softplus, _gknn.Dropout: Dropout, _gknn.Flatten: Flatten,
    _gknn.BatchNorm1d: BatchNorm1d, _gknn.LayerNorm: LayerNorm, _gknn.Embedding: Embedding,
})
