"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional) and their one-step cells.

PyTorch's constructor arguments, parameter names (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
`bias_hh_l0`, `_reverse` for the backward direction), gate order, initialisation
(U(-1/sqrt(hidden), 1/sqrt(hidden)) for every weight and bias) and results (`(output, h_n)`,
LSTM `(output, (h_n, c_n))`), so a torch state dict loads both ways. Each layer and direction
is one fused node of `gradkit.ops.recurrent` (one GEMM for the input projection of the whole
sequence, one per step for the recurrence; backward through time as one gradient rule).

Variable-length batches: pad them (`pad_sequence`) and read each sequence's output at its own
last step; PyTorch's PackedSequence is not supported.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..backend.devices import to_device
from ..errors import DTypeError, ShapeError
from ..ops.neural import dropout as _dropout
from ..ops.recurrent import gru, lstm, rnn
from ..ops.shape import concatenate, expand_dims, squeeze, stack, swapaxes
from ..tensor import Tensor, as_tensor
from . import init
from .module import Module, Parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _weight(shape, device, dtype) -> Parameter:
    arr = np.zeros(shape, dtype=np.dtype(dtype or np.float32))
    return Parameter(Tensor._wrap(to_device(arr, device)))


def _layer_op(mode: str, x, state, params, reverse: bool):
    """One layer and direction: (output, h_n) or, for LSTM, (output, (h_n, c_n))."""
    w_ih, w_hh, b_ih, b_hh = (tuple(params) + (None, None))[:4]
    if mode == "LSTM":
        out, h, c = lstm(x, state[0], state[1], w_ih, w_hh, b_ih, b_hh, reverse)
        return out, (h, c)
    if mode == "GRU":
        return gru(x, state, w_ih, w_hh, b_ih, b_hh, reverse)
    return rnn(x, state, w_ih, w_hh, b_ih, b_hh, reverse, mode[4:].lower())


