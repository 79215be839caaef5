"""Attention layers: MultiheadAttention, TransformerEncoderLayer, TransformerEncoder, and the
sinusoidal positional encoding.

PyTorch's arguments, defaults, parameter and submodule names (`in_proj_weight`,
`in_proj_bias`, `out_proj`; `self_attn`, `linear1`, `dropout`, `linear2`, `norm1`, `norm2`,
`dropout1`, `dropout2`; `layers.0...`), so a torch state dict loads both ways. Layout is
(L, N, E) unless `batch_first=True` ((N, L, E)); unbatched (L, E) input works too.

Masks follow nn.MultiheadAttention: a bool `attn_mask` (L, S) or (N * num_heads, L, S) is
True where attention is NOT allowed, a float one is added to the scores; `key_padding_mask`
(N, S) is True at padded keys (ignored). Variable-length batches: pad every sequence to one
length and pass key_padding_mask = (position >= length).
"""

from __future__ import annotations

import copy
import math

import numpy as np

from ..backend.devices import to_device
from ..errors import ShapeError
from ..ops.attention import additive_mask, attention, causal_mask
from ..ops.elementwise import gelu, relu
from ..ops.linalg import matmul
from ..ops.neural import dropout as _dropout
from ..ops.neural import linear, softmax
from ..ops.reduce import mean
from ..ops.shape import expand_dims, reshape, squeeze, swapaxes, transpose
from ..tensor import Tensor, as_tensor
from . import init
from .layers import Dropout, LayerNorm, Linear
from .module import Module, Parameter

__all__ = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
           "sinusoidal_positional_encoding"]


