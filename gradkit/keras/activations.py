"""`keras.activations`: Keras's activation functions by name, on gradkit Tensors.

    keras.activations.get("relu")(x)      # the same function as keras.activations.relu
    layers.Dense(64, activation="gelu")   # exact (erf) GELU, as Keras's default
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import ops
from ..tensor import Tensor
from ._missing import missing

__all__ = ["relu", "leaky_relu", "relu6", "softmax", "log_softmax", "elu", "selu", "softplus",
           "softsign", "silu", "swish", "gelu", "tanh", "sigmoid", "exponential",
           "hard_sigmoid", "hard_silu", "hard_swish", "linear", "mish", "log_sigmoid", "get",
           "serialize", "deserialize"]


def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None,
         threshold: float = 0.0) -> Tensor:
    """max(x, 0); with `negative_slope` a leaky ReLU, `max_value` caps it, `threshold` shifts
    where it starts (Keras's arguments)."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    x = ops.astype(x, "float32") if not isinstance(x, Tensor) else x
    if threshold != 0.0:
        out = ops.where(x > threshold, x, negative_slope * (x - threshold))
    else:
        out = ops.leaky_relu(x, negative_slope) if negative_slope else ops.relu(x)
    return out if max_value is None else ops.minimum(out, max_value)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """x where x > 0, else negative_slope * x (Keras's default slope 0.2)."""
    return ops.leaky_relu(x, negative_slope)


def relu6(x: Any) -> Tensor:
    """min(max(x, 0), 6)."""
    return ops.clip(x, 0.0, 6.0)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis`."""
    return ops.softmax(x, axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along `axis`."""
    return ops.log_softmax(x, axis)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1)."""
    return ops.elu(x, alpha)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def selu(x: Any) -> Tensor:
    """scale * elu(x, alpha) with Keras's constants."""
    return ops.elu(x, _SELU_ALPHA) * _SELU_SCALE


def softplus(x: Any) -> Tensor:
    """log(1 + exp(x)), computed stably."""
    return ops.softplus(x)


def softsign(x: Any) -> Tensor:
    """x / (1 + |x|)."""
    return x / (ops.abs(x) + 1.0)


def silu(x: Any) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return x * ops.sigmoid(x)


swish = silu


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """x * Phi(x): exact (erf) by default, the tanh approximation with `approximate`."""
    if not approximate:
        return ops.gelu(x)
    c = math.sqrt(2.0 / math.pi)
    return 0.5 * x * (1.0 + ops.tanh(c * (x + 0.044715 * x * x * x)))


def tanh(x: Any) -> Tensor:
    """tanh(x)."""
    return ops.tanh(x)


def sigmoid(x: Any) -> Tensor:
    """1 / (1 + exp(-x))."""
    return ops.sigmoid(x)


def exponential(x: Any) -> Tensor:
    """exp(x)."""
    return ops.exp(x)


def hard_sigmoid(x: Any) -> Tensor:
    """relu6(x + 3) / 6 (Keras 3's definition)."""
    return ops.clip(x + 3.0, 0.0, 6.0) / 6.0


def hard_silu(x: Any) -> Tensor:
    """x * hard_sigmoid(x)."""
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def linear(x: Any) -> Any:
    """The identity (what `activation=None` means)."""
    return x


def mish(x: Any) -> Tensor:
    """x * tanh(softplus(x))."""
    return x * ops.tanh(ops.softplus(x))


def log_sigmoid(x: Any) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x)."""
    return -ops.softplus(-x)


_BY_NAME: dict[str, Callable] = {
    f.__name__: f for f in (relu, leaky_relu, relu6, softmax, log_softmax, elu, selu, softplus,
                            softsign, silu, gelu, tanh, sigmoid, exponential, hard_sigmoid,
                            hard_silu, linear, mish, log_sigmoid)}
_BY_NAME.update(swish=silu, hard_swish=hard_silu)


def get(identifier: str | Callable | None) -> Callable:
    """The activation function for a name (`"relu"`), a callable (kept), or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier.lower())
        if fn is None:
            raise ValueError(f"keras.activations: unknown activation {identifier!r}; choose "
                             f"from {sorted(_BY_NAME)} or pass a function of a Tensor")
        return fn
    if isinstance(identifier, dict):
        return get(identifier.get("config", identifier).get("name") if isinstance(
            identifier.get("config", identifier), dict) else None)
    if callable(identifier):
        return identifier
    raise TypeError(f"keras.activations: an activation is a name or a function, got "
                    f"{identifier!r}")


def serialize(fn: Callable) -> str:
    """The name of an activation function (for `get_config`)."""
    name = getattr(fn, "__name__", None)
    if name in _BY_NAME:
        return name
    if name is not None:
        return name
    return type(fn).__name__


def deserialize(name: str) -> Callable:
    """The activation called `name`."""
    return get(name)


def __getattr__(name: str) -> Any:
    raise missing("activations", name, __all__)
