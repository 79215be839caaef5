"""Model architecture <-> JSON.

Every built-in layer and loss of `gradkit.nn` is described by its class name and the
constructor arguments read back from its attributes (`Linear.in_features`, ...);
`Sequential` and `ModuleList` also list their children. Any other Module class is recorded
by name only (plus `get_config()` when it defines one): it is rebuilt only from a class the
caller passes in `custom_objects`. Nothing named in a file is ever imported.

    {"class": "Sequential", "children": [["0", {"class": "Linear", "config": {...}}], ...]}
    {"class": "MyNet", "module": "my.models", "custom": true, "config": {...}}
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..backend import random as gkrandom
from ..nn import registry
from ..nn.module import Module
from .errors import ConfigError

_CONTAINERS = registry.CONTAINERS
_NOT_RECORDED = ("device", "dtype")  # dtype: recorded apart, when not float32
_ARGUMENT_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)

# Layers whose constructor arguments are not read back as attributes of the same names.
_SPECIAL_CONFIG: dict[str, Callable[[Any], dict]] = {
    "LayerNorm": lambda m: {"normalized_shape": list(m.normalized_shape), "eps": m.eps,
                            "elementwise_affine": m.elementwise_affine,
                            "bias": m.bias is not None or not m.elementwise_affine},
    "Embedding": lambda m: {"num_embeddings": m.num_embeddings,
                            "embedding_dim": m.embedding_dim, "padding_idx": m.padding_idx},
}


_SIGNATURES: dict[type, Mapping[str, inspect.Parameter]] = {}


def _signature(cls: type) -> Mapping[str, inspect.Parameter]:
    """The constructor's parameters (without self), looked up once per class."""
    params = _SIGNATURES.get(cls)
    if params is None:
        params = _SIGNATURES[cls] = inspect.signature(cls).parameters
    return params


def _config(m: Module) -> dict:
    """The constructor arguments of a built-in module, read back from its attributes: each
    argument is the attribute of the same name (a bool argument whose attribute is a
    parameter, like `bias`, records whether there is one)."""
    special = _SPECIAL_CONFIG.get(type(m).__name__)
    if special is not None:
        return special(m)
    if type(m).__name__ in _CONTAINERS:
        return {}
    config = {}
    for name, p in _signature(type(m)).items():
        if name in _NOT_RECORDED or p.kind not in _ARGUMENT_KINDS:
            continue
        if not hasattr(m, name):
            raise ConfigError(f"{type(m).__name__}: its argument {name!r} is not an attribute "
                              "of the same name; describe it in gradkit.io.config's "
                              "_SPECIAL_CONFIG")
        value = getattr(m, name)
        if isinstance(p.default, bool) and not isinstance(value, bool):
            value = value is not None
        config[name] = value
    return config


def _takes_dtype(cls: type) -> bool:
    return "dtype" in _signature(cls)


def builtin_layers() -> list[str]:
    """The class names `gk.save` describes without help."""
    # the names of gradkit.nn.registry.MODULES
    return sorted(registry.MODULES)


# ---- module -> JSON ------------------------------------------------------------------------
def architecture(model: Module) -> dict:
    """The JSON-able description of `model` (raises ConfigError when it cannot be described)."""
    return _describe(model, "model", set())


def _describe(m, where: str, seen: set) -> dict:
    if id(m) in seen:
        raise ConfigError(f"{where} ({type(m).__name__}) appears twice in the model; "
                          "gk.save cannot express shared layers: save the weights with "
                          "model.save_weights(path) and rebuild the model in code")
    seen.add(id(m))
    name = type(m).__name__
    if registry.MODULES.get(name) is not type(m):
        return _describe_custom(m, where)
    node = {"class": name, "config": _jsonable(_config(m), f"{where} ({name})")}
    if _takes_dtype(type(m)):
        dtype = _float_dtype(m)
        if dtype is not None and dtype != np.float32:
            node["config"]["dtype"] = str(dtype)
    if name in _CONTAINERS:
        node["children"] = [[k, _describe(c, f"{where}.{k}", seen)]
                            for k, c in m._modules.items() if c is not None]
    return node


def _describe_custom(m, where: str) -> dict:
    cls = type(m)
    node = {"class": cls.__qualname__, "module": cls.__module__, "custom": True}
    get_config = getattr(m, "get_config", None)
    if callable(get_config):
        node["config"] = _jsonable(get_config(), f"{where} ({cls.__name__}.get_config())")
    return node


def _float_dtype(m):
    for t in (*m._parameters.values(), *m._buffers.values()):
        if t is not None and t.dtype.kind == "f":
            return t.dtype
    return None


def _jsonable(value, where: str):
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, where) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _jsonable(v, where) for k, v in value.items()}
    raise ConfigError(f"{where}: cannot write {type(value).__name__} {value!r} as JSON "
                      "(configs hold numbers, strings, booleans, None, lists and dicts)")


