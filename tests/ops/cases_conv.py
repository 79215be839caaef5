"""Op-table cases of the convolution/pooling ops (joined to tests/ops/cases.py CASES).

Each NumPy reference is written naively, with loops over output positions, in float64.
"""

from __future__ import annotations

import math

import numpy as np

from gradkit.autograd import grad as gk_grad
from gradkit.nn.functional_conv import interpolate
from gradkit.nn.functional_conv import pad as torch_pad
from gradkit.ops.conv import conv1d, conv2d, conv_transpose2d
from gradkit.ops.pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    pad_mode,
)

from .cases import Case  # noqa: F401  (defined before cases.py imports this file)

_NP_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# ---- naive references --------------------------------------------------------------------------


def _conv_pads(padding, k, d):
    if padding == "valid":
        return [(0, 0), (0, 0)]
    if padding == "same":
        return [((d[i] * (k[i] - 1)) // 2, d[i] * (k[i] - 1) - (d[i] * (k[i] - 1)) // 2)
                for i in range(2)]
    return [(p, p) for p in _pair(padding)]


def np_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, mode="zeros"):
    s, d, k = _pair(stride), _pair(dilation), w.shape[2:]
    pads = _conv_pads(padding, k, d)
    x = np.pad(x, [(0, 0), (0, 0)] + pads, mode=_NP_MODE[mode])
    n, c, h, wd = x.shape
    o, cg = w.shape[:2]
    ho, wo = (h - d[0] * (k[0] - 1) - 1) // s[0] + 1, (wd - d[1] * (k[1] - 1) - 1) // s[1] + 1
    og = o // groups
    out = np.zeros((n, o, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = x[:, :, i * s[0]:i * s[0] + d[0] * (k[0] - 1) + 1:d[0],
                      j * s[1]:j * s[1] + d[1] * (k[1] - 1) + 1:d[1]]
            for g in range(groups):
                out[:, g * og:(g + 1) * og, i, j] = np.einsum(
                    "nckl,ockl->no", patch[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og])
    return out if b is None else out + b[None, :, None, None]


def np_conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, mode="zeros"):
    pad = padding if isinstance(padding, str) else (0, padding)
    out = np_conv2d(x[:, :, None], w[:, :, None], b, (1, stride), pad, (1, dilation), groups,
                    mode)
    return out[:, :, 0]


def np_conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                        dilation=1):
    s, p, op, d = _pair(stride), _pair(padding), _pair(output_padding), _pair(dilation)
    n, cin, h, wd = x.shape
    cog, kh, kw = w.shape[1:]
    full = np.zeros((n, cog * groups, (h - 1) * s[0] + d[0] * (kh - 1) + 1 + op[0],
                     (wd - 1) * s[1] + d[1] * (kw - 1) + 1 + op[1]))
    cig = cin // groups
    for i in range(h):
        for j in range(wd):
            for g in range(groups):
                full[:, g * cog:(g + 1) * cog, i * s[0]:i * s[0] + d[0] * (kh - 1) + 1:d[0],
                     j * s[1]:j * s[1] + d[1] * (kw - 1) + 1:d[1]] += np.einsum(
                    "nc,cokl->nokl", x[:, g * cig:(g + 1) * cig, i, j], w[g * cig:(g + 1) * cig])
    ho, wo = full.shape[2] - 2 * p[0], full.shape[3] - 2 * p[1]
    out = full[:, :, p[0]:p[0] + ho, p[1]:p[1] + wo]
    return out if b is None else out + b[None, :, None, None]


def _pool_out(n, k, s, p, d, ceil):
    o = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    return o - 1 if ceil and (o - 1) * s >= n + p else o


def np_max_pool2d(x, k, s=None, p=0, d=1, ceil=False):
    k, s, p, d = _pair(k), _pair(s if s is not None else k), _pair(p), _pair(d)
    h, w = x.shape[-2:]
    ho, wo = (_pool_out(n, k[i], s[i], p[i], d[i], ceil) for i, n in enumerate((h, w)))
    xp = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(p[0], p[0] + s[0] * k[0]),
                                               (p[1], p[1] + s[1] * k[1])],
                constant_values=-np.inf)
    out = np.empty(x.shape[:-2] + (ho, wo))
    for i in range(ho):
        for j in range(wo):
            win = xp[..., i * s[0]:i * s[0] + d[0] * (k[0] - 1) + 1:d[0],
                     j * s[1]:j * s[1] + d[1] * (k[1] - 1) + 1:d[1]]
            out[..., i, j] = win.max(axis=(-2, -1))
    return out


