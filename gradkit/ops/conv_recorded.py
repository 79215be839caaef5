"""The recorded gradients of the convolutions (create_graph=True), differentiable to any order.

A convolution y = C(x, w) is bilinear, so its gradients are two more bilinear maps: the input
gradient Cx'(g, w) (a transposed convolution) and the weight gradient Cw'(x, g). The three
are recorded ops on 4-D (N, C, H, W) tensors with one zero-padding `Geometry`, each
computed by the array code of conv_arrays.py, and each one's gradient is made of the others:
    C(x, w):   g -> (Cx'(g, w), Cw'(x, g))
    Cx'(g, w): u -> (C(u, w),   Cw'(u, g))
    Cw'(x, g): u -> (Cx'(g, u), C(x, u))
so their rules hold only their inputs (swapped for Tensors when recorded) and the geometry.
conv1d/conv2d (with padding modes, fused activations) and conv_transpose2d record theirs
through them (`conv_vjp`, `transpose_vjp`); first-order backward never comes here.
"""

from __future__ import annotations

from typing import Any

from ..autograd import register_differentiable
from ..backend import gemm
from ..tensor import Tensor, _make
from .conv_arrays import Geometry, col2im_cf, conv_cf, conv_cl, im2col_cf, planes
from .window import pad_map

# ---- the three maps on arrays -------------------------------------------------------------------


def _conv(x, w, geo: Geometry, groups: int):
    """C(x, w): (N, C, H, W), (O, C/groups, kh, kw) -> (N, O, Ho, Wo)."""
    if groups == 1 and x.shape[1] * geo.kernel[1] >= 16:
        return conv_cl(x, w, None, geo, (None, None))[0]
    return conv_cf(x, w, None, geo, groups, (None, None))[0]


