"""ONNX export of Sequential models built from gradkit's layers (inference graphs).

The graph is built with the `onnx` package's helpers (an optional extra: `pip install
'gradkit[onnx]'`), with a dynamic batch axis, checked by `onnx.checker`, and written
atomically. Dropout exports as identity and BatchNorm1d with its running statistics (eval).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from .. import nn
from .._version import __version__
from ..autograd import no_grad
from ..nn import registry
from ..tensor import Tensor
from .atomic import atomic_write_bytes

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax/LogSoftmax with per-axis semantics


class ExportError(ValueError):
    """A model (or layer, or option) that ONNX export does not support."""


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("gradkit.onnx.export needs the onnx package: pip install onnx "
                          "(or pip install 'gradkit[onnx]', which adds onnxruntime)") from None
    return onnx


class _Graph:
    """Nodes and initializers being collected, with unique names."""

    def __init__(self, onnx, opset: int, dtype: np.dtype) -> None:
        self.onnx, self.opset, self.dtype = onnx, opset, dtype
        self.nodes: list = []  # onnx NodeProtos
        self.inits: list = []  # onnx TensorProtos (the initializers)
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, hint: str, value, dtype=None) -> str:
        name = self.name(hint)
        arr = np.asarray(value, dtype=dtype or self.dtype)
        self.inits.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, **attrs) -> str:
        out = self.name(hint)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def export(model: nn.Module, example_input: Any, path: str | os.PathLike,
           opset: int = DEFAULT_OPSET, *,
           input_name: str = "input", output_name: str = "output") -> str:
    """Write `model` (a Sequential of supported layers, or one such layer) to `path` as ONNX.

    `example_input`: an array or Tensor of one batch; its shape after the batch axis is
    fixed in the graph, the batch axis is dynamic. `opset`: the ONNX opset (13 or newer;
    LayerNorm needs 17). Layers: Linear, ReLU, LeakyReLU, Tanh, Sigmoid, GELU, ELU,
    Softplus, Softmax, LogSoftmax, Dropout, Flatten, Identity, BatchNorm1d, LayerNorm
    (nested Sequentials are flattened). Returns the path.
    """
    onnx = _onnx()
    latest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= latest:
        raise ExportError(f"gradkit.onnx.export: opset must be an int in {MIN_OPSET}..{latest} "
                          f"(the installed onnx's newest), got {opset!r}")
    layers = _layers(model, "model")
    x = np.asarray(example_input.numpy() if hasattr(example_input, "numpy") else example_input)
    if x.ndim < 1:
        raise ExportError("gradkit.onnx.export: example_input needs a batch axis, got a scalar")
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float32)
    shapes = _trace(model, layers, x.astype(dtype))
    g = _Graph(onnx, opset, dtype)
    name, dims = input_name, [None, *x.shape[1:]]
    in_dims = list(dims)
    for (where, layer), shape in zip(layers, shapes):
        name, dims = _emit(g, layer, where, name, dims, shape)
    name = g.node("Identity", [name], output_name)
    g.nodes[-1].output[0] = output_name
    proto = _model(onnx, g, input_name, in_dims, output_name, dims)
    onnx.checker.check_model(proto, full_check=True)
    return atomic_write_bytes(path, proto.SerializeToString())


def _model(onnx, g: _Graph, input_name: str, in_dims, output_name: str, out_dims):
    helper = onnx.helper
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(g.dtype))

    def info(name, dims):
        shape = ["batch" if d is None and i == 0 else d for i, d in enumerate(dims)]
        return helper.make_tensor_value_info(name, elem, shape)

    graph = helper.make_graph(g.nodes, "gradkit", [info(input_name, in_dims)],
                              [info(output_name, out_dims)], g.inits)
    opsets = [helper.make_opsetid("", g.opset)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="gradkit",
                              producer_version=__version__)
    proto.ir_version = helper.find_min_ir_version_for(opsets)
    return proto


def _layers(model, where: str) -> list:
    if type(model) is nn.Sequential:
        out = []
        for k, m in model._modules.items():
            if m is not None:
                out += _layers(m, f"{where}.{k}" if where != "model" else k)
        return out
    if registry.MODULES.get(type(model).__name__) is not type(model) \
            or type(model).__name__ not in _EMITTERS:
        supported = ", ".join(["Sequential", *_EMITTERS])
        raise ExportError(f"gradkit.onnx.export: layer {where!r} ({type(model).__name__}) is "
                          f"not supported; export takes models built from {supported}")
    return [(where, model)]


def _trace(model, layers: list, x: np.ndarray) -> list[tuple]:
    """Each layer's input shape, from running the example through the model in eval mode."""
    training = model.training
    device = next((t.device for t in model._state_tensors().values()), "cpu")
    model.eval()
    shapes = []
    try:
        with no_grad():
            t = Tensor(x, device=device)
            for _, layer in layers:
                shapes.append(tuple(t.shape))
                t = layer(t)
    finally:
        model.train(training)
    return shapes


def _emit(g: _Graph, layer, where: str, x: str, dims: list, shape: tuple):
    kind = type(layer).__name__
    return _EMITTERS[kind](g, layer, where, x, dims, shape)


