"""`Embedding`, `SimpleRNN`, `LSTM`, `GRU` and `Bidirectional` with Keras's weights
(`kernel` (input_dim, gates * units), `recurrent_kernel` (units, gates * units), `bias`;
GRU's `bias` (2, 3 * units), `reset_after=True`), Keras's initialisers (glorot_uniform,
orthogonal, LSTM's forget bias 1) and batch-major (N, T, F) inputs, run by gradkit's fused
recurrent ops (one node per layer). Keras's GRU gates (z, r, h) are reordered to the ops'
(r, z, n) in each call: same equations, same numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import ops
from ...ops.creation import ones_like
from ...ops.recurrent import gru, lstm, rnn
from ...ops.sequence import embedding
from .. import initializers, regularizers
from ..engine import Layer

__all__ = ["Embedding", "SimpleRNN", "LSTM", "GRU", "Bidirectional"]


class Embedding(Layer):
    """Integer ids (N, ...) -> vectors (N, ..., output_dim); weight `embeddings`
    (input_dim, output_dim) from U(-0.05, 0.05) as Keras."""

    _initial: Any

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None,
                 mask_zero: bool = False, weights: Any = None, input_length: int | None = None,
                 **kwargs: Any) -> None:
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)  # Keras 2
        super().__init__(**kwargs)
        if mask_zero:
            raise NotImplementedError(
                "Embedding(mask_zero=True): gradkit's recurrent layers take no masks, so "
                "padding would be read as data; pad all sequences to one length (e.g. "
                "keras.utils.pad_sequences) and drop mask_zero, or use gradkit.nn.LSTM with "
                "gradkit.nn.utils.rnn packing")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.__dict__["_initial"] = weights

    def build(self, input_shape: Any = None) -> None:
        self.embeddings = self.add_weight((self.input_dim, self.output_dim),
                                          self.embeddings_initializer, name="embeddings",
                                          regularizer=self.embeddings_regularizer)
        if self._initial is not None:
            self.set_weights(list(self._initial))

    def call(self, inputs: Any) -> Any:
        ids = inputs if inputs.dtype.kind in "iu" else ops.astype(inputs, np.int64)
        return embedding(ids, self.embeddings, None, self.name)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        return (*args[0].shape, self.output_dim), np.dtype(self.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer)}


class _RNN(Layer):
    _GATES = 1
    _aligned: bool

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, seed: int | None = None, **kwargs: Any) -> None:
        for key in ("recurrent_activation", "unit_forget_bias", "reset_after", "use_cudnn",
                    "time_major"):
            self.__dict__[f"_opt_{key}"] = kwargs.pop(key, None)
        super().__init__(**kwargs)
        name = type(self).__name__
        if recurrent_dropout or stateful:
            raise NotImplementedError(f"{name}: recurrent_dropout and stateful are not in "
                                      "gradkit's Keras (its recurrent layers are fused ops); "
                                      "use dropout= on the inputs or a Dropout layer")
        self.units, self.use_bias, self.dropout = int(units), use_bias, float(dropout)
        self.activation = activation if isinstance(activation, str) else getattr(
            activation, "__name__", activation)
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards = go_backwards
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.__dict__["_aligned"] = False  # Bidirectional's backward half: time-ordered output

    def _bias_values(self, shape: tuple) -> Any:
        return self.bias_initializer

    def build(self, input_shape: Any) -> None:
        dim, g, h = input_shape[-1], self._GATES, self.units
        if dim is None:
            raise ValueError(f"{self.name}: the feature axis must be known, got {input_shape}")
        self.kernel = self.add_weight((dim, g * h), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight((h, g * h), self.recurrent_initializer,
                                                name="recurrent_kernel",
                                                regularizer=self.recurrent_regularizer)
        shape = (2, g * h) if self._two_biases() else (g * h,)
        self.bias = self.add_weight(shape, self._bias_values(shape), name="bias",
                                    regularizer=self.bias_regularizer) if self.use_bias else None

    def _two_biases(self) -> bool:
        return False

    def _weights(self) -> tuple[Any, Any, Any, Any]:
        """(w_ih, w_hh, b_ih, b_hh) in the fused op's layout."""
        return self.kernel.T, self.recurrent_kernel.T, self.bias, None

    def _run(self, x: Any, state: list, weights: tuple[Any, Any, Any, Any],
             reverse: bool) -> tuple:
        raise NotImplementedError

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None,
             training: bool | None = None) -> Any:
        if mask is not None:
            raise NotImplementedError(f"{self.name}: masks are not in gradkit's Keras")
        x = sequences
        if self.dropout and training:
            keep = ops.dropout(ones_like(x[:, :1]), self.dropout, True)
            x = x * keep
        state = list(initial_state) if isinstance(initial_state, (list, tuple)) else (
            [] if initial_state is None else [initial_state])
        reverse = self.go_backwards or self._aligned
        out, final = self._run(ops.transpose(x, (1, 0, 2)), state, self._weights(), reverse)
        out = ops.transpose(out, (1, 0, 2))
        if self.go_backwards and not self._aligned:
            out = ops.flip(out, 1)  # Keras: the sequence comes back reversed
        result = out if self.return_sequences else final[0]
        return [result, *final] if self.return_state else result

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        shape = args[0].shape
        out = (shape[0], shape[1], self.units) if self.return_sequences else (
            shape[0], self.units)
        dtype = np.dtype(self.dtype)
        if not self.return_state:
            return out, dtype
        return [(out, dtype)] + [((shape[0], self.units), dtype)] * (
            2 if self._GATES == 4 else 1)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias, "dropout": self.dropout,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer)}