def sinusoidal_positional_encoding(length: int, d_model: int, base: float = 10000.0,
                                   dtype=np.float32, device="cpu") -> Tensor:
    """The fixed positional encoding of "Attention Is All You Need", a (length, d_model)
    constant tensor:

        PE[pos, 2i]     = sin(pos / base ** (2i / d_model))
        PE[pos, 2i + 1] = cos(pos / base ** (2i / d_model))

    Add it to the (scaled) token embeddings, time-major `x + pe[:T, None]` or batch-first
    `x + pe[:T]`; it needs no training and extends to any length. An odd d_model keeps the
    sine of the last pair.
    """
    if length < 0 or d_model <= 0:
        raise ValueError(f"sinusoidal_positional_encoding: length must be >= 0 and d_model "
                         f"> 0, got {length} and {d_model}")
    pos = np.arange(length, dtype=np.float64)[:, None]
    freq = np.exp(-math.log(base) * np.arange(0, d_model, 2, dtype=np.float64) / d_model)
    pe = np.zeros((length, d_model), dtype=np.float64)
    pe[:, 0::2] = np.sin(pos * freq)
    pe[:, 1::2] = np.cos(pos * freq)[:, : d_model // 2]
    return Tensor._wrap(to_device(pe.astype(dtype), device))


def _heads(x: Tensor, heads: int) -> Tensor:
    """(N, L, E) -> (N, heads, L, E / heads)."""
    n, length, e = x.shape
    return transpose(reshape(x, (n, length, heads, e // heads)), 0, 2, 1, 3)


class MultiheadAttention(Module):
    """Multi-head attention (torch.nn.MultiheadAttention, without add_bias_kv / kdim / vdim).

    `forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)` -> `(output, weights)`: weights (N, L, S)
    averaged over heads (N, num_heads, L, S with average_attn_weights=False), or None when
    need_weights=False, which also takes the fused attention node (faster; a query whose
    keys are all masked then gives zeros instead of NaN). `is_causal=True` without a mask
    builds the causal mask.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0,
                 bias: bool = True, batch_first: bool = False, device="cpu",
                 dtype=None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible "
                             f"by num_heads ({num_heads})")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout, self.batch_first = float(dropout), batch_first
        e, dt = self.embed_dim, np.dtype(dtype or np.float32)
        self.in_proj_weight = Parameter(Tensor._wrap(to_device(np.zeros((3 * e, e), dt), device)))
        if bias:
            self.in_proj_bias = Parameter(Tensor._wrap(to_device(np.zeros(3 * e, dt), device)))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(e, e, bias=bias, device=device, dtype=dtype)
        self.reset_parameters()

    @property
    def _name(self) -> str:
        """The one-line name errors give, e.g. MultiheadAttention(embed_dim=16, ...)."""
        return f"{type(self).__name__}({self.extra_repr()})"

    def reset_parameters(self) -> None:
        """xavier_uniform in_proj_weight, zero biases (PyTorch's _reset_parameters)."""
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _project(self, x: Tensor, k: int) -> Tensor:
        e = self.embed_dim
        w = self.in_proj_weight[k * e:(k + 1) * e]
        b = None if self.in_proj_bias is None else self.in_proj_bias[k * e:(k + 1) * e]
        return _heads(linear(x, w, b), self.num_heads)

    def _batch_major(self, x, name: str) -> tuple[Tensor, bool]:
        x = as_tensor(x)
        if x.ndim not in (2, 3) or x.shape[-1] != self.embed_dim:
            raise ShapeError(f"{self._name} got {name} of shape {x.shape}: expected (L, N, "
                             f"{self.embed_dim}){' (batch_first: (N, L, E))' * self.batch_first}"
                             f" or unbatched (L, {self.embed_dim})")
        if x.ndim == 2:
            return expand_dims(x, 0), False
        return (x if self.batch_first else swapaxes(x, 0, 1)), True

    def _mask(self, attn_mask, key_padding_mask, n: int, length: int, src: int, xp, dtype):
        """One additive mask broadcastable to (N, heads, L, S), or None."""
        m = additive_mask(attn_mask, dtype, xp, False, "MultiheadAttention")
        if isinstance(m, Tensor):
            m = m._data
        if m is not None:
            if m.shape == (n * self.num_heads, length, src):
                m = m.reshape(n, self.num_heads, length, src)
            elif m.shape != (length, src):
                raise ShapeError(f"{self._name}: attn_mask of shape {m.shape}, expected "
                                 f"({length}, {src}) or ({n * self.num_heads}, {length}, {src})")
        kp = additive_mask(key_padding_mask, dtype, xp, False, "MultiheadAttention")
        if isinstance(kp, Tensor):
            kp = kp._data
        if kp is not None:
            if kp.shape != (n, src):
                raise ShapeError(f"{self._name}: key_padding_mask of shape {kp.shape}, expected "
                                 f"({n}, {src})")
            kp = kp.reshape(n, 1, 1, src)
            m = kp if m is None else m + kp
        return m

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        q_in, batched = self._batch_major(query, "query")
        k_in = q_in if key is query else self._batch_major(key, "key")[0]
        v_in = k_in if value is key else self._batch_major(value, "value")[0]
        n, length, src = q_in.shape[0], q_in.shape[1], k_in.shape[1]
        if k_in.shape[0] != n or v_in.shape[:2] != k_in.shape[:2]:
            raise ShapeError(f"{self._name}: query {q_in.shape}, key {k_in.shape} and value "
                             f"{v_in.shape} (batch-major) do not fit")
        xp = q_in._xp
        if is_causal and attn_mask is None:
            attn_mask = ~causal_mask(xp, length, src)
        if key_padding_mask is not None and not batched:
            key_padding_mask = as_tensor(key_padding_mask)._data.reshape(1, -1)
        mask = self._mask(attn_mask, key_padding_mask, n, length, src, xp, q_in.dtype)
        q, k, v = self._project(q_in, 0), self._project(k_in, 1), self._project(v_in, 2)
        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:  # the composed graph, so the weights are differentiable
            scores = matmul(q, swapaxes(k, -1, -2)) * (1.0 / math.sqrt(self.head_dim))
            weights = softmax(scores if mask is None else scores + Tensor._wrap(mask), -1)
            weights = _dropout(weights, p, p > 0)
            out = matmul(weights, v)
            if average_attn_weights:
                weights = mean(weights, axis=1)
        else:
            out = attention(q, k, v, mask, p)
        out = reshape(transpose(out, 0, 2, 1, 3), (n, length, self.embed_dim))
        out = self.out_proj(out)
        if not batched:
            return squeeze(out, 0), (None if weights is None else squeeze(weights, 0))
        return (out if self.batch_first else swapaxes(out, 0, 1)), weights

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"


_ACTIVATIONS = {"relu": relu, "gelu": gelu}


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and
    LayerNorm: post-norm by default (`x = norm1(x + sa(x)); x = norm2(x + ff(x))`),
    pre-norm with `norm_first=True` (`x = x + sa(norm1(x)); x = x + ff(norm2(x))`).

    `activation` is "relu", "gelu" or a callable. `forward(src, src_mask=None,
    src_key_padding_mask=None, is_causal=False)`; masks as in MultiheadAttention.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device="cpu", dtype=None) -> None:
        super().__init__()
        if isinstance(activation, str) and activation not in _ACTIVATIONS:
            raise ValueError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or "
                             f"a callable, got {activation!r}")
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout, bias, batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)
        self.activation = activation

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal: bool):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        act = self.activation
        if act == "relu":  # Linear + ReLU as one node
            h = linear(x, self.linear1.weight, self.linear1.bias, activation="relu")
        else:
            h = (_ACTIVATIONS[act] if isinstance(act, str) else act)(self.linear1(x))
        return self.dropout2(self.linear2(self.dropout(h)))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        x = as_tensor(src)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class _Layers(Module):
    """The numbered layers of a TransformerEncoder (names "0", "1", ...), indexable."""

    def __init__(self, layers) -> None:
        super().__init__()
        for i, m in enumerate(layers):
            self.add_module(str(i), m)

    def __getitem__(self, i: int) -> Module:
        layer = list(self._modules.values())[i]
        assert layer is not None
        return layer

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, *args, **kwargs):
        raise TypeError("TransformerEncoder.layers is a list of layers; call the encoder")


class TransformerEncoder(Module):
    """`num_layers` copies of `encoder_layer` (deep copies, as PyTorch: each has its own
    weights), then `norm` if given. `forward(src, mask=None, src_key_padding_mask=None,
    is_causal=None)`."""

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module, got "
                            f"{type(encoder_layer).__name__}")
        self.layers = _Layers(copy.deepcopy(encoder_layer) for _ in range(int(num_layers)))
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return x if self.norm is None else self.norm(x)
