"""`tf.nn`: activations and the per-example losses, with TensorFlow's names and defaults
(`leaky_relu`'s alpha is 0.2; the `*_cross_entropy_with_logits` losses are not reduced)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops as gko
from ..ops.loss import binary_cross_entropy_with_logits as _bce_logits
from .math import l2_normalize, log_sigmoid, sigmoid, softplus, tanh  # noqa: F401
from .missing import missing_attribute
from .ops import gather, t_
from .tensor import Tensor, retag

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def relu(features: Any, name: str | None = None) -> Tensor:
    """max(x, 0)."""
    return retag(gko.relu(t_(features)))


def relu6(features: Any, name: str | None = None) -> Tensor:
    """min(max(x, 0), 6)."""
    return retag(gko.clip(t_(features), 0.0, 6.0))


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    """x where x > 0, else alpha * x (TF's default alpha is 0.2, PyTorch's 0.01)."""
    return retag(gko.leaky_relu(t_(features), alpha))


def elu(features: Any, name: str | None = None) -> Tensor:
    """x where x > 0, else exp(x) - 1."""
    return retag(gko.elu(t_(features)))


def selu(features: Any, name: str | None = None) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants."""
    return retag(gko.elu(t_(features), _SELU_ALPHA) * _SELU_SCALE)


def gelu(features: Any, approximate: bool = False, name: str | None = None) -> Tensor:
    """x * Phi(x) (exact), or its tanh approximation."""
    x = t_(features)
    if not approximate:
        return retag(gko.gelu(x))
    inner = np.float32(np.sqrt(2 / np.pi)) * (x + 0.044715 * x * x * x)
    return retag(0.5 * x * (1 + gko.tanh(inner)))


def silu(features: Any, beta: float = 1.0, name: str | None = None) -> Tensor:
    """x * sigmoid(beta * x) (swish)."""
    x = t_(features)
    return retag(x * gko.sigmoid(x * beta if beta != 1.0 else x))


swish = silu


def softsign(features: Any, name: str | None = None) -> Tensor:
    """x / (1 + |x|)."""
    x = t_(features)
    return retag(x / (1 + gko.abs(x)))


def softmax(logits: Any, axis: int | None = None, name: str | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis` (the last by default)."""
    return retag(gko.softmax(t_(logits), -1 if axis is None else int(axis)))


def log_softmax(logits: Any, axis: int | None = None, name: str | None = None) -> Tensor:
    """log(softmax(x)) along `axis`, computed stably."""
    return retag(gko.log_softmax(t_(logits), -1 if axis is None else int(axis)))


# ---- per-example losses (TF does not reduce them) -------------------------------------------


def softmax_cross_entropy_with_logits(labels: Any, logits: Any, axis: int = -1,
                                      name: str | None = None) -> Tensor:
    """-sum(labels * log_softmax(logits)) along `axis`: one loss per example."""
    y, z = t_(labels), t_(logits)
    if z.ndim == 2 and axis in (-1, 1) and not y.requires_grad and y.shape == z.shape:
        return retag(gko.cross_entropy(z, y.astype(z.dtype), reduction="none"))  # fused
    return retag(-gko.sum(y * gko.log_softmax(z, axis), axis))


def sparse_softmax_cross_entropy_with_logits(labels: Any, logits: Any,
                                             name: str | None = None) -> Tensor:
    """The cross-entropy of integer `labels` under the softmax of `logits` (last axis)."""
    y, z = t_(labels), t_(logits)
    c = z.shape[-1]
    losses = gko.cross_entropy(gko.reshape(z, (-1, c)), gko.reshape(y, (-1,)),
                               reduction="none")
    return retag(gko.reshape(losses, tuple(y.shape)))


def sigmoid_cross_entropy_with_logits(labels: Any = None, logits: Any = None,
                                      name: str | None = None) -> Tensor:
    """max(x, 0) - x * z + log(1 + exp(-|x|)) elementwise (x: logits, z: labels)."""
    z = t_(logits)
    return retag(_bce_logits(z, t_(labels), reduction="none"))


def weighted_cross_entropy_with_logits(labels: Any, logits: Any, pos_weight: Any,
                                       name: str | None = None) -> Tensor:
    """Sigmoid cross-entropy whose positive term is weighted by `pos_weight`."""
    z, x = t_(labels), t_(logits)
    weight = 1 + (pos_weight - 1) * z
    return retag((1 - z) * x + weight * (gko.softplus(-gko.abs(x)) + gko.relu(-x)))


def l2_loss(t: Any, name: str | None = None) -> Tensor:
    """sum(t ** 2) / 2."""
    return retag(gko.sum(gko.square(t_(t))) * 0.5)


# ---- other layers as functions --------------------------------------------------------------


def dropout(x: Any, rate: float, noise_shape: Any = None, seed: int | None = None,
            name: str | None = None) -> Tensor:
    """Zero each element with probability `rate`, scale the rest by 1/(1-rate) (always:
    tf.nn.dropout has no training flag)."""
    t = t_(x)
    out = gko.dropout(t, p=float(rate), training=True)
    return retag(out if out is not t else gko.astype(t, t.dtype))


def moments(x: Any, axes: Sequence[int], shift: Any = None, keepdims: bool = False,
            name: str | None = None) -> tuple[Tensor, Tensor]:
    """(mean, variance) over `axes`."""
    t, ax = t_(x), tuple(int(a) for a in axes)
    return retag(gko.mean(t, ax, keepdims)), retag(gko.var(t, ax, keepdims))


def batch_normalization(x: Any, mean: Any, variance: Any, offset: Any, scale: Any,
                        variance_epsilon: float, name: str | None = None) -> Tensor:
    """(x - mean) / sqrt(variance + eps) * scale + offset."""
    out = (t_(x) - mean) * gko.reciprocal(gko.sqrt(t_(variance) + variance_epsilon))
    if scale is not None:
        out = out * scale
    return retag(out if offset is None else out + offset)


def bias_add(value: Any, bias: Any, data_format: str | None = None,
             name: str | None = None) -> Tensor:
    """value + bias (bias along the last axis)."""
    return retag(t_(value) + bias)


def embedding_lookup(params: Any, ids: Any, max_norm: Any = None,
                     name: str | None = None) -> Tensor:
    """The rows of `params` at `ids` (differentiable in `params`)."""
    return gather(params, ids)


def __getattr__(name: str) -> Any:
    raise missing_attribute("tf.nn", name)
