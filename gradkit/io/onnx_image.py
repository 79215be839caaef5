"""ONNX emitters of the image layers: Conv1d, Conv2d (groups, dilation, padding incl. "same",
padding modes through a Pad node), ConvTranspose2d, MaxPool1d/2d, AvgPool1d/2d,
AdaptiveAvgPool1d/2d (global -> GlobalAveragePool, evenly dividing -> AveragePool),
Dropout2d (identity) and Upsample (Resize, nearest, PyTorch's source pixels).

Each emitter takes (graph, layer, where, input name, input shape) and returns the output's
name; options ONNX cannot express raise `ExportError` naming the layer and the option.
"""

from __future__ import annotations

from ..ops.pool import ntuple
from .onnx_graph import ExportError, Graph

__all__ = ["IMAGE_EMITTERS"]

_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _conv_pads(layer) -> tuple[list[int], list[int]]:
    """(begin, end) padding per spatial axis; "same" puts the odd pixel at the end."""
    nd = len(layer.kernel_size)
    if layer.padding == "valid":
        return [0] * nd, [0] * nd
    if layer.padding == "same":
        total = [d * (k - 1) for d, k in zip(layer.dilation, layer.kernel_size)]
        return [t // 2 for t in total], [t - t // 2 for t in total]
    return list(layer.padding), list(layer.padding)


def _pad_node(g: Graph, x: str, where: str, layer, lo: list, hi: list) -> str:
    """A Pad node for a padding mode other than zeros (Pad's reflect / edge / wrap)."""
    mode = _PAD_MODES[layer.padding_mode]
    if mode == "wrap" and g.opset < 19:
        raise ExportError(f"gradkit.onnx.export: {where!r} ({type(layer).__name__}) has "
                          f"padding_mode='circular', which needs opset 19 or newer (Pad's "
                          f"'wrap' mode), got opset {g.opset}")
    pads = g.ints("pads", [0, 0, *lo, 0, 0, *hi])
    return g.node("Pad", [x, pads], "pad", mode=mode)


def _conv(g: Graph, layer, where: str, x: str, shape: tuple) -> str:
    lo, hi = _conv_pads(layer)
    if layer.padding_mode != "zeros" and any(lo + hi):
        x = _pad_node(g, x, where, layer, lo, hi)
        lo, hi = [0] * len(lo), [0] * len(hi)
    inputs = [x, g.weights("weight", layer.weight)]
    if layer.bias is not None:
        inputs.append(g.weights("bias", layer.bias))
    return g.node("Conv", inputs, "conv", kernel_shape=list(layer.kernel_size),
                  strides=list(layer.stride), pads=lo + hi, dilations=list(layer.dilation),
                  group=int(layer.groups))


def _conv_transpose(g: Graph, layer, where: str, x: str, shape: tuple) -> str:
    inputs = [x, g.weights("weight", layer.weight)]
    if layer.bias is not None:
        inputs.append(g.weights("bias", layer.bias))
    pads = list(layer.padding) * 2
    return g.node("ConvTranspose", inputs, "conv_transpose",
                  kernel_shape=list(layer.kernel_size), strides=list(layer.stride), pads=pads,
                  dilations=list(layer.dilation), output_padding=list(layer.output_padding),
                  group=int(layer.groups))


def _pool_args(layer, nd: int) -> dict:
    name = type(layer).__name__
    k = ntuple(layer.kernel_size, nd, "kernel_size", name)
    s = ntuple(layer.stride, nd, "stride", name)
    p = ntuple(layer.padding, nd, "padding", name, minimum=0)
    return {"kernel_shape": list(k), "strides": list(s), "pads": list(p) * 2,
            "ceil_mode": int(bool(layer.ceil_mode))}


def _max_pool(nd: int):
    def emit(g: Graph, layer, where: str, x: str, shape: tuple) -> str:
        d = ntuple(layer.dilation, nd, "dilation", type(layer).__name__)
        return g.node("MaxPool", [x], "max_pool", dilations=list(d), **_pool_args(layer, nd))
    return emit


def _avg_pool(nd: int):
    def emit(g: Graph, layer, where: str, x: str, shape: tuple) -> str:
        if getattr(layer, "divisor_override", None) is not None:
            raise ExportError(f"gradkit.onnx.export: {where!r} ({type(layer).__name__}) has "
                              "divisor_override, which ONNX's AveragePool cannot express")
        if layer.ceil_mode:
            raise ExportError(f"gradkit.onnx.export: {where!r} ({type(layer).__name__}) has "
                              "ceil_mode=True, whose partial windows ONNX runtimes average "
                              "differently; export supports ceil_mode=False")
        return g.node("AveragePool", [x], "avg_pool",
                      count_include_pad=int(bool(layer.count_include_pad)),
                      **_pool_args(layer, nd))
    return emit


def _adaptive_avg_pool(nd: int):
    def emit(g: Graph, layer, where: str, x: str, shape: tuple) -> str:
        spatial = shape[-nd:]
        size = layer.output_size
        size = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        size = tuple(n if o is None else int(o) for n, o in zip(spatial, size))
        if all(o == 1 for o in size):
            return g.node("GlobalAveragePool", [x], "global_avg_pool")
        if any(n % o for n, o in zip(spatial, size)):
            raise ExportError(
                f"gradkit.onnx.export: {where!r} ({type(layer).__name__}) pools "
                f"{'x'.join(map(str, spatial))} inputs to {'x'.join(map(str, size))}; ONNX "
                "has no adaptive pooling, so export needs an output size of 1 or one that "
                "divides the input size")
        k = [n // o for n, o in zip(spatial, size)]
        return g.node("AveragePool", [x], "adaptive_avg_pool", kernel_shape=k, strides=k)
    return emit


def _upsample(g: Graph, layer, where: str, x: str, shape: tuple) -> str:
    nd = len(shape) - 2
    attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
             "nearest_mode": "floor"}
    if layer.scale_factor is not None:
        f = layer.scale_factor
        factors = list(f) if isinstance(f, tuple) else [f] * nd
        scales = g.const("scales", [1.0, 1.0, *factors], dtype="float32")
        return g.node("Resize", [x, "", scales], "upsample", **attrs)
    size = layer.size if isinstance(layer.size, (tuple, list)) else [layer.size] * nd
    lead = g.node("Slice", [g.node("Shape", [x], "shape"), g.ints("start", [0]),
                            g.ints("end", [2])], "lead")
    sizes = g.node("Concat", [lead, g.ints("size", [int(s) for s in size])], "sizes", axis=0)
    return g.node("Resize", [x, "", "", sizes], "upsample", **attrs)


def _identity(g: Graph, layer, where: str, x: str, shape: tuple) -> str:
    return g.node("Identity", [x], "identity")


IMAGE_EMITTERS = {
    "Conv1d": _conv, "Conv2d": _conv, "ConvTranspose2d": _conv_transpose,
    "MaxPool1d": _max_pool(1), "MaxPool2d": _max_pool(2),
    "AvgPool1d": _avg_pool(1), "AvgPool2d": _avg_pool(2),
    "AdaptiveAvgPool1d": _adaptive_avg_pool(1), "AdaptiveAvgPool2d": _adaptive_avg_pool(2),
    "Dropout2d": _identity, "Upsample": _upsample,
}
