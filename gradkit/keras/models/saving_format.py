"""What `model.save` / `save_weights` write: ONE safetensors file (gradkit's format, any
extension: `.keras`, `.weights.h5`), the weights under their `state_dict` names, and in the
header the Keras architecture (JSON of each layer's `get_config` and, for functional models,
the layer calls) and the weights' order (so another instance of the same architecture, whose
layers got other automatic names, loads the file too)."""

from __future__ import annotations

import json
import os
from typing import Any

from ...io import read_safetensors, write_safetensors
from ...io.serialize import WEIGHTS, header
from .. import tree
from ..symbolic import KerasTensor

KERAS_CONTENT = "keras_model"


def _check_overwrite(path: Any, overwrite: bool) -> str:
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    return path


def layer_config(layer: Any) -> dict:
    if hasattr(layer, "_graph"):  # a model used as a layer
        return model_config(layer)
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _plain(spec: Any) -> Any:
    """A JSON form of a loss / metric given to compile (names, known classes), else None."""
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, (list, tuple)):
        items = [_plain(s) for s in spec]
        return None if any(i is None and s is not None for i, s in zip(items, spec)) else items
    if isinstance(spec, dict):
        table = {k: _plain(v) for k, v in spec.items()}
        return None if any(v is None for v in table.values()) else table
    if hasattr(spec, "fn_kwargs") and type(spec).__name__ != "LossFunctionWrapper":
        return {"class_name": type(spec).__name__, "config": dict(spec.fn_kwargs)}
    name = getattr(spec, "__name__", None)
    return name if name and name != "<lambda>" else None


def compile_config(model: Any) -> dict | None:
    """The compile() arguments as JSON when they are names or known classes, else None."""
    spec = model.__dict__.get("_compile_spec")
    if spec is None:
        return None
    opt = spec.optimizer
    out = {"optimizer": {"class_name": type(opt).__name__, "config": opt.get_config()},
           "loss": _plain(spec.loss), "metrics": _plain(spec.metrics),
           "loss_weights": spec.loss_weights}
    if out["loss"] is None or (spec.metrics is not None and out["metrics"] is None):
        return None
    return out


def _layer(t: KerasTensor) -> Any:
    if t.node is None:
        raise ValueError(f"{t} was not made by a layer call")
    return t.node.layer


def _arg(value: Any, index: dict) -> Any:
    if isinstance(value, KerasTensor):
        layer = _layer(value)
        return {"__keras_tensor__": [layer.name, index[id(value.node)], value.index]}
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    raise TypeError(f"cannot save a layer call with an argument of type {type(value).__name__}")


def functional_config(model: Any) -> dict:
    """The graph as JSON: the layers' configs, then every call with its KerasTensor
    arguments as [layer name, node index, tensor index]."""
    graph = model._graph
    index: dict[int, int] = {}
    counts: dict[str, int] = {}
    for t in graph.flat_inputs:
        index[id(t.node)] = 0
        counts[_layer(t).name] = 1
    calls: list[dict] = []
    for node in graph.nodes:
        name = node.layer.name
        calls.append({"layer": name,
                      "args": tree.map_structure(lambda v: _arg(v, index), list(node.args)),
                      "kwargs": {k: tree.map_structure(lambda v: _arg(v, index), v)
                                 for k, v in node.kwargs.items()}})
        index[id(node)] = counts.get(name, 0)
        counts[name] = counts.get(name, 0) + 1

    def ref(t: KerasTensor) -> list:
        return [_layer(t).name, index[id(t.node)], t.index]

    return {"name": model.name, "trainable": model.trainable,
            "layers": [layer_config(layer) for layer in graph.layers], "calls": calls,
            "inputs": tree.map_structure(ref, graph.inputs),
            "outputs": tree.map_structure(ref, graph.outputs)}


def model_config(model: Any) -> dict:
    """{"class_name", "config"} of a Sequential, functional or subclassed model."""
    if getattr(model, "_is_sequential", False):
        return {"class_name": "Sequential", "config": model.get_config()}
    if model._graph is not None:
        return {"class_name": "Functional", "config": functional_config(model)}
    shape = model._build_shape
    return {"class_name": type(model).__name__, "config": model.get_config(),
            "build_shape": list(shape) if isinstance(shape, tuple) else None}


def to_json(model: Any) -> str:
    return json.dumps(model_config(model))


def _write(model: Any, path: str, **fields: str) -> str:
    state = model.state_dict()
    order = json.dumps(list(state))
    return write_safetensors(path, state, header(WEIGHTS, keras_weight_order=order, **fields))


def save_model(model: Any, filepath: Any, overwrite: bool = True) -> str:
    """Architecture + weights in one file."""
    path = _check_overwrite(filepath, overwrite)
    if not model.built:
        raise ValueError(f"save: model {model.name!r} is not built yet (call it on data, fit "
                         "it, or give it an Input) so it has no weights to save")
    arch = model_config(model)
    arch["compile"] = compile_config(model)
    return _write(model, path, content=KERAS_CONTENT, keras_model=json.dumps(arch))


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> str:
    """The weights only."""
    return _write(model, _check_overwrite(filepath, overwrite))


def load_weights(model: Any, filepath: Any, strict: bool = True) -> Any:
    """Load a file's weights into `model`: by name, else by position (same shapes)."""
    where = os.fspath(filepath)
    if not model.built:
        raise ValueError(f"load_weights: model {model.name!r} is not built yet; build it "
                         "first (call it on data, or give it an Input) so its weights exist")
    tensors, metadata = read_safetensors(where)
    own = model.state_dict()
    if set(tensors) != set(own) and "keras_weight_order" in metadata:
        order = json.loads(metadata["keras_weight_order"])
        if len(order) == len(own) and all(tuple(tensors[k].shape) == own[n].shape
                                           for k, n in zip(order, own)):
            tensors = {n: tensors[k] for k, n in zip(order, own)}
    return model.load_state_dict(tensors, strict=strict)


def read_model_file(filepath: Any) -> tuple[dict, dict, list | None]:
    """(architecture, tensors, saved weight order) of a `save_model` file."""
    where = os.fspath(filepath)
    tensors, metadata = read_safetensors(where)
    if metadata.get("content") != KERAS_CONTENT or "keras_model" not in metadata:
        raise ValueError(f"{where} holds no Keras model (written by save_weights or another "
                         "tool?): build the model in code and call model.load_weights(path)")
    order = json.loads(metadata["keras_weight_order"]) if "keras_weight_order" in metadata \
        else None
    return json.loads(metadata["keras_model"]), tensors, order
