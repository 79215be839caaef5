"""ONNX export of Sequential models built from gradkit's layers (inference graphs).

The graph is built with the `onnx` package's helpers (an optional extra: `pip install
'gradkit[onnx]'`), with a dynamic first axis, checked by `onnx.checker`, and written
atomically. Dropout exports as identity and batch norm with its running statistics (eval).
Dense layers are emitted here, image layers in `onnx_image.py`, sequence layers (Embedding,
RNN/LSTM/GRU and the `RNNOutput` wrapper) in `onnx_seq.py`.
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
from .onnx_graph import ExportError, Graph
from .onnx_image import IMAGE_EMITTERS
from .onnx_seq import RECURRENT, SEQ_EMITTERS, RNNOutput, rnn_outputs

__all__ = ["DEFAULT_OPSET", "ExportError", "MIN_OPSET", "RNNOutput", "SUPPORTED_LAYERS",
           "export"]

DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax/LogSoftmax with per-axis semantics


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("gradkit.onnx.export needs the onnx package: pip install onnx "
                          "(or pip install 'gradkit[onnx]', which adds onnxruntime)") from None
    return onnx


def export(model: nn.Module, example_input: Any, path: str | os.PathLike,
           opset: int = DEFAULT_OPSET, *,
           input_name: str = "input", output_name: str = "output") -> str:
    """Write `model` (a Sequential of supported layers, or one such layer) to `path` as ONNX.

    `example_input`: an array or Tensor of one batch (integer token ids for a model that
    starts with an Embedding: the graph's input is then int64); its shape after the first
    axis is fixed in the graph, the first axis (the batch; for a time-major recurrent model
    the time axis, and the batch axis after it) is dynamic. `opset`: 13 or
    newer (LayerNorm needs 17, padding_mode="circular" 19). Layers: `SUPPORTED_LAYERS`
    (nested Sequentials are flattened). A recurrent layer returns a tuple, so inside a
    Sequential it goes through `RNNOutput`; as the last layer (or the whole model) it
    exports as the outputs `output`, `h_n` (and `c_n` for LSTM). Returns the path.
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
    if type(layers[0][1]).__name__ == "Embedding":  # token ids
        if x.dtype.kind not in "iu":
            raise ExportError(f"gradkit.onnx.export: the model starts with an Embedding, so "
                              f"example_input must hold integer token ids, got {x.dtype}")
        x = x.astype(np.int64)
        dtype = next((p.dtype for p in model.parameters()), np.dtype(np.float32))
    else:
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float32)
        x = x.astype(dtype)
    shapes = _trace(model, layers, x)
    g = Graph(onnx, opset, np.dtype(dtype))
    name: str | tuple = input_name
    for (where, layer), (shape, _) in zip(layers, shapes):
        name = _EMITTERS[type(layer).__name__](g, layer, where, name, shape)
    names = name if isinstance(name, tuple) else (name,)
    out_shapes = shapes[-1][1] if isinstance(name, tuple) else (shapes[-1][1],)
    wanted = (output_name, "h_n", "c_n")[:len(names)]
    for src, dst in zip(names, wanted):
        g.node("Identity", [src], dst)
        g.nodes[-1].output[0] = dst
    in_dims, out_dims = _io_dims(layers, x.shape, out_shapes)
    outputs = [(n, dtype, d) for n, d in zip(wanted, out_dims)]
    proto = _model(onnx, g, [(input_name, x.dtype, in_dims)], outputs)
    onnx.checker.check_model(proto, full_check=True)
    return atomic_write_bytes(path, proto.SerializeToString())


def _time_major(layer) -> bool:
    rnn = layer.rnn if isinstance(layer, RNNOutput) else layer
    return type(rnn).__name__ in RECURRENT and not rnn.batch_first


