"""Stateless forms of the layers and losses (`import gradkit.nn.functional as F`).

Activations and fused nodes are gradkit's ops themselves; the losses below add the
`reduction=` argument and the checks a learner needs (prediction and target shapes must
match exactly: an (N, 1) prediction is never broadcast against an (N,) target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ShapeError
from ..ops.elementwise import abs as _abs
from ..ops.elementwise import (
    elu,
    gelu,
    leaky_relu,
    relu,
    sigmoid,
    softplus,
    square,
    tanh,
    where,
)
from ..ops.loss import binary_cross_entropy as _bce
from ..ops.loss import binary_cross_entropy_with_logits as _bce_logits
from ..ops.loss import check_reduction
from ..ops.loss import nll_loss as _nll
from ..ops.neural import cross_entropy as _cross_entropy
from ..ops.neural import dropout, linear, log_softmax, one_hot, softmax
from ..ops.norm import batch_norm, layer_norm
from ..tensor import Tensor, as_tensor
from .functional_conv import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose2d,
    dropout2d,
    interpolate,
    max_pool1d,
    max_pool2d,
    pad,
)
from .functional_seq import embedding, scaled_dot_product_attention

if TYPE_CHECKING:
    from ..tensor_base import TensorLike

__all__ = [
    "linear", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "dropout", "gelu",
    "leaky_relu", "elu", "softplus", "one_hot", "batch_norm", "layer_norm",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
    "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "dropout2d", "pad",
    "interpolate", "embedding", "scaled_dot_product_attention",
]


def _same_shape(input, target, name: str) -> tuple[Tensor, Tensor]:
    """Both as tensors, refusing different shapes (with a hint for the (N, 1) vs (N,) slip)."""
    x = as_tensor(input)
    t = as_tensor(target, x)
    if x.shape == t.shape:
        return x, t
    hint = ""
    if x.shape == t.shape + (1,):
        hint = "; reshape the target with target.reshape(-1, 1) (or squeeze the prediction)"
    elif t.shape == x.shape + (1,):
        hint = "; reshape the prediction with prediction.reshape(-1, 1) (or squeeze the target)"
    raise ShapeError(
        f"{name}: prediction of shape {x.shape} and target of shape {t.shape} must have the "
        f"same shape (they are never broadcast: that would compare every prediction with "
        f"every target){hint}"
    )


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


def _mse(input, target, reduction: str, name: str) -> Tensor:
    check_reduction(reduction, name)
    x, t = _same_shape(input, target, name)
    return _reduce(square(x - t), reduction)


def _l1(input, target, reduction: str, name: str) -> Tensor:
    check_reduction(reduction, name)
    x, t = _same_shape(input, target, name)
    return _reduce(_abs(x - t), reduction)


def _huber(input, target, reduction: str, delta: float, name: str) -> Tensor:
    check_reduction(reduction, name)
    if not delta > 0:
        raise ValueError(f"{name}: delta must be positive, got {delta!r}")
    x, t = _same_shape(input, target, name)
    d = x - t
    a = _abs(d)
    losses = where(a._data < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _reduce(losses, reduction)


def _binary(op, input, target, reduction: str, name: str) -> Tensor:
    check_reduction(reduction, name)
    x, t = _same_shape(input, target, name)
    return op(x, t, reduction)


def mse_loss(input: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """Mean squared error (input - target) ** 2; shapes must match."""
    return _mse(input, target, reduction, "mse_loss")


def l1_loss(input: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """Mean absolute error |input - target|; shapes must match."""
    return _l1(input, target, reduction, "l1_loss")


def huber_loss(input: TensorLike, target: TensorLike, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """0.5 d**2 where |d| < delta, else delta (|d| - delta / 2), with d = input - target."""
    return _huber(input, target, reduction, delta, "huber_loss")


def binary_cross_entropy(input: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """BCE of probabilities in [0, 1] (logs clamped to >= -100 like PyTorch)."""
    return _binary(_bce, input, target, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: TensorLike, target: TensorLike,
                                     reduction: str = "mean") -> Tensor:
    """Sigmoid + BCE as one stable node (gradient sigmoid(z) - y)."""
    return _binary(_bce_logits, input, target, reduction, "binary_cross_entropy_with_logits")


def cross_entropy(input: TensorLike, target: TensorLike, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax + cross-entropy as one node; target: int labels (N,) or probabilities (N, C)."""
    return _cross_entropy(input, target, reduction, label_smoothing)


def nll_loss(input: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of int labels given log-probabilities (N, C)."""
    return _nll(input, target, reduction)
