"""`torch.nn.functional` (`import torch.nn.functional as F`): PyTorch's names, argument
orders and defaults (`dim=`, `training=True` for `dropout`, `one_hot` giving int64) over
gradkit's ops; every result is a `torch.Tensor`. The losses live in `_functional_loss.py`.

`inplace=True` is accepted and computes out of place (the same numbers; the input is not
overwritten).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...nn import functional as _gkF
from ...ops import elementwise as _ew
from ...ops import neural as _neural
from ...ops import reduce as _red
from ...ops import shape as _shape
from ...tensor import Tensor as _Native
from ...tensor import as_tensor
from ..tensor import retagging
from ._args import dtype_of
from ._functional_loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)

__all__ = [
    "relu", "relu6", "silu", "hardtanh", "tanh", "sigmoid", "gelu", "leaky_relu", "elu",
    "softplus", "softmax", "log_softmax", "dropout", "dropout2d", "linear", "conv1d",
    "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "batch_norm", "layer_norm", "embedding",
    "one_hot", "pad", "normalize", "cosine_similarity", "interpolate",
    "scaled_dot_product_attention", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
    "huber_loss", "smooth_l1_loss", "kl_div", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "softmax_dim",
]


# ---- activations ---------------------------------------------------------------------------
@retagging
def relu(input: Any, inplace: bool = False) -> Any:
    """max(x, 0)."""
    return _ew.relu(input)


@retagging
def relu6(input: Any, inplace: bool = False) -> Any:
    """min(max(x, 0), 6)."""
    return _ew.clip(input, 0.0, 6.0)


@retagging
def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Any:
    """x clamped into [min_val, max_val]."""
    return _ew.clip(input, min_val, max_val)


@retagging
def silu(input: Any, inplace: bool = False) -> Any:
    """x * sigmoid(x) (swish)."""
    x = as_tensor(input)
    return x * _ew.sigmoid(x)


@retagging
def tanh(input: Any) -> Any:
    """tanh(x)."""
    return _ew.tanh(input)


@retagging
def sigmoid(input: Any) -> Any:
    """1 / (1 + exp(-x))."""
    return _ew.sigmoid(input)


@retagging
def gelu(input: Any, approximate: str = "none") -> Any:
    """x * Phi(x); `approximate="tanh"` uses PyTorch's tanh formula."""
    if approximate == "none":
        return _ew.gelu(input)
    if approximate != "tanh":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = as_tensor(input)
    inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
    return x * 0.5 * (_ew.tanh(inner) + 1.0)


@retagging
def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:
    """x where x > 0, else negative_slope * x."""
    return _ew.leaky_relu(input, negative_slope)


@retagging
def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    """x where x > 0, else alpha * (exp(x) - 1)."""
    return _ew.elu(input, alpha)


@retagging
def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """log(1 + exp(beta * x)) / beta, computed stably (`threshold` changes nothing visible:
    above it the result is x to float32 precision)."""
    if beta == 1:
        return _ew.softplus(input)
    return _ew.softplus(as_tensor(input) * beta) / beta


def softmax_dim(ndim: int, name: str, stacklevel: int = 4) -> int:
    """The axis PyTorch's softmax picks when `dim` is not given (0 for 0-, 1- and 3-D input,
    else 1), with its deprecation warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(input: Any, dim: int | None, dtype: Any, name: str) -> tuple[_Native, int]:
    x = as_tensor(input)
    if dtype is not None:
        x = x.astype(np.dtype(dtype_of(dtype)))
    return x, (softmax_dim(x.ndim, name, 5) if dim is None else int(dim))


@retagging
def softmax(input: Any, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Any:
    """exp(x) / sum(exp(x)) along `dim`."""
    x, d = _softmax_input(input, dim, dtype, "softmax")
    return _neural.softmax(x, d)


@retagging
def log_softmax(input: Any, dim: int | None = None, _stacklevel: int = 3,
                dtype: Any = None) -> Any:
    """x - logsumexp(x) along `dim`."""
    x, d = _softmax_input(input, dim, dtype, "log_softmax")
    return _neural.log_softmax(x, d)


@retagging
def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero each element with probability p, scale the rest by 1/(1-p) (when `training`,
    which is True by default here, as in PyTorch)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return _neural.dropout(input, p, training)


@retagging
def dropout2d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero whole channels with probability p (when `training`)."""
    return _gkF.dropout2d(input, p, training)


# ---- layers as functions -------------------------------------------------------------------
@retagging
def linear(input: Any, weight: Any, bias: Any = None) -> Any:
    """input @ weight.T + bias, weight (out_features, in_features)."""
    return _neural.linear(input, weight, bias)


@retagging
def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Any:
    """1-D convolution of (N, C, L) input with weight (O, C/groups, k)."""
    return _gkF.conv1d(input, weight, bias, stride, padding, dilation, groups)