# ---- JSON -> module ------------------------------------------------------------------------
def build(node: Any, custom_objects: Mapping | None = None,
          max_values: int | None = None) -> Module:
    """Rebuild a module from `architecture()`'s output.

    `custom_objects` maps class names (plain or "module.Class") to classes (or factories)
    for custom modules. `max_values` bounds the number of parameter values the built-in
    layers may ask for (the values the file holds), so a hand-crafted architecture cannot
    make gradkit allocate more than the file could fill. gradkit's random state is left
    as it was (layer initialisation draws from it, and the values are overwritten anyway).
    """
    custom = dict(custom_objects or {})
    if max_values is not None:
        needed = _count_values(node, "model")
        if needed > max_values:
            raise ConfigError(f"the architecture asks for {needed} parameter values but the "
                              f"file holds only {max_values}: the file is corrupted")
    cpu = gkrandom.generator("cpu")
    state = cpu.bit_generator.state
    try:
        return _build(node, custom, "model")
    finally:
        cpu.bit_generator.state = state


def _check_node(node, where: str) -> None:
    if not isinstance(node, dict) or not isinstance(node.get("class"), str):
        raise ConfigError(f"{where}: an architecture node must be an object with a 'class' "
                          f"string, got {type(node).__name__}")
    config = node.get("config", {})
    if config is not None and not (isinstance(config, dict)
                                   and all(isinstance(k, str) for k in config)):
        raise ConfigError(f"{where} ({node['class']}): 'config' must be an object")


def _children(node, where: str) -> list:
    kids = node.get("children", [])
    if not isinstance(kids, list) or not all(
            isinstance(k, list) and len(k) == 2 and isinstance(k[0], str) for k in kids):
        raise ConfigError(f"{where} ({node['class']}): 'children' must be a list of "
                          "[name, node] pairs")
    return kids


def _count_values(node, where: str) -> int:
    _check_node(node, where)
    name, cfg = node["class"], node.get("config") or {}
    if node.get("custom"):
        return 0
    if name in _CONTAINERS:
        return sum(_count_values(c, f"{where}.{k}") for k, c in _children(node, where))
    try:
        if name == "Linear":
            out = int(cfg["out_features"])
            return out * int(cfg["in_features"]) + (out if cfg.get("bias", True) else 0)
        if name == "BatchNorm1d":
            c = int(cfg["num_features"])
            return ((2 * c if cfg.get("affine", True) else 0)
                    + (2 * c + 1 if cfg.get("track_running_stats", True) else 0))
        if name == "LayerNorm":
            shape = cfg["normalized_shape"]
            size = math.prod(int(n) for n in ([shape] if isinstance(shape, int) else shape))
            affine = cfg.get("elementwise_affine", True)
            return size * (int(affine) + int(affine and cfg.get("bias", True)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where} ({name}): invalid config {cfg!r} ({exc})") from None
    return 0


def _lookup_custom(node, custom: dict, where: str):
    name, module = node["class"], node.get("module")
    for key in (f"{module}.{name}", name, name.rsplit(".", 1)[-1]):
        if key in custom:
            return custom[key]
    qual = f"{module}.{name}" if module else name
    short = name.rsplit(".", 1)[-1]
    raise ConfigError(
        f"{where} is an instance of the custom Module class {qual!r}, which gradkit does not "
        f"rebuild by itself (it never imports code named in a file). Pass the model: "
        f"gk.load(path, model={short}(...)), or the class: "
        f"gk.load(path, custom_objects={{{short!r}: {short}}})"
    )


def _build(node, custom: dict, where: str):
    _check_node(node, where)
    name, cfg = node["class"], node.get("config")
    if node.get("custom") or name in custom:
        factory = _lookup_custom(node, custom, where)
        if isinstance(factory, Module):
            return factory
        return _call(factory, cfg, where, name, custom_class=True)
    cls: Any = registry.MODULES.get(name)
    if cls is None:
        raise ConfigError(f"{where}: unknown layer class {name!r} (gradkit builds "
                          f"{', '.join(builtin_layers())}; pass other classes in "
                          "custom_objects)")
    if name in _CONTAINERS:
        kids = [(k, _build(c, custom, f"{where}.{k}")) for k, c in _children(node, where)]
        if name == "ModuleList":
            return cls([m for _, m in kids])
        if [k for k, _ in kids] == [str(i) for i in range(len(kids))]:
            return cls(*[m for _, m in kids])
        return cls(OrderedDict(kids))
    return _call(cls, cfg, where, name)


def _call(factory, cfg, where: str, name: str, custom_class: bool = False):
    try:
        if cfg is None:
            return factory()
        from_config = getattr(factory, "from_config", None)
        if custom_class and callable(from_config):
            return from_config(cfg)
        return factory(**cfg)
    except (TypeError, ValueError) as exc:
        hint = (" (define get_config() on the class so that gk.save records its arguments, "
                "or pass the model itself: gk.load(path, model=...))" if custom_class else "")
        raise ConfigError(f"{where}: cannot build {name} from {cfg!r}: {exc}{hint}") from None
