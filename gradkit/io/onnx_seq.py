"""ONNX emitters of the sequence layers: Embedding (Gather) and RNN / LSTM / GRU (ONNX's
RNN, LSTM and GRU ops, one per layer, both directions in one node), and `RNNOutput`, the
wrapper that lets a recurrent layer sit inside a Sequential.

PyTorch's (and gradkit's) gate blocks are reordered for ONNX: LSTM i, f, g, o -> i, o, f, c;
GRU r, z, n -> z, r, h with `linear_before_reset=1` (the reset gate multiplies
W_hn h + b_hn, as in PyTorch). Initial states are zeros (the model's forward takes x only).
"""

from __future__ import annotations

import numpy as np

from ..nn import GRU, LSTM, RNN, Module
from ..ops.shape import reshape, swapaxes
from .onnx_graph import Graph

__all__ = ["RNNOutput", "SEQ_EMITTERS", "rnn_outputs"]

_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}  # PyTorch's blocks in ONNX's gate order
_OUTPUTS = ("sequence", "last", "h_n")


class RNNOutput(Module):
    """One tensor out of a recurrent layer, so that it fits in a Sequential (and exports):

        nn.Sequential(nn.Embedding(1000, 32),
                      gk.onnx.RNNOutput(nn.LSTM(32, 64, batch_first=True), "last"),
                      nn.Linear(64, 2))

    `output`: "sequence" (the layer's output, every step), "last" (the output at the last
    time step, `output[:, -1]` batch-first), or "h_n" (the last layer's final hidden state,
    its directions concatenated: (N, directions * hidden_size)). The state starts at zero.
    """

    def __init__(self, rnn: Module, output: str = "last") -> None:
        super().__init__()
        if not isinstance(rnn, (RNN, LSTM, GRU)):
            raise TypeError(f"RNNOutput: expected an RNN, LSTM or GRU, got {type(rnn).__name__}")
        if output not in _OUTPUTS:
            raise ValueError(f"RNNOutput: output must be one of {_OUTPUTS}, got {output!r}")
        self.rnn, self.output = rnn, output

    def forward(self, x):
        out, state = self.rnn(x)
        if self.output == "sequence":
            return out
        batched = out.ndim == 3
        if self.output == "last":
            return out[:, -1] if batched and self.rnn.batch_first else out[-1]
        h = state[0] if isinstance(self.rnn, LSTM) else state
        d = self.rnn.num_directions
        last = h[-d:]  # (D, N, H), or (D, H) unbatched
        if not batched:
            return reshape(last, (-1,))
        return reshape(swapaxes(last, 0, 1), (last.shape[1], -1))

    def extra_repr(self) -> str:
        return f"output={self.output!r}"


def _embedding(g: Graph, layer, where: str, x: str, shape: tuple) -> str:
    return g.node("Gather", [g.weights("weight", layer.weight), x], "embedding", axis=0)


def _reordered(layer, p) -> np.ndarray:
    """A weight or bias of PyTorch's gate order in ONNX's (RNN: one gate, unchanged)."""
    a = p.numpy()
    order = _ORDER.get(layer.mode)
    return a if order is None else np.concatenate([np.split(a, len(order))[i] for i in order])


def _stacked(g: Graph, layer, arrays: list, hint: str) -> str:
    """Per-direction parameters, reordered and stacked as (D, ...)."""
    return g.const(hint, np.stack([_reordered(layer, a) for a in arrays]))


def _rnn_layer(g: Graph, layer, where: str, x: str, k: int) -> tuple[str, list[str]]:
    """Layer `k` on time-major x: (its output (T, N, D*H), [Y_h (D, N, H)[, Y_c]])."""
    dirs = range(layer.num_directions)
    params = [layer._params(k, d) for d in dirs]
    inputs = [x, _stacked(g, layer, [p[0] for p in params], "W"),
              _stacked(g, layer, [p[1] for p in params], "R")]
    if layer.bias:
        b = [np.concatenate([_reordered(layer, p[2]), _reordered(layer, p[3])]) for p in params]
        inputs.append(g.const("B", np.stack(b)))
    attrs: dict = {"hidden_size": layer.hidden_size,
                   "direction": "bidirectional" if layer.bidirectional else "forward"}
    op = "LSTM" if layer.mode == "LSTM" else "GRU" if layer.mode == "GRU" else "RNN"
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    if op == "RNN":
        attrs["activations"] = ["Relu" if layer.mode == "RNN_RELU" else "Tanh"] * len(dirs)
    outs = g.multi(op, inputs, f"{op.lower()}_l{k}", 3 if op == "LSTM" else 2, **attrs)
    y = g.node("Transpose", [outs[0]], "transpose", perm=[0, 2, 1, 3])  # (T, N, D, H)
    y = g.node("Reshape", [y, g.ints("shape", [0, 0, -1])], "reshape")
    return y, outs[1:]


def rnn_outputs(g: Graph, layer, where: str, x: str) -> tuple[str, str, str | None]:
    """The whole layer: (output in the layer's layout, h_n (L*D, N, H), c_n or None)."""
    if layer.batch_first:
        x = g.node("Transpose", [x], "time_major", perm=[1, 0, 2])
    hs, cs = [], []
    for k in range(layer.num_layers):
        x, states = _rnn_layer(g, layer, where, x, k)
        hs.append(states[0])
        if len(states) > 1:
            cs.append(states[1])
    if layer.batch_first:
        x = g.node("Transpose", [x], "batch_major", perm=[1, 0, 2])

    def joined(names: list[str], hint: str) -> str:
        return names[0] if len(names) == 1 else g.node("Concat", names, hint, axis=0)

    return x, joined(hs, "h_n"), joined(cs, "c_n") if cs else None


def _rnn_output(g: Graph, wrapper, where: str, x: str, shape: tuple) -> str:
    layer = wrapper.rnn
    out, h_n, _ = rnn_outputs(g, layer, f"{where}.rnn", x)
    if wrapper.output == "sequence":
        return out
    if wrapper.output == "last":
        return g.node("Gather", [out, g.ints("last", -1)], "last",
                      axis=1 if layer.batch_first else 0)
    d = layer.num_directions
    n = g.ints("from", [-d])
    last = g.node("Slice", [h_n, n, g.ints("to", [np.iinfo(np.int64).max])], "last_layer")
    last = g.node("Transpose", [last], "transpose", perm=[1, 0, 2])
    return g.node("Reshape", [last, g.ints("shape", [0, -1])], "h_n")


SEQ_EMITTERS = {"Embedding": _embedding, "RNNOutput": _rnn_output}
RECURRENT = ("RNN", "LSTM", "GRU")
