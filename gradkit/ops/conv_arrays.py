"""Convolutions on arrays: im2col + one GEMM per layer, one code path for NumPy and CuPy.

Layout: tensors are NCHW, but a result may be an NCHW *view* of a block in another memory
order (conv2d with groups=1 returns its (N*Ho*Wo, O) GEMM result, an NHWC block, without a
transposing copy); the ops follow any memory order and make a layout with at most one copy.
im2col (Chainer's utils/conv.py; tinygrad's strided view):
- channels-last (groups=1, C*kw >= 16): pad once, one copy of the strided (N, Ho, Wo, kh,
  kw, C) window view -> cols (M, K); dx is one GEMM per kernel tap added into NHWC dx;
- channels-first (few channels, groups): per kernel tap one strided slice copy (padding by
  clipping) -> cols (C, kh, kw, M) as (G, Kg, M) for one batched GEMM; col2im adds slices.
Loops run over kernel taps, never pixels. Other padding modes pad explicitly (`pad_array`).
The big arrays (cols, GEMM results written with `out=`, col2im's sums) come from `scratch`
(window.py): memory that the previous step let go of, not fresh pages.
"""

from __future__ import annotations

import numpy as np

from ..backend import gemm
from ..backend.devices import xp_of
from ..errors import ShapeError
from .window import axis_ranges, ntuple, out_size, pad_array, scratch, unpad_grad

# ---- arguments and geometry ------------------------------------------------------------------


class Geometry:
    """Kernel, stride, dilation, padding ((lo, hi) per axis), input and output sizes of a 2-D
    sliding window, and the tap ranges of each axis."""

    __slots__ = ("kernel", "stride", "dilation", "pads", "size", "out", "ranges", "covers")

    def __init__(self, kernel, stride, dilation, pads, size, out) -> None:
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        self.pads, self.size, self.out = pads, size, out
        self.ranges = [axis_ranges(size[a], out[a], kernel[a], stride[a], dilation[a],
                                   pads[a][0]) for a in range(2)]
        self.covers = all(r is not None and r[0] == 0 and r[1] == out[a]
                          for a in range(2) for r in self.ranges[a])

    def zero_padded(self) -> Geometry:
        return Geometry(self.kernel, self.stride, self.dilation, ((0, 0), (0, 0)),
                        tuple(n + lo + hi for n, (lo, hi) in zip(self.size, self.pads)),
                        self.out)


def conv_pads(padding, kernel, stride, dilation, n: int, opname: str) -> tuple:
    """((lo, hi), ...) per spatial axis from an int, a tuple, "same" or "valid"."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ValueError(f"{opname}: padding must be an int, a tuple, 'same' or 'valid', "
                             f"got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{opname}: padding='same' is not supported for strided "
                             f"convolutions (stride={stride})")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in total)
    return tuple((p, p) for p in ntuple(padding, n, "padding", opname, minimum=0))


# ---- im2col / col2im -------------------------------------------------------------------------


def im2col_cf(x, geo: Geometry, ones: bool = False):
    """cols (C*kh*kw, N*Ho*Wo) from NCHW `x`, rows ordered (C, kh, kw): one strided copy per
    kernel tap; `ones` appends a row of ones (a bias column of the weight then joins the GEMM)."""
    n, c = x.shape[:2]
    (kh, kw), (ho, wo) = geo.kernel, geo.out
    src, k = x.transpose(1, 0, 2, 3), c * kh * kw
    buf = scratch(x, (k + ones, n * ho * wo), zero=not geo.covers)
    cols = buf[:k].reshape(c, kh, kw, n, ho, wo)
    if ones:
        buf[k] = 1
    for a, ra in enumerate(geo.ranges[0]):
        for b, rb in enumerate(geo.ranges[1]):
            if ra is not None and rb is not None:
                cols[:, a, b, :, ra[0]:ra[1], rb[0]:rb[1]] = src[:, :, ra[2], rb[2]]
    return buf


def col2im_cf(cols, geo: Geometry, shape: tuple):
    """The adjoint of im2col_cf: (C, N, H, W) sums of the kernel taps' slices of `cols`."""
    xp = xp_of(cols)
    n, c, h, w = shape
    dx = xp.zeros((c, n, h, w), dtype=cols.dtype)
    for a, ra in enumerate(geo.ranges[0]):
        for b, rb in enumerate(geo.ranges[1]):
            if ra is not None and rb is not None:
                dx[:, :, ra[2], rb[2]] += cols[:, a, b, :, ra[0]:ra[1], rb[0]:rb[1]]
    return dx


