"""Keras's core layers: `InputLayer`/`Input`, `Dense`, `Activation`, `Dropout`, `Flatten`,
`Reshape`, `Lambda`, `Rescaling`, `Identity` and the activation layers.

`Dense` keeps Keras's kernel layout `(input_dim, units)` (what `get_weights` shows) and runs
gradkit's fused `linear` node (`relu`/`tanh` fused into it as well).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import ops
from ...errors import ShapeError
from .. import activations, initializers, regularizers
from ..engine import Layer
from ..symbolic import KerasTensor, Node

__all__ = ["InputLayer", "Input", "Dense", "Activation", "Dropout", "Flatten", "Reshape",
           "Lambda", "Rescaling", "Identity", "ReLU", "Softmax", "LeakyReLU", "ELU"]

_FUSED = {activations.relu: "relu", activations.tanh: "tanh"}  # fused into `linear`


class InputLayer(Layer):
    """The layer behind `keras.Input`: it holds the model's symbolic input."""

    batch_shape: tuple

    def __init__(self, shape: Any = None, batch_size: int | None = None, dtype: Any = None,
                 sparse: bool | None = None, batch_shape: Any = None, name: str | None = None,
                 input_shape: Any = None, input_tensor: Any = None, **kwargs: Any) -> None:
        super().__init__(name=name, dtype=dtype or "float32", **kwargs)
        if sparse:
            raise NotImplementedError("keras.Input(sparse=True): gradkit has no sparse tensors")
        shape = input_shape if shape is None else shape
        if batch_shape is None:
            if shape is None:
                raise ValueError("keras.Input: give shape= (without the batch axis), e.g. "
                                 "keras.Input(shape=(784,))")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size, *shape)
        self.__dict__["batch_shape"] = tuple(batch_shape)
        self.__dict__["built"] = True
        node = Node(self, (), {})
        node.outputs = KerasTensor(batch_shape, self.dtype, node, 0, self.name)
        self._inbound_nodes.append(node)

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "name": self.name}


def Input(shape: Any = None, batch_size: int | None = None, dtype: Any = None,
          sparse: bool | None = None, batch_shape: Any = None, name: str | None = None,
          tensor: Any = None) -> KerasTensor:
    """A symbolic input of `shape` (without the batch axis) for the functional API."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name)
    return layer.output


class Dense(Layer):
    """outputs = activation(inputs @ kernel + bias), on the last axis."""

    _fused: str | None

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        if activity_regularizer is not None or kernel_constraint is not None or \
                bias_constraint is not None:
            raise NotImplementedError("Dense: activity regularizers and constraints are not "
                                      "in gradkit's Keras (use kernel_regularizer=)")
        self.units, self.use_bias = int(units), bool(use_bias)
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.__dict__["_fused"] = _FUSED.get(self.activation)

    def build(self, input_shape: Any) -> None:
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(f"{self.name}: the last axis of the input must be known to build "
                             f"Dense, got input shape {input_shape}")
        self.kernel = self.add_weight((dim, self.units), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias",
                                    regularizer=self.bias_regularizer) if self.use_bias else None

    def call(self, inputs: Any) -> Any:
        try:
            out = ops.linear(inputs, self.kernel.T, self.bias, self._fused)
        except ShapeError:
            shape = tuple(getattr(inputs, "shape", ()))
            raise ShapeError(f"{self.name} (Dense, kernel {self.kernel.shape}) got input of "
                             f"shape {shape}: its last axis must be {self.kernel.shape[0]}"
                             + (" (add a Flatten layer first)" if len(shape) > 2 and
                                math.prod(shape[1:]) == self.kernel.shape[0] else "")) from None
        return out if self._fused else self.activation(out)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}


class Activation(Layer):
    """Applies an activation function (a name or a callable)."""

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Any) -> Any:
        return self.activation(inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Zeroes a fraction `rate` of the inputs in training, scaling the rest by 1/(1-rate)."""

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Dropout: rate must be in [0, 1], got {rate}")
        if noise_shape is not None:
            raise NotImplementedError("Dropout(noise_shape=) is not in gradkit's Keras; use "
                                      "SpatialDropout-like masks in a custom layer")
        self.rate, self.seed = float(rate), seed

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training or self.rate == 0:
            return inputs
        return ops.dropout(inputs, self.rate, True)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class Flatten(Layer):
    """Merges every axis but the batch into one."""

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs: Any) -> Any:
        return ops.reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape: Any) -> Any:
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (without the batch axis; one -1 allowed)."""

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def call(self, inputs: Any) -> Any:
        return ops.reshape(inputs, (inputs.shape[0], *self.target_shape))

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape: list[int | None] = list(self.target_shape)
        rest = input_shape[1:]
        known = math.prod(d for d in self.target_shape if d != -1)
        size = None if None in rest else math.prod(rest)
        if size is not None and (size % known if -1 in shape else size != known):
            raise ValueError(f"{self.name}: cannot reshape samples of shape {tuple(rest)} "
                             f"({size} values) to {self.target_shape}")
        if -1 in shape:
            shape[shape.index(-1)] = None if size is None else size // known
        return (input_shape[0], *shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Lambda(Layer):
    """Wraps a function of Tensors as a layer (no weights)."""

    def __init__(self, function: Callable, output_shape: Any = None, arguments: dict | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.function, self.arguments = function, dict(arguments or {})
        self.__dict__["_output_shape_arg"] = output_shape

    def call(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)


class Rescaling(Layer):
    """inputs * scale + offset (e.g. `Rescaling(1 / 255)` for images)."""

    def __init__(self, scale: float, offset: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def call(self, inputs: Any) -> Any:
        x = inputs if inputs.dtype.kind == "f" else ops.astype(inputs, "float32")
        return x * self.scale + self.offset if self.offset else x * self.scale

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Identity(Layer):
    """Returns its input."""

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class ReLU(Layer):
    """relu with Keras's `max_value`, `negative_slope`, `threshold`."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs: Any) -> Any:
        return activations.relu(inputs, self.negative_slope, self.max_value, self.threshold)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class Softmax(Layer):
    """softmax along `axis`."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs: Any) -> Any:
        return ops.softmax(inputs, self.axis)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class LeakyReLU(Layer):
    """x where x > 0, else negative_slope * x (Keras 3's default 0.3)."""

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        alpha = kwargs.pop("alpha", None)  # Keras 2's name
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope if alpha is None else alpha)

    def call(self, inputs: Any) -> Any:
        return ops.leaky_relu(inputs, self.negative_slope)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class ELU(Layer):
    """x where x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs: Any) -> Any:
        return ops.elu(inputs, self.alpha)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape
