"""Convolutions (conv1d, conv2d, conv_transpose2d): im2col + one GEMM per layer, fused rules.

The arrays' side (layouts, im2col/col2im, the GEMMs) is conv_arrays.py; here are the ops:
checks, 1-D and unbatched inputs as 4-D arrays, and the recorded nodes. Each node's rule runs
on raw arrays at first order; recorded (create_graph) it takes its `xp is recorded` branch,
the differentiable gradients of conv_recorded.py.
"""

from __future__ import annotations

import numpy as np

from ..autograd import register_differentiable
from ..backend import gemm
from ..errors import ShapeError
from ..tensor import Tensor, _make
from . import recorded
from ._util import operands
from .autocast import low
from .conv_arrays import Geometry, col2im_cf, conv_arrays, conv_geometry, im2col_cf, planes
from .conv_recorded import conv_vjp, transpose_vjp
from .neural import FUSED_ACTIVATIONS, _fused_activation
from .window import PADDING_MODES, ntuple


def _check_conv(xs: tuple, ws: tuple, groups: int, nd: int, opname: str, transposed=False):
    names = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
    if len(xs) != nd + 2:
        raise ShapeError(f"{opname}: expected input of shape {names} (or unbatched), "
                         f"got {xs}")
    if len(ws) != nd + 2:
        raise ShapeError(f"{opname}: weight must be {nd + 2}-D, got shape {ws}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{opname}: groups must be a positive int, got {groups!r}")
    c_in = ws[0] if transposed else ws[1] * groups
    if xs[1] != c_in or ws[0] % groups:
        raise ShapeError(
            f"{opname}: input of shape {xs} has {xs[1]} channels, but weight of shape {ws} "
            f"with groups={groups} expects {c_in} (and its first axis divisible by groups)")


def _operands(x, weight, bias, n_out_of, opname: str):
    """x, weight (and bias, checked to have shape (n_out,)) on one device with one dtype."""
    x, weight = low(*operands(x, weight, opname))  # autocast: float16/bfloat16 in a block
    if bias is None:
        return x, weight, None, (x, weight)
    weight, bias = low(*operands(weight, bias, opname))
    n_out = n_out_of(weight.shape)
    if bias.shape != (n_out,):
        raise ShapeError(f"{opname}: bias must have shape ({n_out},), got {bias.shape}")
    return x, weight, bias, (x, weight, bias)