@retagging
def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Any:
    """2-D convolution of (N, C, H, W) input with weight (O, C/groups, kh, kw)."""
    return _gkF.conv2d(input, weight, bias, stride, padding, dilation, groups)


@retagging
def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Any:
    """Transposed 2-D convolution, weight (C_in, C_out/groups, kh, kw)."""
    return _gkF.conv_transpose2d(input, weight, bias, stride, padding, output_padding,
                                 groups, dilation)


def _no_indices(return_indices: bool, name: str) -> None:
    if return_indices:
        raise NotImplementedError(f"{name}: return_indices=True is not supported by gradkit")


@retagging
def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over length-k windows of (N, C, L) input (stride defaults to the kernel)."""
    _no_indices(return_indices, "max_pool1d")
    return _gkF.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)


@retagging
def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over (kh, kw) windows of (N, C, H, W) input (stride defaults to the kernel)."""
    _no_indices(return_indices, "max_pool2d")
    return _gkF.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


@retagging
def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Any:
    """Mean over length-k windows of (N, C, L) input."""
    return _gkF.avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)


@retagging
def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Any:
    """Mean over (kh, kw) windows of (N, C, H, W) input."""
    return _gkF.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                           divisor_override)


@retagging
def adaptive_avg_pool1d(input: Any, output_size: Any) -> Any:
    """Average pooling of (N, C, L) input to length `output_size`."""
    return _gkF.adaptive_avg_pool1d(input, output_size)


@retagging
def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
    """Average pooling of (N, C, H, W) input to `output_size`."""
    return _gkF.adaptive_avg_pool2d(input, output_size)


@retagging
def batch_norm(input: Any, running_mean: Any, running_var: Any, weight: Any = None,
               bias: Any = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Any:
    """Batch normalisation over every axis but the channels (axis 1)."""
    x = as_tensor(input)
    flat = _shape.reshape(x, x.shape[:2] + (-1,)) if x.ndim > 3 else x
    out = _gkF.batch_norm(flat, running_mean, running_var, weight, bias, training, momentum,
                          eps)
    return _shape.reshape(out, x.shape) if x.ndim > 3 else out


@retagging
def layer_norm(input: Any, normalized_shape: Sequence[int] | int, weight: Any = None,
               bias: Any = None, eps: float = 1e-5) -> Any:
    """Normalise over the last axes `normalized_shape`, then scale and shift."""
    return _gkF.layer_norm(input, normalized_shape, weight, bias, eps)


@retagging
def embedding(input: Any, weight: Any, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Any:
    """Rows of `weight` picked by the integer ids `input` (any shape)."""
    if max_norm is not None or scale_grad_by_freq:
        raise NotImplementedError("embedding: max_norm and scale_grad_by_freq are not "
                                  "supported by gradkit")
    return _gkF.embedding(input, weight, padding_idx)


@retagging
def interpolate(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Any:
    """Resize (N, C, ...) input; mode "nearest" only."""
    return _gkF.interpolate(input, size, scale_factor, mode, align_corners)


@retagging
def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False) -> Any:
    """softmax(Q K^T * scale + mask) V."""
    return _gkF.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p,
                                             is_causal, scale)


# ---- tensor utilities ------------------------------------------------------------------------
@retagging
def one_hot(tensor: Any, num_classes: int = -1) -> Any:
    """int64 one-hot rows (a new last axis); `num_classes=-1` takes max + 1."""
    labels = as_tensor(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensor (int64), got "
                        f"{labels.dtype}")
    if num_classes == -1:
        num_classes = int(labels._data.max()) + 1 if labels._data.size else 0
    return _neural.one_hot(labels, num_classes).astype(np.int64)


@retagging
def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None
        ) -> Any:
    """Pad with (before, after) pairs from the last axis backwards."""
    return _gkF.pad(input, pad, mode, value)


def _norm(x: _Native, p: float, dim: int | Sequence[int], eps: float) -> _Native:
    """The p-norm along `dim` (kept), at least `eps` (a zero vector gets gradient 0)."""
    if p == 2:
        return _ew.sqrt(_ew.maximum(_red.sum(x * x, axis=dim, keepdims=True), eps * eps))
    powered = _red.sum(_ew.abs(x) ** p, axis=dim, keepdims=True)
    return _ew.maximum(powered, eps ** p) ** (1.0 / p)


@retagging
def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Any = None) -> Any:
    """input / max(||input||_p, eps) along `dim`."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; use the result")
    x = as_tensor(input)
    return x / _norm(x, float(p), dim, eps)


@retagging
def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Any:
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along `dim`."""
    a, b = as_tensor(x1), as_tensor(x2)
    return _red.sum((a / _norm(a, 2.0, dim, eps)) * (b / _norm(b, 2.0, dim, eps)), axis=dim)
