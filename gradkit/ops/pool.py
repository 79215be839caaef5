"""Pooling over the last 1 or 2 axes (max, average, adaptive average); `pad_mode` (window.py).

A pooling window is separable (its max or sum is that over its rows of each row's), so a 2-D
pool is two 1-D passes, W then H (the order that keeps PyTorch's first maximum in row-major
order on ties), each a loop over one axis' k taps with whole strided slices (no per-pixel
Python); max pooling keeps each pass' winning tap as uint8 for its gradient. The common 2x2
stride-2 max pool instead reads its four taps once (three maxima, three masks) and writes
its gradient once. New arrays follow their input's memory order (a pool after a conv's NHWC
block makes no transposing copy) and come from `scratch` (reused memory).
Each gradient is linear in the incoming gradient with constants (winning taps, divisors,
averaging matrices): a `LinearMap` (window.py), whose adjoint is its gradient, so every order
of derivative records (create_graph) and first order runs on raw arrays as before.
"""

from __future__ import annotations

import numpy as np

from ..autograd import is_grad_enabled, register_differentiable
from ..backend.devices import xp_of
from ..errors import ShapeError
from ..tensor import Tensor, _make
from ._util import float_tensor
from .window import PADDING_MODES, LinearMap, axis_ranges, ntuple, pad_mode, pool_axes, scratch

__all__ = ["PADDING_MODES", "ntuple", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "pad_mode"]


def _at(axis: int, s) -> tuple:
    return (slice(None),) * axis + (s,)


def _order(d) -> list:
    """`d`'s axes from the slowest-varying in memory to the fastest."""
    return sorted(range(d.ndim), key=lambda i: -d.strides[i])


def _like(d, shape, dtype=None, zero: bool = False):
    """A new array of `shape` laid out in `d`'s memory order (zeros when `zero`)."""
    order = _order(d)
    buf = scratch(d, tuple(shape[i] for i in order), dtype, zero)
    return buf.transpose([order.index(i) for i in range(d.ndim)])


def _resized(shape: tuple, axis: int, n: int) -> tuple:  # `shape` with n at `axis`
    return shape[:axis] + (n,) + shape[axis + 1:]


# ---- max and average pooling ---------------------------------------------------------------


def _first_tap(d, axis: int, ranges: list, n_out: int, fill):
    """The output of a pass, started from tap 0 when it covers every output, else `fill`."""
    r = ranges[0]
    if r is not None and r[0] == 0 and r[1] == n_out:
        return d[_at(axis, r[2])].copy(order="K"), 1
    out = _like(d, _resized(d.shape, axis, n_out))
    out[...] = fill
    return out, 0


def _pair(ranges: list, n_out: int):
    """The two taps' input slices of a 2-wide window whose taps both feed every output."""
    if len(ranges) == 2 and all(r is not None and r[0] == 0 and r[1] == n_out for r in ranges):
        return ranges[0][2], ranges[1][2]
    return None


def _max_pass(d, axis: int, geo: tuple):
    """Max over one axis' windows: (values, winning tap: uint8, or bool for 2 taps)."""
    k, s, dl, lo, n_in, n_out = geo
    xp = xp_of(d)
    ranges = axis_ranges(n_in, n_out, k, s, dl, lo)
    pair = _pair(ranges, n_out)
    if pair is not None:  # the common 2x2 pool: one compare, one maximum
        v0 = d[_at(axis, pair[0])]
        out = xp.maximum(v0, d[_at(axis, pair[1])])
        return out, out > v0  # = (tap 1 > tap 0), reading the half-size result
    out, start = _first_tap(d, axis, ranges, n_out, -np.inf)
    idx = _like(out, out.shape, np.uint8, zero=True)
    for t in range(start, k):
        r = ranges[t]
        if r is None:
            continue
        v, osl = d[_at(axis, r[2])], _at(axis, slice(r[0], r[1]))
        o, i = out[osl], idx[osl]
        better = v > o
        xp.maximum(o, v, out=o)
        xp.maximum(i, better * np.uint8(t), out=i)
    return out, idx


def _sum_pass(d, axis: int, geo: tuple):
    k, s, dl, lo, n_in, n_out = geo
    ranges = axis_ranges(n_in, n_out, k, s, dl, lo)
    out, start = _first_tap(d, axis, ranges, n_out, 0)
    for r in ranges[start:]:
        if r is not None:
            out[_at(axis, slice(r[0], r[1]))] += d[_at(axis, r[2])]
    return out