def _conv_node(x, weight, bias, args: tuple, nd: int, opname: str, act_name=None) -> Tensor:
    """Checks, the 1-D/unbatched reshapes, and the recorded node of conv1d / conv2d."""
    x, weight, bias, parents = _operands(x, weight, bias, lambda ws: ws[0], opname)
    stride, padding, dilation, groups, padding_mode = args
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{opname}: padding_mode must be one of {PADDING_MODES}, "
                         f"got {padding_mode!r}")
    unbatched = x.ndim == nd + 1
    xs = (1,) + x.shape if unbatched else x.shape
    _check_conv(xs, weight.shape, groups, nd, opname)
    xd, wd = x._data.reshape(xs), weight._data
    if nd == 1:  # a 1-D convolution is a 2-D one over (1, L)
        xd, wd = xd[:, :, None, :], wd[:, :, None, :]
        stride = (1,) + ntuple(stride, 1, "stride", opname)
        dilation = (1,) + ntuple(dilation, 1, "dilation", opname)
        if not isinstance(padding, str):
            padding = (0,) + ntuple(padding, 1, "padding", opname, minimum=0)
    act, xp = _fused_activation(act_name), x._xp
    geo, widths = conv_geometry(xd.shape, wd.shape[2:], stride, padding, dilation,
                                padding_mode, opname)
    y, back = conv_arrays(xd, wd, None if bias is None else bias._data, geo, widths,
                          padding_mode, groups, act)
    y = y[:, :, 0] if nd == 1 else y
    out = y[0] if unbatched else y
    spec = (unbatched, nd, geo, widths, padding_mode, groups, act_name)

    def vjp(g):
        if xp is recorded:  # create_graph: differentiable gradients, `out` is the result
            return conv_vjp(g, x, weight, bias, out, spec)
        g = g.reshape((1,) + g.shape) if unbatched else g
        need = tuple(t.requires_grad for t in parents) + (False,)
        gx, gw, gb = back(g[:, :, None] if nd == 1 else g, need)
        if gx is not None:
            gx = gx[:, :, 0] if nd == 1 else gx
            gx = gx[0] if unbatched else gx
        gw = gw[:, :, 0] if nd == 1 and gw is not None else gw
        return (gx, gw) if bias is None else (gx, gw, gb)

    return _make(out, parents, vjp, opname if act_name is None else f"{opname}+{act_name}")


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1,
           padding_mode: str = "zeros", activation: str | None = None) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch) of (N, C, H, W) (or (C, H, W)) input
    with weight (O, C/groups, kh, kw), as torch.nn.functional.conv2d.

    `padding`: an int, (ph, pw), "same" (stride 1; the odd pixel on the bottom/right) or
    "valid"; `padding_mode`: zeros, reflect, replicate or circular (as torch.nn.Conv2d);
    `activation` ("relu", "tanh") is applied inside the same node, like `linear`'s.
    """
    return _conv_node(x, weight, bias, (stride, padding, dilation, groups, padding_mode), 2,
                      "conv2d", activation)


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1,
           padding_mode: str = "zeros", activation: str | None = None) -> Tensor:
    """1-D convolution of (N, C, L) (or (C, L)) input with weight (O, C/groups, k), as
    torch.nn.functional.conv1d (a 2-D convolution over a height of 1)."""
    return _conv_node(x, weight, bias, (stride, padding, dilation, groups, padding_mode), 1,
                      "conv1d", activation)


def _transposed_geometry(xs, ws, stride, padding, output_padding, dilation, opname):
    """The conv2d geometry from the output of conv_transpose2d back to its input."""
    s = ntuple(stride, 2, "stride", opname)
    p = ntuple(padding, 2, "padding", opname, minimum=0)
    op = ntuple(output_padding, 2, "output_padding", opname, minimum=0)
    d = ntuple(dilation, 2, "dilation", opname)
    if any(o >= max(si, di) for o, si, di in zip(op, s, d)):
        raise ValueError(f"{opname}: output_padding {op} must be smaller than either stride "
                         f"{s} or dilation {d}")
    k = tuple(ws[2:])
    size = tuple((xs[2 + a] - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1
                 for a in range(2))
    if min(size) < 1:
        raise ShapeError(f"{opname}: input of shape {xs} gives an empty output {size}")
    return Geometry(k, s, d, ((p[0], p[0]), (p[1], p[1])), size, tuple(xs[2:]))


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1) -> Tensor:
    """Transposed 2-D convolution (conv2d's gradient w.r.t. its input) of (N, Cin, H, W) (or
    unbatched) input with weight (Cin, Cout/groups, kh, kw), as PyTorch's: output size
    (H - 1)*stride - 2*padding + dilation*(kh - 1) + output_padding + 1."""
    opname = "conv_transpose2d"
    x, weight, bias, parents = _operands(x, weight, bias, lambda ws: ws[1] * groups, opname)
    unbatched = x.ndim == 3
    xs = (1,) + x.shape if unbatched else x.shape
    _check_conv(xs, weight.shape, groups, 2, opname, transposed=True)
    geo = _transposed_geometry(xs, weight.shape, stride, padding, output_padding, dilation,
                               opname)
    xd, wd, xp = x._data.reshape(xs), weight._data, x._xp
    (n, cin, h, w), (cog, kh, kw) = xs, weight.shape[1:]
    xc = planes(xd).reshape(groups, cin // groups, n * h * w)
    wm = wd.reshape(groups, cin // groups, cog * kh * kw)
    cols = gemm.matmul(wm.transpose(0, 2, 1), xc).reshape(cog * groups, kh, kw, n, h, w)
    y = col2im_cf(cols, geo, (n, cog * groups) + geo.size)
    if bias is not None:
        y += bias._data[:, None, None, None]
    y = y.transpose(1, 0, 2, 3)

    def vjp(g):
        if xp is recorded:  # create_graph: differentiable gradients
            return transpose_vjp(g, x, weight, bias, geo, groups)
        g = g.reshape((1,) + g.shape) if unbatched else g
        cg = im2col_cf(g, geo).reshape(groups, cog * kh * kw, n * h * w)
        gx = gw = None
        if x.requires_grad:
            gx = gemm.matmul(wm, cg).reshape(cin, n, h, w).transpose(1, 0, 2, 3)
            gx = gx[0] if unbatched else gx
        if weight.requires_grad:
            gw = gemm.matmul(xc, cg.transpose(0, 2, 1)).reshape(wd.shape)
        if bias is None:
            return gx, gw
        return gx, gw, (g.sum(axis=(0, 2, 3)) if bias.requires_grad else None)

    return _make(y[0] if unbatched else y, parents, vjp, opname)


register_differentiable(*(f"{op}{act}" for op in ("conv1d", "conv2d")
                          for act in ("", *(f"+{a}" for a in FUSED_ACTIVATIONS))))
register_differentiable("conv_transpose2d", strict=False)  # it holds its im2col planes
