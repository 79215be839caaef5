"""`keras.Model`: the functional form `Model(inputs, outputs)` (a graph of layer calls on
`keras.Input`s, several inputs/outputs, shared layers) and the subclassed form (write
`__init__` and `call`). Both are gradkit Modules: `parameters()`, `state_dict()` (keys
"<layer name>.<weight name>"), `to(device)` and hand-written loops work as usual."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd import no_grad
from ...tensor import Tensor
from .. import tree
from ..engine import Layer
from ..naming import unique_name
from ..symbolic import KerasTensor
from . import saving_format
from .graph import Graph
from .training import KerasTrainer

__all__ = ["Model"]


class Model(KerasTrainer):
    """`keras.Model(inputs, outputs, name=None)`, or a subclass with `call`."""

    _graph: Graph | None
    _compile_spec: Any
    _native_ready: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        inputs = kwargs.pop("inputs", args[0] if args else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        if (inputs is None) != (outputs is None):
            raise TypeError("keras.Model: give both inputs and outputs (the functional API), "
                            "or neither (a subclass with call())")
        if inputs is not None and kwargs.get("name") is None:
            kwargs["name"] = unique_name("functional")
        super().__init__(**kwargs)
        self.__dict__.update(_graph=None, _compile_spec=None, _native_ready=False,
                             optimizer=None)
        if inputs is not None:
            self._set_graph(Graph(inputs, outputs))

    def _set_graph(self, graph: Graph) -> None:
        seen: dict[str, Any] = {}
        for layer in graph.layers:
            if layer.name in seen and seen[layer.name] is not layer:
                raise ValueError(f"keras.Model: two layers are named {layer.name!r}; layer "
                                 "names must be unique in a model")
            seen[layer.name] = layer
        for name in [n for n, m in self._modules.items() if isinstance(m, Layer)]:
            del self._modules[name]
        for name, layer in seen.items():
            if "." in name:
                raise ValueError(f"keras.Model: layer name {name!r} may not contain '.'")
            self._modules[name] = layer  # registered without an attribute (no shadowing)
        self.__dict__["_graph"] = graph
        self.__dict__["built"] = True

    # ---- calling --------------------------------------------------------------------
    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if self._graph is None:
            raise NotImplementedError(f"{type(self).__name__}: a subclass of keras.Model "
                                      "defines call(self, inputs), or build the model as "
                                      "keras.Model(inputs, outputs)")
        return self._graph.run(inputs, training)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        if self._graph is not None:
            return tree.map_structure(lambda t: (t.shape, t.dtype), self._graph.outputs)
        return super().compute_output_spec(*args, **kwargs)

    def _build_from(self, shape: Any, device: str | None = None) -> None:
        if device is not None:
            self.__dict__["_device"] = device
        if type(self).build is not Model.build:  # a subclass that creates weights itself
            self.build(shape)
        self.__dict__["built"], self.__dict__["_build_shape"] = True, shape

    def build(self, input_shape: Any = None) -> None:
        """Build a subclassed model by calling it once on zeros of `input_shape`."""
        if self.built or input_shape is None:
            self.__dict__["built"] = True
            return
        shape = tuple(1 if d is None else d for d in input_shape)
        self.__dict__["built"] = True
        with no_grad():
            self(Tensor(np.zeros(shape, dtype=np.float32)))

    # ---- structure ------------------------------------------------------------------
    @property
    def layers(self) -> list:
        if self._graph is not None:
            return list(self._graph.layers)
        return [m for m in self.children() if isinstance(m, Layer)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called `name`, or at position `index` of `layers`."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; the layers are "
                         f"{[layer.name for layer in self.layers]}")

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._graph.flat_inputs) if self._graph is not None else []

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._graph.flat_outputs) if self._graph is not None else []

    @property
    def input(self) -> Any:
        if self._graph is not None:
            return self._graph.inputs
        return super().input

    @property
    def output(self) -> Any:
        if self._graph is not None:
            return self._graph.outputs
        return super().output

    def _input_names(self) -> list[str]:
        return self._graph.input_names if self._graph is not None else ["input"]

    def _output_names(self) -> list[str]:
        return self._graph.output_names if self._graph is not None else ["output"]

    def _output_layers(self) -> list:
        if self._graph is not None:
            return [t.node.layer for t in self._graph.flat_outputs]
        layers = self.layers
        return layers[-1:] if layers else []

    # ---- saving ---------------------------------------------------------------------
    def save(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> str:
        """Write the model (architecture and weights) to one file (gradkit's safetensors
        format, whatever the extension: `.keras` is fine); `keras.models.load_model` reads
        it back."""
        return saving_format.save_model(self, filepath, overwrite)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> str:
        """Write the weights (safetensors; a `.weights.h5` name is fine)."""
        return saving_format.save_weights(self, filepath, overwrite)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False,  # type: ignore[override]
                     strict: bool = True) -> Any:
        """Read weights written by `save_weights` or `save` into this (built) model."""
        return saving_format.load_weights(self, filepath, not skip_mismatch and strict)

    def get_config(self) -> dict:
        if self._graph is None:
            return {"name": self.name, "trainable": self.trainable}
        return saving_format.functional_config(self)

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON (`keras.models.model_from_json` reads it)."""
        return saving_format.to_json(self)
