"""`Layer`: Keras's layer on a gradkit `Module`: lazy `build(input_shape)` on the first call
(eager or symbolic), `add_weight` (initializer, regularizer, trainable), `weights`,
`get_weights`/`set_weights`, `trainable`, `losses`, names (`dense`, `dense_1`, ...).

Weights are `KerasVariable`s (gradkit Parameters) set as attributes, so `parameters()`,
optimizers and `state_dict()` see them under `"<layer name>.<weight name>"`. Calling a layer
on Tensors or arrays runs `call` (with `training` = the module's mode when `call` takes it);
calling it on KerasTensors records a `Node` for the functional API.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..backend.devices import to_device
from ..nn.module import Module
from ..tensor import Tensor
from ..tensor_base import bump_version
from . import initializers, regularizers, tree
from .naming import to_snake_case, unique_name
from .symbolic import KerasTensor, Node, is_symbolic, probe_output_spec, shapes_of
from .variables import KerasVariable

__all__ = ["Layer", "as_tensor"]


def as_tensor(x: Any) -> Any:
    """Arrays (and structures of them) as Tensors; float64 data becomes float32 (Keras's
    float32 layers)."""
    if isinstance(x, np.ndarray):
        return Tensor(x, dtype=np.float32 if x.dtype == np.float64 else x.dtype)
    if isinstance(x, (list, tuple)) and x and not isinstance(x[0], (int, float)):
        return type(x)(as_tensor(v) for v in x)
    if isinstance(x, dict):
        return {k: as_tensor(v) for k, v in x.items()}
    return x


def _input_shape_arg(input_shape: Any, input_dim: Any, batch_input_shape: Any,
                     batch_size: Any) -> tuple | None:
    if batch_input_shape is not None:
        return tuple(batch_input_shape)
    if input_shape is not None:
        shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
        return (batch_size, *shape)
    if input_dim is not None:
        return (batch_size, int(input_dim))
    return None


def _as_spec(shape: Any, dtype: Any) -> Any:
    """(shape, dtype) pairs from a compute_output_shape result (a shape or a structure)."""
    if isinstance(shape, tuple) and all(d is None or isinstance(d, (int, np.integer))
                                        for d in shape):
        return tuple(shape), np.dtype(dtype)
    if isinstance(shape, dict):
        return {k: _as_spec(v, dtype) for k, v in shape.items()}
    return [_as_spec(s, dtype) for s in shape]


def _kt_from_spec(spec: Any, node: Node, counter: list, name: str) -> Any:
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], np.dtype):
        counter[0] += 1
        return KerasTensor(spec[0], spec[1], node, counter[0] - 1, name)
    if isinstance(spec, dict):
        return {k: _kt_from_spec(v, node, counter, name) for k, v in spec.items()}
    return type(spec)(_kt_from_spec(s, node, counter, name) for s in spec)


class Layer(Module):
    """Base class of Keras layers: write `build(input_shape)` (weights from `add_weight`)
    and `call(inputs, training=None)`; Keras's constructor keywords (`name`, `trainable`,
    `dtype`, `input_shape`, `input_dim`) are accepted."""

    _call_takes_training = False  # whether `call` takes `training` (per class)
    # plain state, kept in the instance __dict__ (set in __init__)
    name: str
    built: bool
    dtype: str
    _trainable: bool
    _device: str
    _inbound_nodes: list
    _weight_names: list[str]
    _regularizers: list
    _weight_trainable: dict[str, bool]
    _call_losses: list
    _build_shape: Any
    _input_shape_arg: tuple | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        try:
            cls._call_takes_training = "training" in inspect.signature(cls.call).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins
            cls._call_takes_training = False
        if "build" in vars(cls):  # a build() the user calls marks the layer built, as Keras
            cls.build = _marking_built(vars(cls)["build"])  # type: ignore[method-assign]

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 input_shape: Any = None, input_dim: int | None = None,
                 batch_input_shape: Any = None, batch_size: int | None = None,
                 **kwargs: Any) -> None:
        kwargs.pop("autocast", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{sorted(kwargs)}")
        super().__init__()
        d = self.__dict__  # plain state: set without Module's registration checks
        d["training"] = False  # as Keras: inference unless fit (or training=True) says so
        d["name"] = name or unique_name(to_snake_case(type(self).__name__))
        d["built"], d["_trainable"], d["_device"] = False, bool(trainable), "cpu"
        d["dtype"] = "float32" if dtype is None else np.dtype(dtype).name
        d["_inbound_nodes"], d["_weight_names"], d["_regularizers"] = [], [], []
        d["_weight_trainable"], d["_call_losses"], d["_build_shape"] = {}, [], None
        d["_input_shape_arg"] = _input_shape_arg(input_shape, input_dim, batch_input_shape,
                                                 batch_size)

    # ---- the Keras hooks --------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Create the weights for inputs of `input_shape` (the batch axis first, maybe None)."""
        self.__dict__["built"] = True

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every layer defines it."""
        raise NotImplementedError(f"{type(self).__name__} has no call() method")

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for `input_shape` (optional: without it a zero batch is run)."""
        raise NotImplementedError

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            x = args[0]
            if is_symbolic(x):
                return self._symbolic_call(args, kwargs)
            if not isinstance(x, Tensor):
                x = as_tensor(x)
                args = (x, *args[1:])
            if not self.built:
                self._build_from(shapes_of(x), _device_of(x))
        elif not self.built:
            raise TypeError(f"{self.name}: call the layer on its inputs")
        if self._call_takes_training:
            if kwargs.get("training") is None:
                kwargs["training"] = self.training
        elif "training" in kwargs:  # Keras takes it on every call
            del kwargs["training"]
        return self.call(*args, **kwargs)

    # ---- building -------------------------------------------------------------------
    def _build_from(self, shape: Any, device: str | None = None) -> None:
        if device is not None:
            self.__dict__["_device"] = device
        self.build(shape)
        self.__dict__["built"], self.__dict__["_build_shape"] = True, shape

    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        if not self.built:
            self._build_from(shapes_of(args[0]))
        spec = self.compute_output_spec(*args, **kwargs)
        node = Node(self, args, kwargs)
        node.outputs = _kt_from_spec(spec, node, [0], self.name)
        self._inbound_nodes.append(node)
        return node.outputs

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """(shape, dtype) of the outputs for symbolic arguments."""
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            return _as_spec(self.compute_output_shape(shapes_of(args[0])), self.dtype)
        return probe_output_spec(self, args, kwargs)

    # ---- weights --------------------------------------------------------------------
    def add_weight(self, shape: Any = None, initializer: Any = None, dtype: Any = None,
                   trainable: bool = True, regularizer: Any = None, constraint: Any = None,
                   name: str | None = None, **kwargs: Any) -> KerasVariable:
        """A new weight of this layer (an attribute named `name`)."""
        if constraint is not None:
            raise NotImplementedError(f"{self.name}: weight constraints are not in gradkit's "
                                      "Keras; clip the weights in a callback's on_batch_end")
        shape = () if shape is None else ((shape,) if isinstance(shape, int) else tuple(shape))
        dtype = np.dtype(dtype or self.dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
        arr = np.asarray(initializers.get(initializer)(shape, dtype=dtype), dtype=dtype)
        name = name or f"variable_{len(self._weight_names)}"
        attr, i = name, 1
        while attr in self.__dict__ or hasattr(type(self), attr):
            attr, i = f"{name}_{i}", i + 1
        var = KerasVariable(to_device(arr, self._device), name=name, path=f"{self.name}/{name}",
                            trainable=trainable and self._trainable)
        setattr(self, attr, var)
        self._weight_names.append(attr)
        self._weight_trainable[attr] = bool(trainable)
        if regularizer is not None:
            self._regularizers.append((attr, regularizers.get(regularizer)))
        return var

    def _sublayers(self) -> Iterator[Module]:
        return self.children()

    def _all_weights(self, seen: set) -> list:
        out = []
        for n in self._weight_names:
            w = getattr(self, n)
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        for child in self._sublayers():
            if isinstance(child, Layer):
                out += child._all_weights(seen)
            else:  # a gradkit module inside a Keras model
                for p in child.parameters():
                    if id(p) not in seen:
                        seen.add(id(p))
                        out.append(p)
        return out

    @property
    def weights(self) -> list:
        """Every weight, the layer's own first (in creation order), then its sublayers'."""
        return self._all_weights(set())

    variables = weights

    @property
    def trainable_weights(self) -> list:
        return [w for w in self.weights if w.requires_grad]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list:
        return [w for w in self.weights if not w.requires_grad]

    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays (copies), in `weights` order."""
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, weights: list) -> None:
        """Overwrite every weight in place from arrays in `weights` order (shapes checked)."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"{self.name}.set_weights: expected {len(own)} arrays (shapes "
                             f"{[w.shape for w in own]}), got {len(weights)}")
        arrays = [np.asarray(v.numpy() if isinstance(v, Tensor) else v) for v in weights]
        for w, a in zip(own, arrays):
            if tuple(a.shape) != w.shape:
                raise ValueError(f"{self.name}.set_weights: weight {getattr(w, 'path', '')!r} "
                                 f"has shape {w.shape}, got an array of shape {a.shape}")
        for w, a in zip(own, arrays):
            w._data[...] = to_device(a.astype(w.dtype, copy=False), w.device)
            bump_version(w)

    def count_params(self) -> int:
        """How many scalars the weights hold."""
        return int(sum(w.size for w in self.weights))

    @property
    def trainable(self) -> bool:
        """False freezes every weight of the layer and its sublayers (recompile after)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for m in self.modules():
            if isinstance(m, Layer):
                m.__dict__["_trainable"] = bool(value)
                for n in m._weight_names:
                    getattr(m, n).requires_grad_(bool(value) and m._weight_trainable[n])
            else:
                for p in m.parameters(recurse=False):
                    p.requires_grad_(bool(value))

    # ---- losses ---------------------------------------------------------------------
    def add_loss(self, loss: Any) -> None:
        """Add a term (a scalar Tensor computed in `call`) to the training loss."""
        self._call_losses.append(loss)

    @property
    def losses(self) -> list:
        """The regularization penalties of every weight (now) and the added losses."""
        out = []
        for m in self.modules():
            if isinstance(m, Layer):
                out += [reg(getattr(m, n)) for n, reg in m._regularizers]
                out += m._call_losses
        return out

    def _clear_call_losses(self) -> None:
        for m in self.modules():
            if isinstance(m, Layer) and m._call_losses:
                m._call_losses.clear()

    # ---- graph facts ----------------------------------------------------------------
    @property
    def input(self) -> Any:
        return self._node("input").args[0]

    @property
    def output(self) -> Any:
        return self._node("output").outputs

    def _node(self, what: str) -> Node:
        if not self._inbound_nodes:
            raise AttributeError(f"layer {self.name!r} has never been called on symbolic "
                                 f"inputs, so it has no {what} (use keras.Input)")
        return self._inbound_nodes[0]

    @property
    def output_shape(self) -> Any:
        return tree.map_structure(lambda t: t.shape, self.output)

    @property
    def input_shape(self) -> Any:
        return tree.map_structure(lambda t: t.shape, self.input)

    def to(self, device: str | None = None, dtype: Any = None) -> Layer:
        super().to(device, dtype)
        if device is not None:
            for m in self.modules():
                if isinstance(m, Layer):
                    m.__dict__["_device"] = str(device)
        return self

    def get_config(self) -> dict:
        """The constructor arguments (name, trainable, dtype, and the layer's own)."""
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _marking_built(build: Any) -> Any:
    @functools.wraps(build)
    def wrapped(self: Layer, input_shape: Any = None, *args: Any, **kwargs: Any) -> Any:
        out = build(self, input_shape, *args, **kwargs)
        self.__dict__["built"] = True
        if self.__dict__.get("_build_shape") is None:
            self.__dict__["_build_shape"] = input_shape
        return out

    return wrapped


def _device_of(x: Any) -> str | None:
    for leaf in tree.flatten(x):
        if isinstance(leaf, Tensor):
            return leaf.device
    return None