def np_avg_pool2d(x, k, s=None, p=0, ceil=False, include=True, divisor=None):
    k, s, p = _pair(k), _pair(s if s is not None else k), _pair(p)
    h, w = x.shape[-2:]
    ho, wo = (_pool_out(n, k[i], s[i], p[i], 1, ceil) for i, n in enumerate((h, w)))
    out = np.empty(x.shape[:-2] + (ho, wo))
    for i in range(ho):
        for j in range(wo):
            hs, ws = i * s[0] - p[0], j * s[1] - p[1]
            he, we = min(hs + k[0], h + p[0]), min(ws + k[1], w + p[1])
            size = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            total = x[..., hs:he, ws:we].sum(axis=(-2, -1))
            div = divisor or (size if include else (he - hs) * (we - ws))
            out[..., i, j] = total / div
    return out


def np_adaptive_avg_pool2d(x, size):
    oh, ow = _pair(size)
    h, w = x.shape[-2:]
    out = np.empty(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, he = (i * h) // oh, math.ceil((i + 1) * h / oh)
            ws, we = (j * w) // ow, math.ceil((j + 1) * w / ow)
            out[..., i, j] = x[..., hs:he, ws:we].mean(axis=(-2, -1))
    return out


def np_nearest(x, size):
    out = x
    for a, o in enumerate(size):
        n = x.shape[2 + a]
        src = [min(int(math.floor(i * np.float32(n / o))), n - 1) for i in range(o)]
        out = np.take(out, src, axis=2 + a)
    return out


def _pool1d(ref):
    """A 2-D pooling reference used on (N, C, L) input as a height-1 image."""
    return lambda x, *a, **kw: ref(x[:, :, None], *a, **kw)[:, :, 0]


def _one(v):
    return (1, v) if v is not None else None


# ---- cases ---------------------------------------------------------------------------------------

CONV2D = [  # (name, kwargs, x shape, weight shape, bias)
    ("basic", {}, (2, 3, 6, 7), (4, 3, 3, 3), True),
    ("one_channel", {}, (2, 1, 7, 6), (3, 1, 3, 3), True),
    ("many_channels_cl", {}, (2, 8, 5, 6), (3, 8, 3, 3), True),
    ("stride2_pad1", dict(stride=2, padding=1), (2, 3, 7, 8), (4, 3, 3, 3), True),
    ("stride_pad_tuple", dict(stride=(2, 1), padding=(1, 2)), (2, 8, 7, 6), (3, 8, 2, 3), True),
    ("dilation2", dict(dilation=2, padding=1), (1, 6, 8, 8), (2, 6, 3, 3), False),
    ("same", dict(padding="same"), (2, 3, 6, 5), (2, 3, 3, 3), True),
    ("same_even_kernel", dict(padding="same"), (2, 8, 6, 5), (2, 8, 4, 2), True),
    ("same_dilated", dict(padding="same", dilation=(2, 1)), (1, 3, 7, 6), (2, 3, 3, 3), True),
    ("valid", dict(padding="valid"), (2, 3, 6, 5), (2, 3, 3, 3), False),
    ("groups2", dict(groups=2, padding=1), (2, 4, 5, 5), (6, 2, 3, 3), True),
    ("depthwise", dict(groups=4, padding=1), (2, 4, 5, 6), (4, 1, 3, 3), True),
    ("depthwise_multiplier", dict(groups=3, stride=2), (2, 3, 7, 7), (6, 1, 3, 3), False),
    ("no_bias_1x1", {}, (2, 5, 4, 4), (3, 5, 1, 1), False),
    ("reflect", dict(padding=2, mode="reflect"), (1, 3, 5, 6), (2, 3, 3, 3), True),
    ("replicate", dict(padding=(1, 2), mode="replicate"), (1, 8, 5, 4), (2, 8, 3, 3), True),
    ("circular", dict(padding=1, mode="circular", stride=2), (1, 3, 5, 6), (2, 3, 3, 3), True),
]

CASES: list = []
for _name, _kw, _xs, _ws, _bias in CONV2D:
    _kw = dict(_kw)
    _mode = _kw.pop("mode", "zeros")
    _shapes = [_xs, _ws] + ([(_ws[0],)] if _bias else [])

    def _torch(t, x, w, b=None, kw=_kw, mode=_mode):
        if mode == "zeros":
            return t.nn.functional.conv2d(x, w, b, **kw)
        p = _pair(kw["padding"])
        x = t.nn.functional.pad(x, (p[1], p[1], p[0], p[0]), mode=mode)
        return t.nn.functional.conv2d(x, w, b, **{k: v for k, v in kw.items() if k != "padding"})

    CASES.append(Case(
        f"conv2d_{_name}",
        lambda x, w, b=None, kw=_kw, mode=_mode: conv2d(x, w, b, padding_mode=mode, **kw),
        lambda x, w, b=None, kw=_kw, mode=_mode: np_conv2d(x, w, b, mode=mode, **kw),
        _shapes, _torch))

CASES += [
    Case("conv2d_relu_fused", lambda x, w, b: conv2d(x, w, b, padding=1, activation="relu"),
         lambda x, w, b: np.maximum(np_conv2d(x, w, b, padding=1), 0),
         [(2, 8, 5, 5), (3, 8, 3, 3), (3,)],
         lambda t, x, w, b: t.relu(t.nn.functional.conv2d(x, w, b, padding=1))),
    Case("conv2d_unbatched", lambda x, w: conv2d(x, w, stride=2),
         lambda x, w: np_conv2d(x[None], w, stride=2)[0], [(3, 7, 7), (2, 3, 3, 3)],
         lambda t, x, w: t.nn.functional.conv2d(x, w, stride=2)),
    Case("conv1d", lambda x, w, b: conv1d(x, w, b, stride=2, padding=1, dilation=2),
         lambda x, w, b: np_conv1d(x, w, b, 2, 1, 2), [(2, 3, 11), (4, 3, 3), (4,)],
         lambda t, x, w, b: t.nn.functional.conv1d(x, w, b, stride=2, padding=1, dilation=2)),
    Case("conv1d_same_groups", lambda x, w: conv1d(x, w, padding="same", groups=2),
         lambda x, w: np_conv1d(x, w, padding="same", groups=2), [(2, 4, 9), (6, 2, 4)],
         lambda t, x, w: t.nn.functional.conv1d(x, w, padding="same", groups=2)),
    Case("conv1d_many_channels_reflect", lambda x, w: conv1d(x, w, padding=2,
                                                             padding_mode="reflect"),
         lambda x, w: np_conv1d(x, w, padding=2, mode="reflect"), [(2, 20, 7), (3, 20, 3)],
         lambda t, x, w: t.nn.functional.conv1d(t.nn.functional.pad(x, (2, 2), mode="reflect"),
                                                w)),
]

TRANSPOSE = [  # (name, kwargs, x shape, weight shape (in, out/groups, kh, kw), bias)
    ("basic", {}, (2, 3, 4, 5), (3, 2, 3, 3), True),
    ("stride2", dict(stride=2), (2, 3, 4, 4), (3, 2, 3, 3), True),
    ("stride2_pad1_outpad1", dict(stride=2, padding=1, output_padding=1), (2, 4, 3, 4),
     (4, 3, 3, 3), True),
    ("groups2_dilation2", dict(groups=2, dilation=2, stride=(1, 2)), (1, 4, 3, 4), (4, 3, 3, 2),
     False),
    ("kernel2_stride2", dict(stride=2), (2, 5, 3, 3), (5, 2, 2, 2), True),
]
for _name, _kw, _xs, _ws, _bias in TRANSPOSE:
    CASES.append(Case(
        f"conv_transpose2d_{_name}",
        lambda x, w, b=None, kw=_kw: conv_transpose2d(x, w, b, **kw),
        lambda x, w, b=None, kw=_kw: np_conv_transpose2d(x, w, b, **kw),
        [_xs, _ws] + ([(_ws[1] * _kw.get("groups", 1),)] if _bias else []),
        lambda t, x, w, b=None, kw=_kw: t.nn.functional.conv_transpose2d(x, w, b, **kw)))

POOL = [  # (name, kwargs, x shape)
    ("k2", dict(kernel_size=2), (2, 3, 6, 8)),
    ("k2_odd_crop", dict(kernel_size=2), (2, 3, 7, 5)),
    ("k3_s2_p1", dict(kernel_size=3, stride=2, padding=1), (2, 2, 7, 8)),
    ("k2_s1_overlap", dict(kernel_size=2, stride=1), (1, 2, 5, 6)),
    ("k_tuple", dict(kernel_size=(2, 3), stride=(1, 2)), (2, 2, 6, 7)),
    ("ceil", dict(kernel_size=3, stride=2, ceil_mode=True), (1, 2, 8, 6)),
    ("ceil_pad", dict(kernel_size=2, stride=2, padding=1, ceil_mode=True), (1, 2, 7, 6)),
    ("unbatched", dict(kernel_size=2), (3, 6, 4)),
]
_MAX_ONLY = [("dilation2", dict(kernel_size=2, stride=2, padding=1, dilation=2), (1, 2, 9, 9))]
_AVG_ONLY = [
    ("exclude_pad", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
     (2, 2, 7, 8)),
    ("ceil_exclude", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                          count_include_pad=False), (1, 2, 8, 8)),
    ("divisor", dict(kernel_size=2, divisor_override=3), (1, 2, 4, 4)),
]
_MAX_KW = dict(kernel_size="k", stride="s", padding="p", dilation="d", ceil_mode="ceil")
_AVG_KW = dict(kernel_size="k", stride="s", padding="p", ceil_mode="ceil",
               count_include_pad="include", divisor_override="divisor")