def _padded_nhwc(x, geo: Geometry):
    """x as a contiguous NHWC block with the zero padding of `geo` around it."""
    n, c, h, w = x.shape
    (pt, pb), (pl, pr) = geo.pads
    nhwc = x.transpose(0, 2, 3, 1)
    if not (pt or pb or pl or pr) and nhwc.flags.c_contiguous:
        return nhwc
    buf = scratch(x, (n, h + pt + pb, w + pl + pr, c))
    buf[:, :pt], buf[:, pt + h:], buf[:, :, :pl], buf[:, :, pl + w:] = 0, 0, 0, 0
    buf[:, pt:pt + h, pl:pl + w] = nhwc
    return buf


def im2col_cl(x, geo: Geometry):
    """cols (N*Ho*Wo, kh*kw*C) from NCHW `x`: one copy of a strided window view (of an
    ndarray subclass, gk.compile's tracer, one slice copy per tap: what it can follow)."""
    xp = xp_of(x)
    buf = _padded_nhwc(x, geo)
    n, c = buf.shape[0], buf.shape[3]
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out
    cols = scratch(buf, (n * ho * wo, kh * kw * c))
    c6 = cols.reshape(n, ho, wo, kh, kw, c)
    if isinstance(buf, np.ndarray) and type(buf) is not np.ndarray:
        for a in range(kh):
            for b in range(kw):
                c6[:, :, :, a, b] = buf[:, a * dh:a * dh + sh * (ho - 1) + 1:sh,
                                        b * dw:b * dw + sw * (wo - 1) + 1:sw]
        return cols
    s0, s1, s2, s3 = buf.strides
    c6[...] = xp.lib.stride_tricks.as_strided(buf, c6.shape, (s0, s1 * sh, s2 * sw, s1 * dh,
                                                                s2 * dw, s3))
    return cols


def col2im_cl(g2, wm, geo: Geometry, shape: tuple):
    """dx (an NCHW view of an NHWC block) = col2im(g2 @ wm), one GEMM per kernel tap."""
    n, c, h, w = shape
    (pt, pb), (pl, pr) = geo.pads
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out
    dxp = scratch(g2, (n, h + pt + pb, w + pl + pr, c), zero=True)
    buf = scratch(g2, (g2.shape[0], c))
    for a in range(kh):
        for b in range(kw):
            j = (a * kw + b) * c
            gemm.matmul(g2, wm[:, j:j + c], buf)
            hs = slice(a * dh, a * dh + sh * (ho - 1) + 1, sh)
            ws = slice(b * dw, b * dw + sw * (wo - 1) + 1, sw)
            dxp[:, hs, ws] += buf.reshape(n, ho, wo, c)
    return dxp[:, pt:pt + h, pl:pl + w].transpose(0, 3, 1, 2)


def rows(g):  # an NCHW array as (N*H*W, C) rows (a view when its memory is NHWC)
    return g.transpose(0, 2, 3, 1).reshape(-1, g.shape[1])


def planes(g):  # an NCHW array as (C, N*H*W) planes (a view when its memory is CNHW)
    return g.transpose(1, 0, 2, 3).reshape(g.shape[1], -1)


# ---- the convolution on arrays ------------------------------------------------------------------


def _bias_act(y, b, act):
    """y += b (broadcast over y's last axis), then the fused activation, in place."""
    if act[0] is not None:
        act[0](y, b)
    elif b is not None:
        y += b