def _pass_grad(g, idx, axis: int, geo: tuple):
    """The gradient of a max pass (`idx`: its winning taps) or of a sum pass (`idx` None)."""
    k, s, dl, lo, n_in, n_out = geo
    xp, ranges = xp_of(g), axis_ranges(n_in, n_out, k, s, dl, lo)
    disjoint = s > dl * (k - 1)  # no input feeds two windows: write, don't add
    ref = g if idx is None else idx  # a max pool's gradient takes its input's memory order
    pair = _pair(ranges, n_out) if idx is not None and idx.dtype == bool else None
    if pair is not None and disjoint:  # g * b to tap 1, g - g * b to tap 0 (both exact)
        gx = _like(ref, _resized(g.shape, axis, n_in), g.dtype, zero=n_in != 2 * n_out)
        d0, d1 = gx[_at(axis, pair[0])], gx[_at(axis, pair[1])]
        xp.multiply(g, idx, out=d1)
        xp.subtract(g, d1, out=d0)
        return gx
    gx = _like(ref, _resized(g.shape, axis, n_in), g.dtype, zero=True)
    for t, r in enumerate(ranges):
        if r is None:
            continue
        osl, dst = _at(axis, slice(r[0], r[1])), gx[_at(axis, r[2])]
        if idx is not None and disjoint:
            xp.multiply(g[osl], idx[osl] == t, out=dst)
            continue
        part = g[osl] if idx is None else g[osl] * (idx[osl] == t)
        if disjoint:
            dst[...] = part
        else:
            dst += part
    return gx


def _gather_pass(u, idx, axis: int, geo: tuple):
    """The adjoint of a max pass' gradient: each output takes `u` at its winning tap."""
    k, s, dl, lo, n_in, n_out = geo
    xp, ranges = xp_of(u), axis_ranges(n_in, n_out, k, s, dl, lo)
    if idx.dtype == bool:  # the two taps of `_pair`
        pair = _pair(ranges, n_out)
        return xp.where(idx, u[_at(axis, pair[1])], u[_at(axis, pair[0])])
    out = xp.zeros(idx.shape, dtype=u.dtype)
    for t, r in enumerate(ranges):
        if r is not None:
            osl = _at(axis, slice(r[0], r[1]))
            out[osl] += u[_at(axis, r[2])] * (idx[osl] == t)
    return out


# ---- the common 2x2 window, stride 2: one pass over the input each way ------------------------


def _quads(d, ho: int, wo: int) -> tuple:
    """The four taps of 2x2 windows with stride 2 over the last two axes, row-major order."""
    v = d[..., :2 * ho, :2 * wo]
    return v[..., 0::2, 0::2], v[..., 0::2, 1::2], v[..., 1::2, 0::2], v[..., 1::2, 1::2]


_BLOCK = 1 << 20  # bytes of input per piece: the passes over one piece run in cache


