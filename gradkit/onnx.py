"""`gradkit.onnx.export(model, example_input, path, opset=17)`: ONNX files that onnxruntime
runs with gradkit's outputs (needs `pip install 'gradkit[onnx]'`; see gradkit/io/onnx.py)."""

from .io.onnx import DEFAULT_OPSET, SUPPORTED_LAYERS, ExportError, export

__all__ = ["export", "ExportError", "SUPPORTED_LAYERS", "DEFAULT_OPSET"]
