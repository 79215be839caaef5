"""Functional forms of the convolution, pooling and resampling layers (torch.nn.functional's
names and argument orders): conv1d, conv2d, conv_transpose2d, max_pool1d, max_pool2d,
avg_pool1d, avg_pool2d, adaptive_avg_pool1d, adaptive_avg_pool2d, dropout2d, pad,
interpolate (mode="nearest")."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ShapeError
from ..ops.conv import conv1d, conv2d, conv_transpose2d
from ..ops.indexing import getitem
from ..ops.neural import dropout
from ..ops.pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    pad_mode,
)
from ..ops.shape import broadcast_to, expand_dims, reshape
from ..tensor import Tensor, as_tensor

__all__ = [
    "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
    "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "dropout2d", "pad",
    "interpolate", "upsample_nearest",
]


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, ...) input with probability p and scale the rest by
    1/(1-p), in training only (one mask value per (sample, channel))."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: p must be in [0, 1], got {p}")
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    if x.ndim < 2:
        raise ShapeError(f"dropout2d: expected input of shape (N, C, ...), got {x.shape}")
    shape = x.shape[:2] + (1,) * (x.ndim - 2)
    mask = dropout(Tensor._wrap(x._xp.ones(shape, dtype=x.dtype)), p, True)  # 0 or 1/(1-p)
    return x * mask


def pad(input, pad, mode: str = "constant", value=None) -> Tensor:
    """torch.nn.functional.pad: `pad` gives (before, after) pairs from the last axis backwards
    ((left, right, top, bottom) for an image); modes constant, reflect, replicate, circular;
    negative constant pads crop."""
    x = as_tensor(input)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of pads, at most 2 per axis of the "
                         f"{x.ndim}-D input, got {pad}")
    widths = [[0, 0] for _ in range(x.ndim)]
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = [pad[2 * i], pad[2 * i + 1]]
    if mode == "constant" and any(w < 0 for pair in widths for w in pair):
        crop = tuple(slice(-lo if lo < 0 else None, hi if hi < 0 else None) for lo, hi in widths)
        x = getitem(x, crop)
        widths = [[max(lo, 0), max(hi, 0)] for lo, hi in widths]
    return pad_mode(x, widths, mode, 0.0 if value is None else value)


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest",
                align_corners=None, recompute_scale_factor=None) -> Tensor:
    """Resize (N, C, ...) input to `size` or by `scale_factor`; mode "nearest" only."""
    if mode != "nearest":
        raise NotImplementedError(f"interpolate: gradkit supports mode='nearest' only, got "
                                  f"{mode!r}")
    if align_corners is not None:
        raise ValueError("interpolate: align_corners only has an effect with the linear "
                         "modes, not 'nearest'")
    return upsample_nearest(input, scale_factor=scale_factor, size=size)


def _nearest_sizes(shape: tuple, size, scale_factor) -> list:
    """(n_in, n_out, source scale) per spatial axis, as PyTorch's nearest mode computes them."""
    nd = len(shape) - 2
    if nd < 1 or (size is None) == (scale_factor is None):
        raise ValueError(f"interpolate: give exactly one of size and scale_factor, for an "
                         f"input of shape (N, C, ...), got shape {shape}")
    vals = size if size is not None else scale_factor
    vals = tuple(vals) if isinstance(vals, (tuple, list)) else (vals,) * nd
    if len(vals) != nd:
        raise ValueError(f"interpolate: expected {nd} sizes or scale factors, got {vals}")
    out = []
    for n, v in zip(shape[2:], vals):
        o = int(v) if size is not None else int(math.floor(n * float(v)))
        if o < 1:
            raise ValueError(f"interpolate: output size {o} for input size {n} is empty")
        out.append((n, o, n / o if size is not None else 1.0 / float(v)))
    return out


def upsample_nearest(input, scale_factor=None, size=None) -> Tensor:
    """Nearest-neighbour resizing of (N, C, *spatial) input by `scale_factor` or to `size`:
    whole factors repeat each pixel (a broadcast view copied once; the gradient sums back),
    other sizes pick PyTorch's source pixels floor(i * scale)."""
    x = as_tensor(input)
    for i, (n, o, sc) in enumerate(_nearest_sizes(x.shape, size, scale_factor)):
        a, shape = 2 + i, x.shape
        if o % n == 0 and abs(sc * (o // n) - 1.0) < 1e-12:
            if o > n:
                wide = broadcast_to(expand_dims(x, a + 1),
                                    shape[:a + 1] + (o // n,) + shape[a + 1:])
                x = reshape(wide, shape[:a] + (o,) + shape[a + 1:])
            continue
        src = np.minimum(np.floor(np.arange(o, dtype=np.float32) * np.float32(sc)), n - 1)
        x = getitem(x, (slice(None),) * a + (src.astype(np.int64),))
    return x
