"""`BatchNormalization` (Keras's momentum 0.99, epsilon 1e-3, moving variance from the
biased batch variance, inference mode when not trainable), `LayerNormalization` (epsilon
1e-3) and `Normalization` (`adapt` to the data's mean and variance), on the last axis
(channels-last, as Keras)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import ops
from ...backend.devices import to_device, to_numpy
from ...ops.norm import batch_norm, layer_norm
from ...tensor import Tensor
from ...tensor_base import bump_version
from .. import initializers, regularizers
from ..engine import Layer

__all__ = ["BatchNormalization", "LayerNormalization", "Normalization"]


def _last_axis(layer: Layer, axis: Any, ndim: int) -> None:
    if axis not in (-1, ndim - 1):
        raise NotImplementedError(f"{layer.name}: only axis=-1 (channels last) in gradkit's "
                                  f"Keras, got axis={axis}")


class BatchNormalization(Layer):
    """Normalise each feature (last axis) by the batch's mean and variance in training, by
    the moving averages in inference; `moving = momentum * moving + (1 - momentum) * batch`."""

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, synchronized: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape: Any) -> None:
        _last_axis(self, self.axis, len(input_shape))
        c = (input_shape[-1],)
        self.gamma = self.add_weight(c, self.gamma_initializer, name="gamma",
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight(c, self.beta_initializer, name="beta",
                                    regularizer=self.beta_regularizer) if self.center else None
        self.moving_mean = self.add_weight(c, self.moving_mean_initializer, name="moving_mean",
                                           trainable=False)
        self.moving_variance = self.add_weight(c, self.moving_variance_initializer,
                                               name="moving_variance", trainable=False)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        shape = inputs.shape
        x2 = ops.reshape(inputs, (-1, shape[-1])) if len(shape) != 2 else inputs
        if training and self.trainable:
            out = batch_norm(x2, None, None, self.gamma, self.beta, True, 0.0,
                                 self.epsilon)
            self._update_moving(x2._data if isinstance(x2, Tensor) else x2)
        else:
            out = batch_norm(x2, self.moving_mean, self.moving_variance, self.gamma,
                                 self.beta, False, 0.0, self.epsilon)
        return ops.reshape(out, shape) if len(shape) != 2 else out

    def _update_moving(self, d: Any) -> None:
        m = self.momentum
        for var, stat in ((self.moving_mean, d.mean(axis=0)), (self.moving_variance,
                                                               d.var(axis=0))):
            var._data *= m
            var._data += (1.0 - m) * stat
            bump_version(var)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale}


class LayerNormalization(Layer):
    """Normalise each sample over its last axis, then scale (gamma) and shift (beta)."""

    def __init__(self, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, rms_scaling: bool = False, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if rms_scaling:
            raise NotImplementedError("LayerNormalization(rms_scaling=True) is not in "
                                      "gradkit's Keras")
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape: Any) -> None:
        _last_axis(self, self.axis, len(input_shape))
        c = (input_shape[-1],)
        self.gamma = self.add_weight(c, self.gamma_initializer, name="gamma",
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight(c, self.beta_initializer, name="beta",
                                    regularizer=self.beta_regularizer) if self.center else None

    def call(self, inputs: Any) -> Any:
        return layer_norm(inputs, (inputs.shape[-1],), self.gamma, self.beta, self.epsilon)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}


class Normalization(Layer):
    """(x - mean) / max(sqrt(variance), 1e-7) per feature of the last axis (or one mean for
    `axis=None`); `adapt(data)` learns mean and variance from data; `invert` undoes it."""

    _given: tuple

    def __init__(self, axis: int | None = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis, self.invert = axis, invert
        self.__dict__["_given"] = (mean, variance)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: pass both mean and variance, or neither")

    def build(self, input_shape: Any) -> None:
        if self.axis is not None:
            _last_axis(self, self.axis, len(input_shape))
        shape = () if self.axis is None else (input_shape[-1],)
        self.mean = self.add_weight(shape, "zeros", name="mean", trainable=False)
        self.variance = self.add_weight(shape, "ones", name="variance", trainable=False)
        self.count = self.add_weight((), "zeros", dtype="int64", name="count", trainable=False)
        mean, variance = self._given
        if mean is not None:
            self._set(np.broadcast_to(np.asarray(mean, np.float32), shape),
                      np.broadcast_to(np.asarray(variance, np.float32), shape), 0)

    def _set(self, mean: Any, var: Any, count: int) -> None:
        for w, v in ((self.mean, mean), (self.variance, var), (self.count, count)):
            w._data[...] = to_device(np.asarray(v, dtype=w.dtype), w.device)
            bump_version(w)

    def adapt(self, data: Any, batch_size: Any = None, steps: Any = None) -> None:
        """Set mean and variance (biased) from `data`: an array, a Tensor or batches."""
        if isinstance(data, (np.ndarray, Tensor)) or hasattr(data, "__cuda_array_interface__"):
            arr = to_numpy(data._data if isinstance(data, Tensor) else data)
        else:
            batches = [b[0] if isinstance(b, (tuple, list)) else b for b in data]
            arr = np.concatenate([to_numpy(b._data if isinstance(b, Tensor) else b)
                                  for b in batches])
        arr = arr.astype(np.float64)
        if not self.built:
            self._build_from((None, *arr.shape[1:]))
        axes = None if self.axis is None else tuple(range(arr.ndim - 1))
        self._set(arr.mean(axis=axes), arr.var(axis=axes), arr.shape[0])

    def call(self, inputs: Any) -> Any:
        x = inputs if inputs.dtype.kind == "f" else ops.astype(inputs, "float32")
        std = ops.maximum(ops.sqrt(self.variance), 1e-7)
        if self.invert:
            return self.mean + x * std
        return (x - self.mean) / std

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "invert": self.invert}