for _name, _kw, _xs in POOL + _MAX_ONLY:
    CASES.append(Case(
        f"max_pool2d_{_name}", lambda x, kw=_kw: max_pool2d(x, **kw),
        lambda x, kw=_kw: np_max_pool2d(x, **{_MAX_KW[k]: v for k, v in kw.items()}),
        [_xs], lambda t, x, kw=_kw: t.nn.functional.max_pool2d(x, **kw)))
for _name, _kw, _xs in POOL + _AVG_ONLY:
    CASES.append(Case(
        f"avg_pool2d_{_name}", lambda x, kw=_kw: avg_pool2d(x, **kw),
        lambda x, kw=_kw: np_avg_pool2d(x, **{_AVG_KW[k]: v for k, v in kw.items()}),
        [_xs], lambda t, x, kw=_kw: t.nn.functional.avg_pool2d(x, **kw)))

CASES += [
    Case("max_pool1d", lambda x: max_pool1d(x, 3, 2, 1, ceil_mode=True),
         lambda x: _pool1d(np_max_pool2d)(x, (1, 3), (1, 2), (0, 1), ceil=True), [(2, 3, 10)],
         lambda t, x: t.nn.functional.max_pool1d(x, 3, 2, 1, ceil_mode=True)),
    Case("max_pool1d_k2", lambda x: max_pool1d(x, 2), lambda x: _pool1d(np_max_pool2d)(
        x, (1, 2)), [(2, 3, 9)], lambda t, x: t.nn.functional.max_pool1d(x, 2)),
    Case("avg_pool1d", lambda x: avg_pool1d(x, 3, 2, 1),
         lambda x: _pool1d(np_avg_pool2d)(x, (1, 3), (1, 2), (0, 1)), [(2, 3, 10)],
         lambda t, x: t.nn.functional.avg_pool1d(x, 3, 2, 1)),
    Case("adaptive_avg_pool2d_uneven", lambda x: adaptive_avg_pool2d(x, (3, 4)),
         lambda x: np_adaptive_avg_pool2d(x, (3, 4)), [(2, 3, 7, 9)],
         lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, (3, 4))),
    Case("adaptive_avg_pool2d_global", lambda x: adaptive_avg_pool2d(x, 1),
         lambda x: np_adaptive_avg_pool2d(x, 1), [(2, 3, 5, 4)],
         lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, 1)),
    Case("adaptive_avg_pool2d_none", lambda x: adaptive_avg_pool2d(x, (None, 2)),
         lambda x: np_adaptive_avg_pool2d(x, (5, 2)), [(2, 3, 5, 4)],
         lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, (None, 2))),
    Case("adaptive_avg_pool1d", lambda x: adaptive_avg_pool1d(x, 3),
         lambda x: np_adaptive_avg_pool2d(x[:, :, None], (1, 3))[:, :, 0], [(2, 3, 8)],
         lambda t, x: t.nn.functional.adaptive_avg_pool1d(x, 3)),
    Case("interpolate_nearest_x2", lambda x: interpolate(x, scale_factor=2),
         lambda x: np_nearest(x, (8, 10)), [(2, 3, 4, 5)],
         lambda t, x: t.nn.functional.interpolate(x, scale_factor=2, mode="nearest")),
    Case("interpolate_nearest_size", lambda x: interpolate(x, size=(7, 3)),
         lambda x: np_nearest(x, (7, 3)), [(2, 3, 4, 5)],
         lambda t, x: t.nn.functional.interpolate(x, size=(7, 3), mode="nearest")),
    Case("interpolate_nearest_1d", lambda x: interpolate(x, scale_factor=3),
         lambda x: np_nearest(x, (15,)), [(2, 3, 5)],
         lambda t, x: t.nn.functional.interpolate(x, scale_factor=3, mode="nearest")),
]

