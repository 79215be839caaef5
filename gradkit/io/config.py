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
from ..ops.elementwise import gelu, relu
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
    "MultiheadAttention": lambda m: {"embed_dim": m.embed_dim, "num_heads": m.num_heads,
                                     "dropout": m.dropout, "bias": m.in_proj_bias is not None,
                                     "batch_first": m.batch_first},
    "TransformerEncoderLayer": lambda m: _encoder_layer_config(m),
    "TransformerEncoder": lambda m: {"num_layers": len(m.layers)},
}

# Layers whose constructor takes other layers: argument name -> that layer (or None), as
# found on the module. They are written as nested architecture nodes inside "config".
_NESTED: dict[str, Callable[[Any], dict[str, Any]]] = {
    "TransformerEncoder": lambda m: {"encoder_layer": m.layers[0] if len(m.layers) else None,
                                     "norm": m.norm},
}
_ACTIVATION_NAMES = {relu: "relu", gelu: "gelu"}


def _encoder_layer_config(m) -> dict:
    """TransformerEncoderLayer's arguments, read from its sublayers."""
    act = m.activation
    if not isinstance(act, str):
        if act not in _ACTIVATION_NAMES:
            raise ConfigError(f"TransformerEncoderLayer: activation {act!r} is a callable "
                              "that gk.save cannot name (it records 'relu' and 'gelu'); save "
                              "the weights with model.save_weights(path) instead")
        act = _ACTIVATION_NAMES[act]
    config = {"d_model": m.self_attn.embed_dim, "nhead": m.self_attn.num_heads,
              "dim_feedforward": m.linear1.out_features, "dropout": m.dropout.p,
              "activation": act, "layer_norm_eps": m.norm1.eps,
              "batch_first": m.self_attn.batch_first, "norm_first": m.norm_first,
              "bias": m.linear1.bias is not None}
    dtype = m.linear1.weight.dtype
    if dtype != np.float32:
        config["dtype"] = str(dtype)
    return config


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
    if name in _NESTED:
        node["config"].update(_describe_nested(m, where, seen))
    return node


def _describe_nested(m, where: str, seen: set) -> dict:
    """The layers a layer is built from, as nodes; a TransformerEncoder's layers must all be
    alike (it is rebuilt from one of them, copied)."""
    nested = {key: None if child is None else _describe(child, f"{where}.{key}", seen)
              for key, child in _NESTED[type(m).__name__](m).items()}
    layers = getattr(m, "layers", None)
    if layers is not None and len(layers) > 1:
        for i in range(1, len(layers)):
            other = _describe(layers[i], f"{where}.layers.{i}", seen)
            if other != nested["encoder_layer"]:
                raise ConfigError(f"{where} ({type(m).__name__}): layer {i} differs from layer "
                                  "0, but gk.save rebuilds every layer from one encoder_layer; "
                                  "save the weights with model.save_weights(path) instead")
    return nested


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


_FLOAT_DTYPES = ("float16", "float32", "float64")  # what a built-in layer may be made in


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


def _size(v) -> int:
    """A size from a config: an int >= 0 (never a bool, a float or a negative number, which
    would let one layer's count cancel another's)."""
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"a size must be a non-negative integer, got {v!r}")
    return v


def _count_values(node, where: str) -> int:
    _check_node(node, where)
    name, cfg = node["class"], node.get("config") or {}
    if node.get("custom"):
        return 0
    dtype = cfg.get("dtype")
    if dtype is not None and dtype not in _FLOAT_DTYPES:
        raise ConfigError(f"{where} ({name}): dtype {dtype!r} is not one of {_FLOAT_DTYPES}")
    if name in _CONTAINERS:
        return sum(_count_values(c, f"{where}.{k}") for k, c in _children(node, where))
    try:
        if name == "Linear":
            out = _size(cfg["out_features"])
            return out * _size(cfg["in_features"]) + (out if cfg.get("bias", True) else 0)
        if name == "BatchNorm1d":
            c = _size(cfg["num_features"])
            return ((2 * c if cfg.get("affine", True) else 0)
                    + (2 * c + 1 if cfg.get("track_running_stats", True) else 0))
        if name == "LayerNorm":
            shape = cfg["normalized_shape"]
            size = math.prod(_size(n) for n in ([shape] if isinstance(shape, int) else shape))
            affine = cfg.get("elementwise_affine", True)
            return size * (int(affine) + int(affine and cfg.get("bias", True)))
        if name == "TransformerEncoder":
            layer, norm = cfg.get("encoder_layer"), cfg.get("norm")
            return (_size(cfg["num_layers"]) * _count_values(layer, f"{where}.encoder_layer")
                    + (0 if norm is None else _count_values(norm, f"{where}.norm")))
        if name in _SEQUENCE_VALUES:
            return _SEQUENCE_VALUES[name](cfg)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where} ({name}): invalid config {cfg!r} ({exc})") from None
    return 0


def _rnn_values(cfg: dict, gates: int, cell: bool = False) -> int:
    """Parameter values of RNN/LSTM/GRU (all layers and directions) or of one cell."""
    h, width = _size(cfg["hidden_size"]), _size(cfg["input_size"])
    bias = bool(cfg.get("bias", True))
    layers = 1 if cell else _size(cfg.get("num_layers", 1))
    dirs = 2 if not cell and cfg.get("bidirectional", False) else 1
    total = 0
    for layer in range(layers):
        total += dirs * gates * h * ((width if layer == 0 else h * dirs) + h + 2 * bias)
    return total


def _attention_values(e: int, bias: bool) -> int:
    return 4 * e * e + 4 * e * bias  # in_proj (3e, e) and out_proj (e, e), with biases


def _encoder_layer_values(cfg: dict) -> int:
    d, ff = _size(cfg["d_model"]), _size(cfg.get("dim_feedforward", 2048))
    bias = bool(cfg.get("bias", True))
    return _attention_values(d, bias) + 2 * d * ff + (ff + d) * bias + 2 * d * (1 + bias)


# The parameter values each sequence layer asks for, from its config (`build`'s bound).
_SEQUENCE_VALUES: dict[str, Callable[[dict], int]] = {
    "Embedding": lambda c: _size(c["num_embeddings"]) * _size(c["embedding_dim"]),
    "RNN": lambda c: _rnn_values(c, 1), "LSTM": lambda c: _rnn_values(c, 4),
    "GRU": lambda c: _rnn_values(c, 3), "RNNCell": lambda c: _rnn_values(c, 1, cell=True),
    "LSTMCell": lambda c: _rnn_values(c, 4, cell=True),
    "GRUCell": lambda c: _rnn_values(c, 3, cell=True),
    "MultiheadAttention": lambda c: _attention_values(_size(c["embed_dim"]),
                                                      bool(c.get("bias", True))),
    "TransformerEncoderLayer": _encoder_layer_values,
}


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
    if name in _NESTED and isinstance(cfg, dict):  # the layers it is built from, first
        cfg = {k: _build(v, custom, f"{where}.{k}") if isinstance(v, dict) else v
               for k, v in cfg.items()}
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