def _in_blocks(fn, ref, *arrays) -> None:
    """fn(*pieces) over pieces of `arrays` (which share `ref`'s leading axes) cut along the
    leading axis that is slowest in `ref`'s memory, about _BLOCK bytes of `ref` each."""
    axis = _order(ref)[0]
    if xp_of(ref) is not np or axis >= ref.ndim - 2 or ref.nbytes <= _BLOCK:
        fn(*arrays)
        return
    step = max(1, _BLOCK * ref.shape[axis] // ref.nbytes)
    for i in range(0, ref.shape[axis], step):
        at = _at(axis, slice(i, i + step))
        fn(*(a[at] for a in arrays))


def _max_2x2(d, ho: int, wo: int, masks: bool):
    """(values, masks): max over each window as max(max(x0, x1), max(x2, x3)); the masks
    b01 = x1 > x0, b23 = x3 > x2 and bh = (row 1 > row 0) pick PyTorch's first maximum
    (only when `masks`: a gradient will be asked for)."""
    xp, shape = xp_of(d), d[..., :ho, :wo].shape
    y = _like(d, shape)
    bools = tuple(_like(d, shape, bool) for _ in range(3 if masks else 0))

    def piece(d, y, *bs):
        x0, x1, x2, x3 = _quads(d, ho, wo)
        m23 = xp.maximum(x2, x3)
        xp.maximum(x0, x1, out=y)
        if bs:
            xp.greater(x1, x0, out=bs[0])
            xp.greater(x3, x2, out=bs[1])
            xp.greater(m23, y, out=bs[2])
        xp.maximum(y, m23, out=y)

    _in_blocks(piece, d, d, y, *bools)
    return y, bools


def _max_2x2_grad(g, masks: tuple, shape: tuple):
    """The gradient of `_max_2x2` (input `shape`): each window's g to its winning tap, the
    rest zero; products with the masks and differences, exact."""
    xp, bh = xp_of(g), masks[2]
    if _order(g) != _order(bh):  # g in the masks' memory order: one copy, then fast passes
        g = _relaid(g, bh)
    ho, wo = bh.shape[-2:]
    gx = _like(bh, shape, g.dtype)
    if shape[-2] > 2 * ho:  # an odd row or column that no window reads
        gx[..., 2 * ho:, :] = 0
    if shape[-1] > 2 * wo:
        gx[..., 2 * wo:] = 0

    def piece(gx, g, b01, b23, bh):
        d0, d1, d2, d3 = _quads(gx, ho, wo)
        g1 = xp.multiply(g, bh)
        g0 = xp.subtract(g, g1)
        xp.multiply(g1, b23, out=d3)
        xp.subtract(g1, d3, out=d2)
        xp.multiply(g0, b01, out=d1)
        xp.subtract(g0, d1, out=d0)

    _in_blocks(piece, gx, gx, g, *masks)
    return gx


def _relaid(g, ref):
    """`g` copied into `ref`'s memory order."""
    out = _like(ref, g.shape, g.dtype)
    out[...] = g
    return out


def _max_2x2_gather(u, masks: tuple):
    """The adjoint of `_max_2x2_grad`: each window takes `u` at its winning tap."""
    xp, (b01, b23, bh) = xp_of(u), masks
    u0, u1, u2, u3 = _quads(u, *bh.shape[-2:])
    return xp.where(bh, xp.where(b23, u3, u2), xp.where(b01, u1, u0))


def _is_2x2(geos: list) -> bool:
    """Whether every axis of a 2-D pool is a 2-wide window, stride 2, no padding or dilation."""
    return len(geos) == 2 and all(k == 2 and s == 2 and dl == 1 and p == 0 and o == n // 2
                                  for k, s, dl, p, n, o in geos)


def _max_pool(x, nd, kernel_size, stride, padding, dilation, ceil_mode, opname) -> Tensor:
    x = float_tensor(x, opname)
    d = x._data
    geos = pool_axes(d.shape, nd, kernel_size, stride, padding, dilation, ceil_mode, opname)
    if _is_2x2(geos):
        y, masks = _max_2x2(d, geos[0][5], geos[1][5], is_grad_enabled() and x.requires_grad)
        lm = LinearMap(lambda u: _max_2x2_gather(u, masks),
                       lambda g: _max_2x2_grad(g, masks, d.shape),
                       f"{opname}_gather", f"{opname}_grad")
        return _make(y, (x,), lambda g: (lm.T(g),), opname)
    passes = [(d.ndim - nd + i, geos[i]) for i in reversed(range(nd))]  # W, then H
    y, saved = d, []
    for axis, geo in passes:
        y, idx = _max_pass(y, axis, geo)
        saved.append(idx)

    def scatter(g):
        for (axis, geo), idx in reversed(list(zip(passes, saved))):
            g = _pass_grad(g, idx, axis, geo)
        return g

    def gather(u):
        for (axis, geo), idx in zip(passes, saved):
            u = _gather_pass(u, idx, axis, geo)
        return u

    lm = LinearMap(gather, scatter, f"{opname}_gather", f"{opname}_grad")
    return _make(y, (x,), lambda g: (lm.T(g),), opname)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False) -> Tensor:
    """Max over (kh, kw) windows of (N, C, H, W) (or (C, H, W)) input, as PyTorch's (stride
    defaults to the kernel size; padding is -inf; the first maximum takes the gradient)."""
    return _max_pool(x, 2, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False) -> Tensor:
    """Max over length-k windows of (N, C, L) (or (C, L)) input, as PyTorch's."""
    return _max_pool(x, 1, kernel_size, stride, padding, dilation, ceil_mode, "max_pool1d")