for _mode in ("reflect", "replicate", "circular"):
    CASES.append(Case(
        f"pad_{_mode}", lambda x, m=_mode: torch_pad(x, (1, 2, 2, 1), mode=m),
        lambda x, m=_mode: np.pad(x, [(0, 0), (0, 0), (2, 1), (1, 2)], mode=_NP_MODE[m]),
        [(2, 3, 4, 5)], lambda t, x, m=_mode: t.nn.functional.pad(x, (1, 2, 2, 1), mode=m)))
CASES += [
    Case("pad_constant_value", lambda x: torch_pad(x, (1, 2), value=0.5),
         lambda x: np.pad(x, [(0, 0), (0, 0), (1, 2)], constant_values=0.5), [(2, 3, 4)],
         lambda t, x: t.nn.functional.pad(x, (1, 2), value=0.5)),
    Case("pad_constant_crop", lambda x: torch_pad(x, (-1, 2, 1, -2)),
         lambda x: np.pad(x, [(0, 0), (0, 0), (1, 0), (0, 2)])[:, :, :-2, 1:], [(2, 3, 5, 4)],
         lambda t, x: t.nn.functional.pad(x, (-1, 2, 1, -2))),
    Case("pad_mode_numpy_widths", lambda x: pad_mode(x, [(1, 1), (2, 0)], "reflect"),
         lambda x: np.pad(x, [(1, 1), (2, 0)], mode="reflect"), [(4, 5)]),
]