def _io_dims(layers: list, in_shape: tuple, out_shapes: tuple) -> tuple[list, list]:
    """The declared input and output shapes: "batch" for the dynamic first axis; with a
    time-major recurrent layer, "time" and "batch" for the input's first two axes and only
    the last axis of each output fixed (its other axes follow the input's)."""
    if any(_time_major(m) for _, m in layers):
        return (["time", "batch", *in_shape[2:]],
                [[None] * (len(s) - 1) + list(s[-1:]) for s in out_shapes])
    outs = [["batch", *s[1:]] for s in out_shapes]
    if type(layers[-1][1]).__name__ in RECURRENT:  # h_n, c_n: (layers * directions, N, H)
        outs[1:] = [[s[0], "batch", *s[2:]] for s in out_shapes[1:]]
    return ["batch", *in_shape[1:]], outs


def _model(onnx, g: Graph, inputs: list, outputs: list):
    """The ModelProto; `inputs`/`outputs` are (name, dtype, declared dims)."""
    helper = onnx.helper

    def info(name, dtype, dims):
        elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        return helper.make_tensor_value_info(name, elem, dims)

    graph = helper.make_graph(g.nodes, "gradkit", [info(*i) for i in inputs],
                              [info(*o) for o in outputs], g.inits)
    opsets = [helper.make_opsetid("", g.opset)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="gradkit",
                              producer_version=__version__)
    proto.ir_version = helper.find_min_ir_version_for(opsets)
    return proto


def _layers(model, where: str) -> list:
    """(dotted name, layer) of every layer to export, checked; Sequentials flattened."""
    if type(model) is nn.Sequential:
        out = []
        for k, m in model._modules.items():
            if m is not None:
                out += _layers(m, f"{where}.{k}" if where != "model" else k)
        if where == "model":
            for name, m in out[:-1]:
                if type(m).__name__ in RECURRENT:
                    raise ExportError(
                        f"gradkit.onnx.export: layer {name!r} ({type(m).__name__}) returns a "
                        "tuple (output, state), which the next layer cannot take; wrap it as "
                        f"gradkit.onnx.RNNOutput({type(m).__name__}(...), 'last') (or "
                        "'sequence', 'h_n') to pass one tensor on")
        return out
    kind = type(model).__name__
    known = registry.MODULES.get(kind) is type(model) or type(model) is RNNOutput
    if not known or kind not in _EMITTERS:
        supported = ", ".join(["Sequential", *_EMITTERS])
        raise ExportError(f"gradkit.onnx.export: layer {where!r} ({kind}) is "
                          f"not supported; export takes models built from {supported}")
    return [(where, model)]


def _shape_of(t) -> tuple:
    """A traced output's shape, or a tuple of them for (output, state) results."""
    if isinstance(t, (tuple, list)):
        flat: list = []
        for item in t:
            flat += list(_shape_of(item)) if isinstance(item, (tuple, list)) else [item.shape]
        return tuple(tuple(s) for s in flat)
    return tuple(t.shape)


def _trace(model, layers: list, x: np.ndarray) -> list[tuple]:
    """(input shape, output shape) of each layer, from running the example through the
    model in eval mode (the training mode is restored)."""
    training = model.training
    device = next((t.device for t in model._state_tensors().values()), "cpu")
    model.eval()
    shapes = []
    try:
        with no_grad():
            t = Tensor(x, device=device)
            for _, layer in layers:
                before = tuple(t.shape)
                t = layer(t)
                shapes.append((before, _shape_of(t)))
    finally:
        model.train(training)
    return shapes


def _same(op: str, **attrs):
    def emit(g, layer, where, x, shape):
        values = {k: float(getattr(layer, a)) for k, a in attrs.items()}
        return g.node(op, [x], op.lower(), **values)
    return emit


def _linear(g, layer, where, x, shape):
    w = layer.weight.numpy().astype(g.dtype)
    b = None if layer.bias is None else layer.bias.numpy().astype(g.dtype)
    if len(shape) == 2:
        inputs = [x, g.const("weight", w)] + ([g.const("bias", b)] if b is not None else [])
        return g.node("Gemm", inputs, "linear", transB=1)
    y = g.node("MatMul", [x, g.const("weight_t", w.T)], "matmul")
    if b is not None:
        y = g.node("Add", [y, g.const("bias", b)], "linear")
    return y


