"""The graph being built by `gradkit.onnx.export`: nodes and initializers with unique names,
and the error every unsupported layer or option raises (shared by the emitters of
`onnx.py`, `onnx_image.py` and `onnx_seq.py`)."""

from __future__ import annotations

import numpy as np

__all__ = ["ExportError", "Graph"]


class ExportError(ValueError):
    """A model (or layer, or option) that ONNX export does not support."""


class Graph:
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
        """An initializer holding `value` (in the graph's float dtype unless `dtype`)."""
        name = self.name(hint)
        arr = np.asarray(value, dtype=dtype or self.dtype)
        self.inits.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def ints(self, hint: str, value) -> str:
        """An int64 initializer (shapes, pads, indices)."""
        return self.const(hint, value, dtype=np.int64)

    def node(self, op: str, inputs: list[str], hint: str, **attrs) -> str:
        """One node with one output; returns the output's name."""
        out = self.name(hint)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def multi(self, op: str, inputs: list[str], hint: str, n_out: int, **attrs) -> list[str]:
        """One node with `n_out` outputs; returns their names."""
        base = self.name(hint)
        outs = [f"{base}_out{i}" for i in range(n_out)]
        self.nodes.append(self.onnx.helper.make_node(op, inputs, outs, name=base, **attrs))
        return outs

    def weights(self, hint: str, tensor) -> str:
        """A layer's parameter (a Tensor) as an initializer in the graph's dtype."""
        return self.const(hint, tensor.numpy().astype(self.dtype))