# ---- gradients as ops: each case's op is the recorded gradient (create_graph) of a conv or pool
# w.r.t. one input, contracted with its last input v: the table checks it to third order.


def _vjp_ref(f, x, v):
    """The gradient of sum(f(x) * v) for `f` linear in x (f(e_k): a row of its Jacobian)."""
    basis = np.eye(x.size).reshape((x.size,) + x.shape)
    return np.array([(f(e) * v).sum() for e in basis]).reshape(x.shape)


def _argmax_ref(pool, x, v):
    """The gradient of sum(pool(x) * v) for a max pool: x[k] takes v where raising it counts."""
    y, basis = pool(x), np.eye(x.size).reshape((x.size,) + x.shape)
    return np.array([v[pool(x + 1e-6 * e) != y].sum() for e in basis]).reshape(x.shape)


def _grad_case(name, op, top, wrt, shapes, ref):
    """The case "<name>": d sum(op(*xs) * v) / d xs[wrt], recorded, as an op of (*xs, v)."""
    def f(*xs):
        ins = [t if t.requires_grad else t.detach().requires_grad_() for t in xs[:-1]]
        return gk_grad(op(*ins), ins[wrt], xs[-1], create_graph=True)[0]

    def tf(t, *xs):
        return t.autograd.grad(top(t, *xs[:-1]), xs[wrt], xs[-1], create_graph=True)[0]

    return Case(name, f, ref, shapes, tf if top is not None else None)