def _divisor(geo: tuple, count_include_pad: bool):
    """PyTorch's window sizes along one axis (padding counted or not; never the ceil overhang)."""
    k, s, _, p, n, o = geo
    start = np.arange(o) * s - p
    end = np.minimum(start + k, n + p)
    if not count_include_pad:
        return np.minimum(end, n) - np.maximum(start, 0)
    return end - start


def _avg_pool(x, nd, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, opname) -> Tensor:
    x = float_tensor(x, opname)
    d = x._data
    xp = xp_of(d)
    geos = pool_axes(d.shape, nd, kernel_size, stride, padding, 1, ceil_mode, opname)
    passes = [(d.ndim - nd + i, geos[i]) for i in reversed(range(nd))]
    if divisor_override:
        div = xp.asarray(float(divisor_override), dtype=d.dtype)
    else:
        sizes = [_divisor(geo, count_include_pad) for geo in geos]
        grid = sizes[0] if nd == 1 else np.multiply.outer(sizes[0], sizes[1])
        div = xp.asarray(grid, dtype=d.dtype)

    def mean(y):
        for axis, geo in passes:
            y = _sum_pass(y, axis, geo)
        y /= div
        return y

    def spread(g):
        g = g / div
        for axis, geo in reversed(passes):
            g = _pass_grad(g, None, axis, geo)
        return g

    return LinearMap(mean, spread, opname, f"{opname}_grad")(x)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """Mean over (kh, kw) windows of (N, C, H, W) input, as PyTorch's."""
    return _avg_pool(x, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "avg_pool2d")


def avg_pool1d(x, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over length-k windows of (N, C, L) input, as PyTorch's."""
    return _avg_pool(x, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     "avg_pool1d")


# ---- adaptive pooling (a matrix per axis: the windows are irregular) ---------------------------


def _along(d, m, axis: int):
    """out[..., i, ...] = sum_j m[i, j] * d[..., j, ...] along `axis`."""
    return xp_of(d).moveaxis(xp_of(d).tensordot(d, m, axes=([axis], [1])), -1, axis)


def _adaptive_matrix(n_in: int, n_out: int):
    """PyTorch's adaptive windows [floor(i*n/o), ceil((i+1)*n/o)) as an averaging matrix."""
    i, j = np.arange(n_out)[:, None], np.arange(n_in)
    start, end = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
    return ((j >= start) & (j < end)) / (end - start)


def _with_matrices(x: Tensor, mats: list, opname: str) -> Tensor:
    """Apply one (n_out, n_in) matrix to each of the last len(mats) axes (None: leave it)."""
    first = x.ndim - len(mats)
    ms = [(first + i, x._xp.asarray(m, dtype=x.dtype)) for i, m in enumerate(mats)
          if m is not None]

    def average(y):
        for a, m in ms:
            y = _along(y, m, a)
        return y

    def spread(g):
        for a, m in ms:
            g = _along(g, m.T, a)
        return g

    return LinearMap(average, spread, opname, f"{opname}_grad")(x)


def _adaptive_avg(x, output_size, nd: int, opname: str) -> Tensor:
    x = float_tensor(x, opname)
    if x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{opname}: expected a {nd + 1}-D or {nd + 2}-D input, got shape "
                         f"{x.shape}")
    many = isinstance(output_size, (tuple, list))
    sizes = tuple(output_size) if many else (output_size,) * nd
    ins = x.shape[x.ndim - nd:]
    outs = [n if o is None else int(o) for n, o in zip(ins, sizes)]
    if len(sizes) != nd or min(outs) < 1:
        raise ValueError(f"{opname}: output_size must be a positive int or {nd} of them (None: "
                         f"the input's size), got {output_size!r}")
    mats = [None if o == n else _adaptive_matrix(n, o) for n, o in zip(ins, outs)]
    return _with_matrices(x, mats, opname)


def adaptive_avg_pool2d(x, output_size) -> Tensor:
    """Average pooling of (N, C, H, W) to `output_size` (an int, or (h, w) with None for "the
    same size"), PyTorch's windows; exact as one matrix product per axis."""
    return _adaptive_avg(x, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(x, output_size) -> Tensor:
    """Average pooling of (N, C, L) to length `output_size`, PyTorch's windows."""
    return _adaptive_avg(x, output_size, 1, "adaptive_avg_pool1d")


register_differentiable(*(f"{op}{s}" for op in (
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d") for s in ("", "_grad")), "max_pool1d_gather", "max_pool2d_gather")