class RNNBase(Module):
    """The stack of layers and directions shared by RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device="cpu", dtype=None) -> None:
        super().__init__()
        name = "RNN" if mode.startswith("RNN") else mode
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size),
                           ("num_layers", num_layers)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} acts between layers, so with num_layers=1 "
                          "it does nothing", UserWarning, stacklevel=3)
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), batch_first
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        gh, h = _GATES[mode] * self.hidden_size, self.hidden_size
        dirs = 2 if bidirectional else 1
        for layer in range(self.num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                width = self.input_size if layer == 0 else h * dirs
                setattr(self, "weight_ih" + sfx, _weight((gh, width), device, dtype))
                setattr(self, "weight_hh" + sfx, _weight((gh, h), device, dtype))
                if bias:
                    setattr(self, "bias_ih" + sfx, _weight((gh,), device, dtype))
                    setattr(self, "bias_hh" + sfx, _weight((gh,), device, dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def all_weights(self) -> list:
        """The parameters of each layer and direction, in PyTorch's order."""
        return [list(self._params(layer, d)) for layer in range(self.num_layers)
                for d in range(self.num_directions)]

    def flatten_parameters(self) -> None:
        """Nothing to do (PyTorch's cuDNN weight packing); kept so PyTorch code runs."""

    def _params(self, layer: int, d: int) -> tuple:
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
        return tuple(getattr(self, n + sfx) for n in names)

    def _input(self, x) -> tuple[Tensor, bool]:
        """The input, time-major (T, N, I), and whether it had a batch axis."""
        x = as_tensor(x)
        if x.dtype.kind != "f":
            raise DTypeError(f"{self!r} got input of dtype {x.dtype}: it takes float "
                             "features; feed token ids through an Embedding first")
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size or 0 in x.shape[:-1]:
            want = "(N, T, {0})" if self.batch_first else "(T, N, {0})"
            raise ShapeError(f"{self!r} got input of shape {x.shape}: expected "
                             f"{want.format(self.input_size)} or unbatched "
                             f"(T, {self.input_size})")
        if x.ndim == 2:
            return expand_dims(x, 1), False
        return (swapaxes(x, 0, 1) if self.batch_first else x), True

    def _states(self, hx, n: int, batched: bool) -> list:
        """hx (num_layers * directions, N, H) split into one state per layer and direction."""
        if hx is None:
            return [None] * (self.num_layers * self.num_directions)
        hx = as_tensor(hx)
        want = (self.num_layers * self.num_directions, n, self.hidden_size)
        if hx.shape != (want if batched else want[:1] + want[2:]):
            raise ShapeError(f"{self!r}: initial state of shape {hx.shape}, expected "
                             f"{want if batched else want[:1] + want[2:]}")
        if not batched:
            hx = expand_dims(hx, 1)
        return [hx[k] for k in range(want[0])]

    def _run(self, x, states: list):
        """Every layer and direction; returns (output (T, N, D*H), final states per layer)."""
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                out, final = _layer_op(self.mode, x, states[k], self._params(layer, d), d == 1)
                outs.append(out)
                finals.append(final)
            x = outs[0] if len(outs) == 1 else concatenate(outs, axis=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        return x, finals

    def _output(self, out, batched: bool):
        if not batched:
            return squeeze(out, 1)
        return swapaxes(out, 0, 1) if self.batch_first else out

    def _stacked(self, finals: list, batched: bool):
        h = stack(finals, 0) if len(finals) > 1 else expand_dims(finals[0], 0)
        return h if batched else squeeze(h, 1)

    def forward(self, input, hx=None):
        x, batched = self._input(input)
        out, finals = self._run(x, self._states(hx, x.shape[1], batched))
        return self._output(out, batched), self._stacked(finals, batched)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(RNNBase):
    """Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu: `nonlinearity="relu"`).

    `forward(input, hx=None)` -> `(output, h_n)`: input (T, N, input_size) ((N, T, ...) with
    batch_first, or unbatched (T, input_size)), hx and h_n (num_layers * directions, N, H).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device="cpu",
                 dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device, dtype)


class LSTM(RNNBase):
    """Long short-term memory (PyTorch's gates i, f, g, o).

    `forward(input, hx=None)` -> `(output, (h_n, c_n))`; `hx` is `(h_0, c_0)`, each
    (num_layers * directions, N, hidden_size); output (T, N, directions * hidden_size).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device="cpu", dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device, dtype)

    def forward(self, input, hx=None):
        x, batched = self._input(input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{self!r}: hx must be a tuple (h_0, c_0), got "
                            f"{type(hx).__name__}")
        n = x.shape[1]
        hs = self._states(None if hx is None else hx[0], n, batched)
        cs = self._states(None if hx is None else hx[1], n, batched)
        out, finals = self._run(x, list(zip(hs, cs)))
        h_n = self._stacked([f[0] for f in finals], batched)
        c_n = self._stacked([f[1] for f in finals], batched)
        return self._output(out, batched), (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (PyTorch's gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h +
    b_hn)), h' = (1 - z) * n + z * h). `forward(input, hx=None)` -> `(output, h_n)`."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device="cpu", dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device, dtype)


def _unsqueezed(state):
    """An unbatched state (H,) (or a tuple of them, None kept) as (1, H)."""
    if isinstance(state, tuple):
        return tuple(_unsqueezed(s) for s in state)
    return None if state is None else expand_dims(state, 0)


class _Cell(Module):
    """One step of a recurrent layer: parameters weight_ih, weight_hh, bias_ih, bias_hh."""

    _mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device="cpu",
                 dtype=None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        gh = _GATES[self._mode] * self.hidden_size
        self.weight_ih = _weight((gh, self.input_size), device, dtype)
        self.weight_hh = _weight((gh, self.hidden_size), device, dtype)
        if bias:
            self.bias_ih = _weight((gh,), device, dtype)
            self.bias_hh = _weight((gh,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _step(self, x, state):
        """(batched, result of the one-step layer op) for input (N, I) or (I,)."""
        x = as_tensor(x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ShapeError(f"{self!r} got input of shape {x.shape}: expected "
                             f"(N, {self.input_size}) or ({self.input_size},)")
        batched = x.ndim == 2
        seq = expand_dims(x if batched else expand_dims(x, 0), 0)
        if not batched:
            state = _unsqueezed(state)
        params = (self.weight_ih, self.weight_hh) + (
            (self.bias_ih, self.bias_hh) if self.bias else ())
        return batched, _layer_op(self._mode, seq, state, params, False)[1]

    def forward(self, input, hx=None):
        batched, h = self._step(input, hx)
        return h if batched else squeeze(h, 0)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s + ("" if self.bias else ", bias=False")


class RNNCell(_Cell):
    """One Elman step: `RNNCell(input_size, hidden_size, bias=True, nonlinearity="tanh")`,
    `forward(input, hx=None)` -> h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device="cpu", dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self._mode = "RNN_" + nonlinearity.upper()
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)


class LSTMCell(_Cell):
    """One LSTM step: `forward(input, hx=None)` -> (h', c'); hx is (h, c) or None."""

    _mode = "LSTM"

    def forward(self, input, hx=None):
        state = (None, None) if hx is None else tuple(hx)
        batched, (h, c) = self._step(input, state)
        return (h, c) if batched else (squeeze(h, 0), squeeze(c, 0))


class GRUCell(_Cell):
    """One GRU step: `forward(input, hx=None)` -> h'."""

    _mode = "GRU"