def _state(state: list, i: int) -> Any:
    return state[i] if len(state) > i else None


class SimpleRNN(_RNN):
    """h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias) (tanh or relu)."""

    def __init__(self, units: int, activation: Any = "tanh", **kwargs: Any) -> None:
        super().__init__(units, activation=activation, **kwargs)
        if self.activation not in ("tanh", "relu"):
            raise NotImplementedError(f"SimpleRNN: activation must be 'tanh' or 'relu' in "
                                      f"gradkit's Keras, got {self.activation!r}")

    def _run(self, x: Any, state: list, weights: tuple[Any, Any, Any, Any],
             reverse: bool) -> tuple:
        out, h = rnn(x, _state(state, 0), *weights, reverse, self.activation)
        return out, [h]


class LSTM(_RNN):
    """Keras's LSTM (gates i, f, c, o; the forget bias starts at 1 with unit_forget_bias)."""

    _GATES = 4

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", unit_forget_bias: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation, self.unit_forget_bias = recurrent_activation, unit_forget_bias
        _check_acts(self, "sigmoid")

    def _bias_values(self, shape: tuple) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        h, init = self.units, self.bias_initializer

        def forget_ones(shape: Any, dtype: Any = None) -> np.ndarray:
            b = np.asarray(init((4 * h,), dtype=dtype))
            b[h:2 * h] = 1.0
            return b

        return forget_ones

    def _run(self, x: Any, state: list, weights: tuple[Any, Any, Any, Any],
             reverse: bool) -> tuple:
        out, h, c = lstm(x, _state(state, 0), _state(state, 1), *weights, reverse)
        return out, [h, c]


class GRU(_RNN):
    """Keras 3's GRU (reset_after=True; gates z, r, h; bias (2, 3 * units))."""

    _GATES = 3

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", reset_after: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(units, activation=activation, **kwargs)
        if not reset_after:
            raise NotImplementedError("GRU(reset_after=False) (Keras 1's variant) is not in "
                                      "gradkit's Keras; the default reset_after=True is")
        self.recurrent_activation, self.reset_after = recurrent_activation, reset_after
        _check_acts(self, "sigmoid")

    def _two_biases(self) -> bool:
        return True

    def _weights(self) -> tuple[Any, Any, Any, Any]:
        h = self.units

        def torch_order(w: Any, axis: int) -> Any:  # (z, r, h) -> (r, z, n)
            z, r, n = ops.split(w, [h, 2 * h], axis=axis)
            return ops.concatenate([r, z, n], axis=axis)

        w_ih, w_hh = torch_order(self.kernel, 1).T, torch_order(self.recurrent_kernel, 1).T
        if self.bias is None:
            return w_ih, w_hh, None, None
        b = torch_order(self.bias, 1)
        return w_ih, w_hh, b[0], b[1]

    def _run(self, x: Any, state: list, weights: tuple[Any, Any, Any, Any],
             reverse: bool) -> tuple:
        out, h = gru(x, _state(state, 0), *weights, reverse)
        return out, [h]


def _check_acts(layer: _RNN, recurrent: str) -> None:
    act = getattr(layer, "recurrent_activation", recurrent)
    act = act if isinstance(act, str) else getattr(act, "__name__", act)
    if layer.activation != "tanh" or act != recurrent:
        raise NotImplementedError(f"{type(layer).__name__}: gradkit's fused op needs "
                                  f"activation='tanh' and recurrent_activation='{recurrent}' "
                                  f"(Keras's defaults), got {layer.activation!r} and {act!r}")


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy backwards; merges with `merge_mode`
    ("concat", "sum", "mul", "ave" or None for a list)."""

    def __init__(self, layer: Any, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if merge_mode not in ("concat", "sum", "mul", "ave", None):
            raise ValueError(f"Bidirectional: unknown merge_mode {merge_mode!r}")
        config = layer.get_config()
        config["name"] = "backward_" + layer.name
        backward = backward_layer or type(layer)(**config)
        backward.__dict__["_aligned"] = True
        layer.__dict__["name"] = "forward_" + layer.name
        self.forward_layer, self.backward_layer, self.merge_mode = layer, backward, merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state

    def call(self, inputs: Any, initial_state: Any = None, training: bool | None = None) -> Any:
        fw = self.forward_layer(inputs, training=training)
        bw = self.backward_layer(inputs, training=training)
        states: list = []
        if self.return_state:
            fw, states = fw[0], fw[1:] + bw[1:]
            bw = bw[0]
        if self.merge_mode is None:
            out: Any = [fw, bw]
        elif self.merge_mode == "concat":
            out = ops.concatenate([fw, bw], axis=-1)
        elif self.merge_mode == "sum":
            out = fw + bw
        elif self.merge_mode == "mul":
            out = fw * bw
        else:
            out = (fw + bw) * 0.5
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def get_config(self) -> dict:
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": {"class_name": type(self.forward_layer).__name__,
                          "config": self.forward_layer.get_config()}}