def _gelu(g, layer, where, x, shape):
    if g.opset >= 20:
        return g.node("Gelu", [x], "gelu")
    erf = g.node("Erf", [g.node("Div", [x, g.const("sqrt2", math.sqrt(2.0))], "div")], "erf")
    one_plus = g.node("Add", [erf, g.const("one", 1.0)], "add")
    half_x = g.node("Mul", [x, g.const("half", 0.5)], "mul")
    return g.node("Mul", [half_x, one_plus], "gelu")


def _softplus(g, layer, where, x, shape):
    if layer.beta == 1.0:
        return g.node("Softplus", [x], "softplus")
    beta = g.const("beta", layer.beta)
    y = g.node("Softplus", [g.node("Mul", [x, beta], "mul")], "softplus")
    return g.node("Div", [y, beta], "softplus")


def _softmax(op: str):
    def emit(g, layer, where, x, shape):
        return g.node(op, [x], op.lower(), axis=int(layer.axis))
    return emit


def _identity(g, layer, where, x, shape):
    return g.node("Identity", [x], "identity")


def _flatten(g, layer, where, x, shape):
    n = len(shape)
    s = layer.start_axis + n if layer.start_axis < 0 else layer.start_axis
    e = layer.end_axis + n if layer.end_axis < 0 else layer.end_axis
    dynamic = s == 0  # the first axis is dynamic; every other one is fixed in the graph
    merged = -1 if dynamic else math.prod(shape[s:e + 1])
    target = [0] * s + [merged] + list(shape[e + 1:])
    return g.node("Reshape", [x, g.ints("shape", target)], "flatten")


def _affine(g, layer, shape) -> tuple:
    w = np.ones(shape) if layer.weight is None else layer.weight.numpy()
    b = np.zeros(shape) if layer.bias is None else layer.bias.numpy()
    return g.const("scale", w), g.const("bias", b)


def _batchnorm(g, layer, where, x, shape):
    if not layer.track_running_stats:
        raise ExportError(f"gradkit.onnx.export: {where!r} is {type(layer).__name__} with "
                          "track_running_stats=False, which normalises with batch statistics "
                          "even in eval mode; export supports running statistics only")
    scale, bias = _affine(g, layer, (layer.num_features,))
    mean = g.const("running_mean", layer.running_mean.numpy())
    var = g.const("running_var", layer.running_var.numpy())
    return g.node("BatchNormalization", [x, scale, bias, mean, var], "batchnorm",
                  epsilon=float(layer.eps))


def _layernorm(g, layer, where, x, shape):
    if g.opset < 17:
        raise ExportError(f"gradkit.onnx.export: {where!r} (LayerNorm) needs opset 17 or "
                          f"newer (LayerNormalization), got opset {g.opset}")
    ns = layer.normalized_shape
    w = np.ones(ns) if layer.weight is None else layer.weight.numpy()
    inputs = [x, g.const("scale", w)]
    if layer.bias is not None:
        inputs.append(g.const("bias", layer.bias.numpy()))
    return g.node("LayerNormalization", inputs, "layernorm", axis=-len(ns),
                  epsilon=float(layer.eps))


_EMITTERS = {
    "Linear": _linear, "ReLU": _same("Relu"), "LeakyReLU": _same("LeakyRelu",
                                                                   alpha="negative_slope"),
    "Tanh": _same("Tanh"), "Sigmoid": _same("Sigmoid"), "GELU": _gelu,
    "ELU": _same("Elu", alpha="alpha"), "Softplus": _softplus,
    "Softmax": _softmax("Softmax"), "LogSoftmax": _softmax("LogSoftmax"),
    "Dropout": _identity, "Identity": _identity, "Flatten": _flatten,
    "BatchNorm1d": _batchnorm, "BatchNorm2d": _batchnorm, "LayerNorm": _layernorm,
    **IMAGE_EMITTERS, **SEQ_EMITTERS,
}


def _recurrent(g, layer, where, x, shape):
    """A bare RNN / LSTM / GRU (the last layer): its outputs (output, h_n[, c_n])."""
    out, h_n, c_n = rnn_outputs(g, layer, where, x)
    return (out, h_n) if c_n is None else (out, h_n, c_n)


_EMITTERS.update({kind: _recurrent for kind in RECURRENT})
#: The class names `export` takes (besides Sequential).
SUPPORTED_LAYERS = tuple(_EMITTERS)