def _same(op: str, **attrs):
    def emit(g, layer, where, x, dims, shape):
        values = {k: float(getattr(layer, a)) for k, a in attrs.items()}
        return g.node(op, [x], op.lower(), **values), dims
    return emit


def _linear(g, layer, where, x, dims, shape):
    w = layer.weight.numpy().astype(g.dtype)
    b = None if layer.bias is None else layer.bias.numpy().astype(g.dtype)
    out_dims = [*dims[:-1], layer.out_features]
    if len(shape) == 2:
        inputs = [x, g.const("weight", w)] + ([g.const("bias", b)] if b is not None else [])
        return g.node("Gemm", inputs, "linear", transB=1), out_dims
    y = g.node("MatMul", [x, g.const("weight_t", w.T)], "matmul")
    if b is not None:
        y = g.node("Add", [y, g.const("bias", b)], "linear")
    return y, out_dims


def _gelu(g, layer, where, x, dims, shape):
    if g.opset >= 20:
        return g.node("Gelu", [x], "gelu"), dims
    erf = g.node("Erf", [g.node("Div", [x, g.const("sqrt2", math.sqrt(2.0))], "div")], "erf")
    one_plus = g.node("Add", [erf, g.const("one", 1.0)], "add")
    half_x = g.node("Mul", [x, g.const("half", 0.5)], "mul")
    return g.node("Mul", [half_x, one_plus], "gelu"), dims


def _softplus(g, layer, where, x, dims, shape):
    if layer.beta == 1.0:
        return g.node("Softplus", [x], "softplus"), dims
    beta = g.const("beta", layer.beta)
    y = g.node("Softplus", [g.node("Mul", [x, beta], "mul")], "softplus")
    return g.node("Div", [y, beta], "softplus"), dims


def _softmax(op: str):
    def emit(g, layer, where, x, dims, shape):
        return g.node(op, [x], op.lower(), axis=int(layer.axis)), dims
    return emit


def _identity(g, layer, where, x, dims, shape):
    return g.node("Identity", [x], "identity"), dims


def _flatten(g, layer, where, x, dims, shape):
    n = len(shape)
    s = layer.start_axis + n if layer.start_axis < 0 else layer.start_axis
    e = layer.end_axis + n if layer.end_axis < 0 else layer.end_axis
    merged = dims[s:e + 1]
    dynamic = any(d is None for d in merged)
    target = [0] * s + [-1 if dynamic else math.prod(merged)] + list(dims[e + 1:])
    out_dims = list(dims[:s]) + [None if dynamic else math.prod(merged)] + list(dims[e + 1:])
    if any(d is None for d in dims[e + 1:]):  # pragma: no cover - the batch axis is axis 0
        raise ExportError(f"gradkit.onnx.export: {where!r} (Flatten) keeps a dynamic axis "
                          "after the flattened ones")
    shape_name = g.const("shape", target, dtype=np.int64)
    return g.node("Reshape", [x, shape_name], "flatten"), out_dims


def _affine(g, layer, shape) -> tuple:
    w = np.ones(shape) if layer.weight is None else layer.weight.numpy()
    b = np.zeros(shape) if layer.bias is None else layer.bias.numpy()
    return g.const("scale", w), g.const("bias", b)


def _batchnorm(g, layer, where, x, dims, shape):
    if not layer.track_running_stats:
        raise ExportError(f"gradkit.onnx.export: {where!r} is BatchNorm1d with "
                          "track_running_stats=False, which normalises with batch statistics "
                          "even in eval mode; export supports running statistics only")
    scale, bias = _affine(g, layer, (layer.num_features,))
    mean = g.const("running_mean", layer.running_mean.numpy())
    var = g.const("running_var", layer.running_var.numpy())
    y = g.node("BatchNormalization", [x, scale, bias, mean, var], "batchnorm",
               epsilon=float(layer.eps))
    return y, dims


def _layernorm(g, layer, where, x, dims, shape):
    if g.opset < 17:
        raise ExportError(f"gradkit.onnx.export: {where!r} (LayerNorm) needs opset 17 or "
                          f"newer (LayerNormalization), got opset {g.opset}")
    ns = layer.normalized_shape
    w = np.ones(ns) if layer.weight is None else layer.weight.numpy()
    inputs = [x, g.const("scale", w)]
    if layer.bias is not None:
        inputs.append(g.const("bias", layer.bias.numpy()))
    y = g.node("LayerNormalization", inputs, "layernorm", axis=-len(ns),
               epsilon=float(layer.eps))
    return y, dims


_EMITTERS = {
    "Linear": _linear, "ReLU": _same("Relu"), "LeakyReLU": _same("LeakyRelu",
                                                                   alpha="negative_slope"),
    "Tanh": _same("Tanh"), "Sigmoid": _same("Sigmoid"), "GELU": _gelu,
    "ELU": _same("Elu", alpha="alpha"), "Softplus": _softplus,
    "Softmax": _softmax("Softmax"), "LogSoftmax": _softmax("LogSoftmax"),
    "Dropout": _identity, "Identity": _identity, "Flatten": _flatten,
    "BatchNorm1d": _batchnorm, "LayerNorm": _layernorm,
}
SUPPORTED_LAYERS = tuple(_EMITTERS)
