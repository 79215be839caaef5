"""`keras.models.load_model`, `model_from_json`, `clone_model`: rebuild Sequential and
functional models from their saved architecture (and weights, and compile arguments).
Subclassed models and custom layers need their classes in `custom_objects`."""

from __future__ import annotations

import json
import os
from typing import Any

from . import layers as keras_layers
from . import losses as keras_losses
from . import optimizers
from .engine import Layer
from .models.model import Model
from .models.saving_format import model_config, read_model_file
from .models.sequential import Sequential

__all__ = ["load_model", "model_from_json", "clone_model", "from_config"]


def _class(name: str, custom_objects: dict | None) -> type:
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in keras_layers.LAYERS:
        return keras_layers.LAYERS[name]
    raise ValueError(f"load_model: unknown class {name!r}; pass custom_objects={{{name!r}: "
                     f"{name}}} (custom layers and subclassed models need their classes)")


def layer_from_config(cfg: dict, custom_objects: dict | None = None) -> Layer:
    """A new layer (or model) from {"class_name", "config"}."""
    name = cfg["class_name"]
    if name in ("Sequential", "Functional") or "build_shape" in cfg:
        return from_config(cfg, custom_objects)
    config = dict(cfg["config"])
    if name == "Bidirectional":
        inner = layer_from_config(config.pop("layer"), custom_objects)
        config.pop("name", None)
        return keras_layers.Bidirectional(inner, **{k: v for k, v in config.items()
                                                    if k in ("merge_mode",)})
    cls = _class(name, custom_objects)
    return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)


def _functional(config: dict, custom_objects: dict | None) -> Model:
    built = {c["config"]["name"]: layer_from_config(c, custom_objects) for c in config["layers"]}
    produced: dict[tuple, Any] = {}
    calls: dict[str, int] = {}
    for name, layer in built.items():
        if isinstance(layer, keras_layers.InputLayer):
            produced[(name, 0, 0)] = layer.output
            calls[name] = 1

    def resolve(v: Any) -> Any:
        if isinstance(v, dict) and "__keras_tensor__" in v:
            return produced[tuple(v["__keras_tensor__"])]
        if isinstance(v, dict):
            return {k: resolve(x) for k, x in v.items()}
        if isinstance(v, list):
            return [resolve(x) for x in v]
        return v

    for call in config["calls"]:
        layer = built[call["layer"]]
        out = layer(*resolve(call["args"]), **resolve(call["kwargs"]))
        index = calls.get(call["layer"], 0)
        flat = out if isinstance(out, list) else [out]
        for i, t in enumerate(flat):
            produced[(call["layer"], index, i)] = t
        calls[call["layer"]] = index + 1

    def ref(r: Any) -> Any:
        if isinstance(r, list) and len(r) == 3 and isinstance(r[0], str):
            return produced[tuple(r)]
        if isinstance(r, dict):
            return {k: ref(v) for k, v in r.items()}
        return [ref(v) for v in r]

    return Model(ref(config["inputs"]), ref(config["outputs"]), name=config["name"])


def from_config(arch: dict, custom_objects: dict | None = None) -> Model:
    """A new (unweighted) model from `model_config` output."""
    kind, config = arch["class_name"], arch["config"]
    if kind == "Sequential":
        return Sequential([layer_from_config(c, custom_objects) for c in config["layers"]],
                          name=config.get("name"))
    if kind == "Functional":
        return _functional(config, custom_objects)
    cls = _class(kind, custom_objects)
    try:
        model = cls(**config)
    except TypeError:
        model = cls()
    if arch.get("build_shape"):
        model.build(tuple(arch["build_shape"]))
    return model


def _compile(model: Model, cfg: dict) -> None:
    opt = optimizers.get(cfg["optimizer"])
    loss = cfg["loss"]
    if isinstance(loss, dict) and "class_name" in loss:
        loss = _loss_class(loss)
    model.compile(optimizer=opt, loss=loss, metrics=cfg["metrics"],
                  loss_weights=cfg.get("loss_weights"))


def _loss_class(cfg: dict) -> Any:
    return keras_losses.get({"class_name": cfg["class_name"], "config": cfg.get("config", {})})


def load_model(filepath: str | os.PathLike[str], custom_objects: dict | None = None,
               compile: bool = True, safe_mode: bool = True) -> Model:
    """The model saved by `model.save(filepath)`: architecture, weights and (when they were
    names) the compile arguments. The optimizer starts afresh (its state is not saved)."""
    arch, tensors, order = read_model_file(filepath)
    model = from_config(arch, custom_objects)
    own = model.state_dict()
    if set(tensors) != set(own) and order is not None and len(order) == len(own):
        tensors = {n: tensors[k] for k, n in zip(order, own)}
    model.load_state_dict(tensors)
    if compile and arch.get("compile"):
        _compile(model, arch["compile"])
    return model


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Model:
    """A new model (fresh weights) from `model.to_json()`."""
    return from_config(json.loads(json_string), custom_objects)


def clone_model(model: Model, input_tensors: Any = None, clone_function: Any = None) -> Model:
    """A new model of the same architecture with freshly initialised weights."""
    return from_config(model_config(model))