_RF = dict(stride=2, padding=1, mode="reflect")
_GR = dict(groups=2, dilation=(2, 1), padding=(1, 0))
_OP = dict(stride=(2, 1), output_padding=(1, 0), groups=2)  # PyTorch has no third order of it
CASES += [
    _grad_case("conv2d_grad_x_reflect_tanh",
               lambda x, w, b: conv2d(x, w, b, 2, 1, padding_mode="reflect", activation="tanh"),
               lambda t, x, w, b: t.tanh(t.nn.functional.conv2d(
                   t.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect"), w, b, stride=2)), 0,
               [(1, 2, 5, 4), (3, 2, 3, 3), (3,), (1, 3, 3, 2)],
               lambda x, w, b, v: _vjp_ref(lambda e: np_conv2d(e, w, **_RF), x, v * (
                   1 - np.tanh(np_conv2d(x, w, b, **_RF)) ** 2))),
    _grad_case("conv2d_grad_w_groups_relu", lambda x, w: conv2d(x, w, activation="relu", **_GR),
               lambda t, x, w: t.relu(t.nn.functional.conv2d(x, w, **_GR)), 1,
               [(2, 4, 5, 3), (4, 2, 2, 2), (2, 4, 5, 2)],
               lambda x, w, v: _vjp_ref(lambda e: np_conv2d(x, e, **_GR), w,
                                        v * (np_conv2d(x, w, **_GR) > 0))),
    _grad_case("conv1d_grad_x_many_channels", lambda x, w: conv1d(x, w, padding=1),
               lambda t, x, w: t.nn.functional.conv1d(x, w, padding=1), 0,
               [(1, 16, 4), (2, 16, 2), (1, 2, 5)],
               lambda x, w, v: _vjp_ref(lambda e: np_conv1d(e, w, padding=1), x, v)),
    _grad_case("conv_transpose2d_grad_w", lambda x, w: conv_transpose2d(x, w, None, 2, 1),
               lambda t, x, w: t.nn.functional.conv_transpose2d(x, w, stride=2, padding=1), 1,
               [(1, 2, 2, 3), (2, 2, 3, 3), (1, 2, 3, 5)],
               lambda x, w, v: _vjp_ref(lambda e: np_conv_transpose2d(x, e, None, 2, 1), w, v)),
    _grad_case("conv_transpose2d_grad_x_outpad", lambda x, w, b: conv_transpose2d(x, w, b, **_OP),
               None, 0, [(1, 4, 2, 3), (4, 1, 2, 2), (2,), (1, 2, 5, 4)],
               lambda x, w, b, v: _vjp_ref(lambda e: np_conv_transpose2d(e, w, **_OP), x, v)),
    _grad_case("max_pool2d_grad_k2", lambda x: max_pool2d(x, 2),
               lambda t, x: t.nn.functional.max_pool2d(x, 2), 0, [(1, 2, 4, 5), (1, 2, 2, 2)],
               lambda x, v: _argmax_ref(lambda a: np_max_pool2d(a, 2), x, v)),
    _grad_case("max_pool2d_grad_k3_s2_p1_ceil", lambda x: max_pool2d(x, 3, 2, 1, ceil_mode=True),
               lambda t, x: t.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True), 0,
               [(1, 2, 6, 5), (1, 2, 4, 3)],
               lambda x, v: _argmax_ref(lambda a: np_max_pool2d(a, 3, 2, 1, ceil=True), x, v)),
    _grad_case("max_pool1d_grad_dilation", lambda x: max_pool1d(x, 2, 1, dilation=2),
               lambda t, x: t.nn.functional.max_pool1d(x, 2, 1, dilation=2), 0,
               [(2, 2, 6), (2, 2, 4)],
               lambda x, v: _argmax_ref(_pool1d(lambda a: np_max_pool2d(a, (1, 2), 1, d=(1, 2))),
                                        x, v)),
    _grad_case("avg_pool2d_grad_exclude_ceil",
               lambda x: avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
               lambda t, x: t.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                                       count_include_pad=False), 0,
               [(1, 2, 6, 5), (1, 2, 4, 3)],
               lambda x, v: _vjp_ref(lambda e: np_avg_pool2d(e, 3, 2, 1, True, False), x, v)),
    _grad_case("adaptive_avg_pool2d_grad", lambda x: adaptive_avg_pool2d(x, (2, 3)),
               lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, (2, 3)), 0,
               [(1, 2, 5, 4), (1, 2, 2, 3)],
               lambda x, v: _vjp_ref(lambda e: np_adaptive_avg_pool2d(e, (2, 3)), x, v)),
    _grad_case("pad_circular_grad", lambda x: torch_pad(x, (2, 1, 1, 0), mode="circular"),
               lambda t, x: t.nn.functional.pad(x, (2, 1, 1, 0), mode="circular"), 0,
               [(1, 2, 3, 4), (1, 2, 4, 7)], lambda x, v: _vjp_ref(
                   lambda e: np.pad(e, [(0, 0), (0, 0), (1, 0), (2, 1)], mode="wrap"), x, v)),
]
