"""Sequence layers: RNN, LSTM, GRU and their cells, MultiheadAttention,
TransformerEncoderLayer and TransformerEncoder: gradkit's layers (PyTorch's parameter names,
gate orders, initialisation and results) under dialect classes with PyTorch's signatures."""

from __future__ import annotations

from typing import Any

from ... import nn as _gknn
from ...nn.attention import _Layers
from . import functional as F
from ._args import device_of, dtype_of
from .containers import ModuleList
from .layers import Linear
from .module import COUNTERPARTS, Module

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
           "TransformerEncoderLayer", "TransformerEncoder", "NonDynamicallyQuantizableLinear"]


class RNN(_gknn.RNN, Module):
    """Elman RNN, tanh or relu; `forward(input, hx=None)` -> `(output, h_n)`."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, nonlinearity, bias, batch_first,
                         dropout, bidirectional, device_of(device), dtype_of(dtype))

    def extra_repr(self) -> str:  # PyTorch does not print the nonlinearity
        return super().extra_repr().replace(", nonlinearity='relu'", "")


class LSTM(_gknn.LSTM, Module):
    """Long short-term memory; `forward(input, hx=None)` -> `(output, (h_n, c_n))`."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        if proj_size:
            raise NotImplementedError("LSTM: proj_size is not supported by gradkit")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device_of(device), dtype_of(dtype))
        self.proj_size = 0


class GRU(_gknn.GRU, Module):
    """Gated recurrent unit; `forward(input, hx=None)` -> `(output, h_n)`."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device_of(device), dtype_of(dtype))


class RNNCell(_gknn.RNNCell, Module):
    """One Elman step: `forward(input, hx=None)` -> h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, nonlinearity, device_of(device),
                         dtype_of(dtype))

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")


class LSTMCell(_gknn.LSTMCell, Module):
    """One LSTM step: `forward(input, hx=None)` -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, device_of(device), dtype_of(dtype))


class GRUCell(_gknn.GRUCell, Module):
    """One GRU step: `forward(input, hx=None)` -> h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, device_of(device), dtype_of(dtype))


class NonDynamicallyQuantizableLinear(Linear):
    """The class PyTorch gives MultiheadAttention's `out_proj` (a Linear)."""


class MultiheadAttention(_gknn.MultiheadAttention, Module):
    """Multi-head attention; `forward(query, key, value, ...)` -> `(output, weights)`."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        if add_bias_kv or add_zero_attn or kdim not in (None, embed_dim) \
                or vdim not in (None, embed_dim):
            raise NotImplementedError("MultiheadAttention: add_bias_kv, add_zero_attn and "
                                      "kdim/vdim other than embed_dim are not supported by "
                                      "gradkit")
        super().__init__(embed_dim, num_heads, dropout, bias, batch_first, device_of(device),
                         dtype_of(dtype))
        self._adopted()

    def _adopted(self) -> None:
        object.__setattr__(self.out_proj, "__class__", NonDynamicallyQuantizableLinear)
        object.__setattr__(self, "kdim", self.embed_dim)
        object.__setattr__(self, "vdim", self.embed_dim)

    @property
    def _name(self) -> str:
        return (f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout})")

    def extra_repr(self) -> str:
        return ""


_FUSED_ACTIVATIONS = {F.relu: "relu", F.gelu: "gelu"}


class TransformerEncoderLayer(_gknn.TransformerEncoderLayer, Module):
    """Self-attention and a feed-forward block, each with a residual connection and
    LayerNorm (post-norm, or pre-norm with `norm_first=True`)."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Any = F.relu, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        activation = _FUSED_ACTIVATIONS.get(activation, activation)
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, device_of(device), dtype_of(dtype))


class TransformerEncoder(_gknn.TransformerEncoder, Module):
    """`num_layers` copies of `encoder_layer` (each with its own weights), then `norm`."""


COUNTERPARTS.update({
    _gknn.RNN: RNN, _gknn.LSTM: LSTM, _gknn.GRU: GRU, _gknn.RNNCell: RNNCell,
    _gknn.LSTMCell: LSTMCell, _gknn.GRUCell: GRUCell,
    _gknn.MultiheadAttention: MultiheadAttention,
    _gknn.TransformerEncoderLayer: TransformerEncoderLayer,
    _gknn.TransformerEncoder: TransformerEncoder, _Layers: ModuleList,
})
