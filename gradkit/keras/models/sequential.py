"""`keras.Sequential`: layers in a row; built from `keras.Input` / `input_shape=` at once,
or from the first data it sees (as Keras), when its layers learn their input sizes."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...tensor import Tensor
from ..engine import Layer, as_tensor
from ..layers.core import InputLayer
from ..naming import unique_name
from ..symbolic import KerasTensor, is_symbolic
from .graph import Graph
from .model import Model

__all__ = ["Sequential"]


class Sequential(Model):
    """`keras.Sequential([layers...], name=None)`; `add(layer)`, `pop()`."""

    _is_sequential = True
    _seq_layers: list
    _input_layer: Any

    def __init__(self, layers: list | None = None, name: str | None = None,
                 trainable: bool = True) -> None:
        super().__init__(name=name or unique_name("sequential"), trainable=trainable)
        self.__dict__["_seq_layers"] = []
        self.__dict__["_input_layer"] = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build()

    def add(self, layer: Any, rebuild: bool = True) -> None:
        """Append a layer (a `keras.Input(...)` or InputLayer first sets the input shape)."""
        if isinstance(layer, KerasTensor):
            layer = layer.node.layer if layer.node is not None else layer
        if isinstance(layer, InputLayer):
            if self._seq_layers or self._input_layer is not None:
                raise ValueError("Sequential: an Input / InputLayer must come first")
            self.__dict__["_input_layer"] = layer
        elif isinstance(layer, Layer):
            if any(layer.name == other.name for other in self._seq_layers):
                raise ValueError(f"Sequential: a layer named {layer.name!r} is already in the "
                                 "model; layer names must be unique")
            self._seq_layers.append(layer)
            self._modules[layer.name] = layer
        else:
            raise TypeError(f"Sequential.add: expected a keras layer, got "
                            f"{type(layer).__name__} (gradkit's nn modules belong in "
                            "gradkit.nn.Sequential)")
        self.__dict__["built"] = False
        if rebuild:
            try:
                self._maybe_build()
            except Exception:
                if self._seq_layers and self._seq_layers[-1] is layer:  # leave it unchanged
                    self.pop()
                raise

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._seq_layers:
            raise IndexError("Sequential.pop: there are no layers")
        layer = self._seq_layers.pop()
        del self._modules[layer.name]
        self.__dict__["built"] = False
        self._maybe_build()
        return layer

    @property
    def layers(self) -> list:
        return list(self._seq_layers)

    def _maybe_build(self) -> None:
        if self._input_layer is None and self._seq_layers:
            shape = self._seq_layers[0]._input_shape_arg
            if shape is not None:
                self.__dict__["_input_layer"] = InputLayer(batch_shape=shape)
        if self._input_layer is not None and self._seq_layers:
            self._build_graph()

    def _build_graph(self) -> None:
        x = self._input_layer.output
        out = x
        for layer in self._seq_layers:
            out = layer(out)
        graph = Graph(x, out)
        graph.layers = [self._input_layer, *self._seq_layers]
        self.__dict__["_graph"] = graph
        self.__dict__["built"] = True

    def build(self, input_shape: Any = None) -> None:
        """Build for inputs of `input_shape` (the batch axis first, e.g. (None, 784))."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("Sequential.build: give the input shape, e.g. "
                                 "model.build((None, 784))")
        elif self._input_layer is None:
            self.__dict__["_input_layer"] = InputLayer(batch_shape=tuple(input_shape))
        if self._seq_layers:
            self._build_graph()

    def _build_from(self, shape: Any, device: str | None = None, dtype: Any = None) -> None:
        if device is not None:
            self.__dict__["_device"] = device
            for layer in self._seq_layers:
                layer.__dict__["_device"] = device
        if self._input_layer is None:
            self.__dict__["_input_layer"] = InputLayer(batch_shape=(None, *shape[1:]),
                                                       dtype=dtype)
        self._build_graph()

    def _build_from_data(self, x: Any) -> None:
        dtype = getattr(x, "dtype", None)
        shape = tuple(getattr(x, "shape", ()))
        if not shape or isinstance(x, (list, tuple, dict)):
            super()._build_from_data(x)
            return
        if isinstance(x, Tensor) and x.device != "cpu":
            self.to(x.device)
        if self._input_layer is None:
            kind = np.dtype(dtype).kind if dtype is not None else "f"
            self.__dict__["_input_layer"] = InputLayer(
                batch_shape=(None, *shape[1:]), dtype="float32" if kind == "f" else dtype)
        self._build_graph()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.built and args and not is_symbolic(args[0]):
            self._build_from_data(as_tensor(args[0]))
        return super().__call__(*args, **kwargs)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        x = inputs
        for layer in self._seq_layers:
            x = layer(x, training=training) if layer._call_takes_training else layer(x)
        return x

    def _input_names(self) -> list[str]:
        return ["input"]

    def _output_names(self) -> list[str]:
        return ["output"]

    def _output_layers(self) -> list:
        return self._seq_layers[-1:]

    def get_config(self) -> dict:
        from_input = self._input_layer
        return {"name": self.name, "trainable": self.trainable,
                "layers": ([{"class_name": "InputLayer", "config": from_input.get_config()}]
                           if from_input is not None else [])
                + [{"class_name": type(layer).__name__, "config": layer.get_config()}
                   for layer in self._seq_layers]}