def conv_cl(x, w, b, geo: Geometry, act):
    """groups=1, many channels: cols (M, K) @ W.T -> (M, O), an NHWC block."""
    n, c = x.shape[:2]
    o, (kh, kw), (ho, wo) = w.shape[0], geo.kernel, geo.out
    cols = im2col_cl(x, geo)
    wm = w.transpose(0, 2, 3, 1).reshape(o, kh * kw * c)
    y = gemm.matmul(cols, wm.T, scratch(cols, (cols.shape[0], o)))
    _bias_act(y, b, act)

    def backward(g, need):
        g2 = rows(g)
        if act[1] is not None:
            g2 = act[1](g2, y)
        gx = col2im_cl(g2, wm, geo, x.shape) if need[0] else None
        gw = gb = None
        if need[1]:
            gw = gemm.matmul(g2.T, cols).reshape(o, kh, kw, c).transpose(0, 3, 1, 2)
            gw = xp_of(gw).ascontiguousarray(gw)
        if need[2]:
            gb = g2.sum(axis=0)
        return gx, gw, gb

    return y.reshape(n, ho, wo, o).transpose(0, 3, 1, 2), backward


def conv_cf(x, w, b, geo: Geometry, groups: int, act):
    """Few channels or groups: cols (G, Kg, M); groups=1 -> (M, O) NHWC, else (O, M) CNHW."""
    xp = xp_of(x)
    n, c = x.shape[:2]
    o, (ho, wo) = w.shape[0], geo.out
    m, fold = n * ho * wo, b is not None and groups == 1  # fold: the bias joins the GEMM
    cols = im2col_cf(x, geo, ones=fold).reshape(groups, -1, m)
    wm = w.reshape(groups, o // groups, -1)
    kg = wm.shape[2]
    if groups == 1:
        wb = xp.concatenate([wm[0], b[:, None]], axis=1) if fold else wm[0]
        y = gemm.matmul(cols[0].T, wb.T, scratch(cols, (m, o)))
        out = y.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)
    else:
        y = gemm.matmul(wm, cols).reshape(o, m)
        out = y.reshape(o, n, ho, wo).transpose(1, 0, 2, 3)
    _bias_act(y if groups == 1 else y.T, None if fold else b, act)

    def backward(g, need):
        g2 = rows(g) if groups == 1 else planes(g)
        if act[1] is not None:
            g2 = act[1](g2, y)
        g3 = g2.T.reshape(1, o, m) if groups == 1 else g2.reshape(groups, o // groups, m)
        gx = gw = gb = None
        if need[0]:
            dcols = gemm.matmul(wm.transpose(0, 2, 1), g3)
            dx = col2im_cf(dcols.reshape((c,) + geo.kernel + (n, ho, wo)), geo, x.shape)
            gx = dx.transpose(1, 0, 2, 3)
        if need[1] or (fold and need[2]):  # (G, Og, Kg [+ 1 bias column])
            if groups == 1:  # as (Kg [+ 1], O) = cols @ g2: OpenBLAS' faster shape for it
                gwb = xp.ascontiguousarray(gemm.matmul(cols[0], g2).T)[None]
            else:
                gwb = gemm.matmul(g3, cols.transpose(0, 2, 1))
            gw = gwb[:, :, :kg].reshape(w.shape) if need[1] else None
            gb = gwb[0, :, kg] if fold and need[2] else None
        if need[2] and not fold:
            gb = g2.sum(axis=1)
        return gx, gw, gb

    return out, backward


def _nhwc(g):
    """`g` (NCHW) as an NHWC block: a view when its memory is NHWC, else one copy."""
    nhwc = g.transpose(0, 2, 3, 1)
    if nhwc.flags.c_contiguous:
        return nhwc
    out = scratch(g, nhwc.shape)
    out[...] = nhwc
    return out


def _blocks(n: int, per_item: int) -> list:
    """Slices of range(n) holding about 1 MiB (`per_item` bytes each): tap loops over one
    block run in cache."""
    step = max(1, (1 << 20) // max(1, per_item))
    return [slice(i, i + step) for i in range(0, n, step)]


def conv_dw(x, w, b, geo: Geometry, act):
    """Depthwise (groups = C = O): per kernel tap, the tap's slice of the padded NHWC input
    times its per-channel weights, added up (no im2col, no GEMMs of one row), a block of
    images at a time; NHWC out."""
    xp, n, c = xp_of(x), x.shape[0], x.shape[1]
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out
    xpad, wt = _padded_nhwc(x, geo), xp.ascontiguousarray(w.reshape(c, kh * kw).T)  # (t, C)
    taps = [(a * kw + e, (slice(None), slice(a * dh, a * dh + sh * (ho - 1) + 1, sh),
                          slice(e * dw, e * dw + sw * (wo - 1) + 1, sw)))
            for a in range(kh) for e in range(kw)]
    y, tmp = scratch(x, (n, ho, wo, c)), scratch(x, (n, ho, wo, c))
    blocks = _blocks(n, y[0].nbytes + xpad[0].nbytes)
    for blk in blocks:
        yb, tb, xb = y[blk], tmp[blk], xpad[blk]
        for t, at in taps:
            xp.multiply(xb[at], wt[t], out=tb if t else yb)
            if t:
                yb += tb
    _bias_act(y, b, act)

    def backward(g, need):
        g4 = _nhwc(g)
        if act[1] is not None:
            g4 = act[1](g4, y)
        gx = gw = gb = None
        dxp = scratch(g4, xpad.shape, zero=True) if need[0] else None
        gw = xp.zeros((kh * kw, c), dtype=g4.dtype) if need[1] else None
        for blk in blocks:
            gb4, tb, xb = g4[blk], tmp[blk], xpad[blk]
            for t, at in taps:
                if dxp is not None:
                    xp.multiply(gb4, wt[t], out=tb)
                    dxp[blk][at] += tb
                if gw is not None:
                    gw[t] += xp.einsum("nhwc,nhwc->c", gb4, xb[at])
        if dxp is not None:
            (pt, _), (pl, _) = geo.pads
            gx = dxp[:, pt:pt + x.shape[2], pl:pl + x.shape[3]].transpose(0, 3, 1, 2)
        if gw is not None:
            gw = xp.ascontiguousarray(gw.T).reshape(w.shape)
        if need[2]:
            gb = g4.reshape(-1, c).sum(axis=0)
        return gx, gw, gb

    return y.transpose(0, 3, 1, 2), backward


def conv_geometry(shape: tuple, kernel: tuple, stride, padding, dilation, padding_mode: str,
                  opname: str) -> tuple:
    """(geo, widths) of a 2-D convolution of 4-D input of `shape`: with zero padding, `geo`
    and None; with another padding mode, the input's explicit pad widths and the geometry
    of the padded input (zero padding nowhere)."""
    stride = ntuple(stride, 2, "stride", opname)
    dilation = ntuple(dilation, 2, "dilation", opname)
    pads = conv_pads(padding, kernel, stride, dilation, 2, opname)
    size = tuple(shape[2:])
    out = tuple(out_size(size[a], kernel[a], stride[a], dilation[a], *pads[a]) for a in (0, 1))
    if min(out) < 1:
        raise ShapeError(
            f"{opname}: input of shape {tuple(shape)} padded by {pads} is smaller than the "
            f"kernel {tuple(kernel)} dilated by {dilation}")
    geo = Geometry(tuple(kernel), stride, dilation, pads, size, out)
    if padding_mode == "zeros" or not any(lo or hi for lo, hi in pads):
        return geo, None
    for n, (lo, hi) in zip(size, pads):
        if padding_mode == "reflect" and max(lo, hi) >= n:
            raise ShapeError(f"{opname}: reflect padding {pads} must be smaller than the "
                             f"input's spatial size {size}")
    return geo.zero_padded(), ((0, 0), (0, 0)) + tuple(pads)


def conv_arrays(xd, wd, bd, geo: Geometry, widths, padding_mode: str, groups: int, act):
    """The forward on 4-D arrays (`conv_geometry`'s geo and widths): (output,
    backward(g, need) -> (gx, gw, gb))."""
    if widths is not None:
        xd = pad_array(xd, widths, padding_mode)
    if groups == 1 and xd.shape[1] * geo.kernel[1] >= 16:  # channels last
        y, back = conv_cl(xd, wd, bd, geo, act)
    elif groups > 1 and groups == xd.shape[1] == wd.shape[0]:  # depthwise
        y, back = conv_dw(xd, wd, bd, geo, act)
    else:
        y, back = conv_cf(xd, wd, bd, geo, groups, act)
    if widths is None:
        return y, back

    def backward(g, need):
        gx, gw, gb = back(g, need)
        return (None if gx is None else unpad_grad(gx, widths, padding_mode)), gw, gb

    return y, backward