def _input_grad(g, w, geo: Geometry, groups: int):
    """Cx'(g, w): the input gradient (N, C, H, W) of C from g (N, O, Ho, Wo)."""
    n, o = g.shape[:2]
    (ho, wo), c = geo.out, w.shape[1] * groups
    g3 = planes(g).reshape(groups, o // groups, n * ho * wo)
    dcols = gemm.matmul(w.reshape(groups, o // groups, -1).transpose(0, 2, 1), g3)
    dx = col2im_cf(dcols.reshape((c,) + geo.kernel + (n, ho, wo)), geo, (n, c) + geo.size)
    return dx.transpose(1, 0, 2, 3)


def _weight_grad(x, g, geo: Geometry, groups: int):
    """Cw'(x, g): the weight gradient (O, C/groups, kh, kw) of C at input x from g."""
    n, o = g.shape[:2]
    m = n * geo.out[0] * geo.out[1]
    cols = im2col_cf(x, geo).reshape(groups, -1, m)
    g3 = planes(g).reshape(groups, o // groups, m)
    gw = gemm.matmul(g3, cols.transpose(0, 2, 1))
    return gw.reshape((o, x.shape[1] // groups) + geo.kernel)


# ---- ... as recorded ops (an array in, an array out; any Tensor in, a recorded Tensor out) ----


def _tensors(a: Any, b: Any) -> tuple | None:
    """(a, b) as Tensors when either is one (an array a constant), else None."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return None
    return tuple(t if isinstance(t, Tensor) else Tensor._wrap(t) for t in (a, b))


def conv_map(x: Any, w: Any, geo: Geometry, groups: int) -> Any:
    """C(x, w), recorded when given a Tensor (op "conv2d_core")."""
    ts = _tensors(x, w)
    if ts is None:
        return _conv(x, w, geo, groups)
    tx, tw = ts
    xd, wd = tx._data, tw._data

    def vjp(g):
        return (input_grad_map(g, wd, geo, groups) if tx.requires_grad else None,
                weight_grad_map(xd, g, geo, groups) if tw.requires_grad else None)

    return _make(_conv(xd, wd, geo, groups), (tx, tw), vjp, "conv2d_core")


def input_grad_map(g: Any, w: Any, geo: Geometry, groups: int) -> Any:
    """Cx'(g, w), recorded when given a Tensor (op "conv2d_input_grad")."""
    ts = _tensors(g, w)
    if ts is None:
        return _input_grad(g, w, geo, groups)
    tg, tw = ts
    gd, wd = tg._data, tw._data

    def vjp(u):
        return (conv_map(u, wd, geo, groups) if tg.requires_grad else None,
                weight_grad_map(u, gd, geo, groups) if tw.requires_grad else None)

    return _make(_input_grad(gd, wd, geo, groups), (tg, tw), vjp, "conv2d_input_grad")


def weight_grad_map(x: Any, g: Any, geo: Geometry, groups: int) -> Any:
    """Cw'(x, g), recorded when given a Tensor (op "conv2d_weight_grad")."""
    ts = _tensors(x, g)
    if ts is None:
        return _weight_grad(x, g, geo, groups)
    tx, tg = ts
    xd, gd = tx._data, tg._data

    def vjp(u):
        return (input_grad_map(gd, u, geo, groups) if tx.requires_grad else None,
                conv_map(xd, u, geo, groups) if tg.requires_grad else None)

    return _make(_weight_grad(xd, gd, geo, groups), (tx, tg), vjp, "conv2d_weight_grad")


register_differentiable("conv2d_core", "conv2d_input_grad", "conv2d_weight_grad")


# ---- the recorded rules of the public ops ----------------------------------------------------


def _shaped(t: Tensor, shape: tuple) -> Tensor:
    return t if t.shape == shape else t.reshape(shape)


def _spatial4(t: Tensor, unbatched: bool, nd: int) -> Tensor:
    """(N, C, H, W) of a conv1d/conv2d input or result (unbatched, or (N, C, L))."""
    shape = ((1,) if unbatched else ()) + t.shape
    return _shaped(t, shape[:2] + (1,) + shape[2:] if nd == 1 else shape)


def conv_vjp(g: Tensor, x: Tensor, weight: Tensor, bias: Tensor | None, out: Tensor,
             spec: tuple) -> tuple:
    """The recorded gradients of conv1d/conv2d (`spec`: unbatched, nd, geo, widths,
    padding_mode, groups, act_name) at x, weight, bias with result `out`, from g."""
    unbatched, nd, geo, widths, mode, groups, act = spec
    g4 = _spatial4(g, unbatched, nd)
    if act == "relu":
        g4 = g4 * (_spatial4(out.detach(), unbatched, nd) > 0)
    elif act == "tanh":
        y4 = _spatial4(out, unbatched, nd)
        g4 = g4 * (1 - y4 * y4)
    x4 = _spatial4(x, unbatched, nd)
    pad = None if widths is None else pad_map(widths, mode)
    w4 = _shaped(weight, weight.shape[:2] + (1,) + weight.shape[2:] if nd == 1 else weight.shape)
    gx = gw = None
    if x.requires_grad:
        gx = input_grad_map(g4, w4, geo, groups)
        gx = _shaped(gx if pad is None else pad.T(gx), x.shape)
    if weight.requires_grad:
        xin = x4 if pad is None else pad(x4)
        gw = _shaped(weight_grad_map(xin, g4, geo, groups), weight.shape)
    if bias is None:
        return gx, gw
    return gx, gw, (g4.sum(axis=(0, 2, 3)) if bias.requires_grad else None)


def transpose_vjp(g: Tensor, x: Tensor, weight: Tensor, bias: Tensor | None, geo: Geometry,
                  groups: int) -> tuple:
    """The recorded gradients of conv_transpose2d (= Cx'(x, weight) with `geo`, the conv2d
    geometry from its output back to its input) from g."""
    g4 = _shaped(g, (1,) + g.shape if x.ndim == 3 else g.shape)
    gx = gw = None
    if x.requires_grad:
        gx = _shaped(conv_map(g4, weight, geo, groups), x.shape)
    if weight.requires_grad:
        gw = weight_grad_map(g4, _shaped(x, g4.shape[:1] + x.shape[-3:]), geo, groups)
    if bias is None:
        return gx, gw
    return gx, gw, (g4.sum(axis=(0, 2, 3)) if bias.requires_grad else None)
