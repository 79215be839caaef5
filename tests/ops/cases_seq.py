"""Op-table cases of the sequence ops (joined to tests/ops/cases.py CASES).

The fused recurrent ops return several results; a case concatenates them (output, then the
final states as extra time steps) so that every result is checked. NumPy references are
naive per-step loops; PyTorch references are torch's own layers (`torch.func.functional_call`
on nn.LSTM / nn.GRU / nn.RNN with the case's tensors as parameters).
"""

from __future__ import annotations

import math

import numpy as np

import gradkit as gk
from gradkit.ops.attention import scaled_dot_product_attention
from gradkit.ops.recurrent import gru, lstm, rnn
from gradkit.ops.sequence import embedding

from .cases import Case

CASES: list = []

T, N, I, H = 4, 2, 3, 5  # steps, batch, input features, hidden size


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _np_cell(kind: str, x, h, c, wi, wh, bi, bh):
    """One step of PyTorch's cells, in NumPy (float64)."""
    gi, gh = x @ wi.T + bi, h @ wh.T + bh
    if kind == "lstm":
        i, f, g, o = np.split(gi + gh, 4, axis=1)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        return _sig(o) * np.tanh(c), c
    if kind == "gru":
        ir, iz, inn = np.split(gi, 3, axis=1)
        hr, hz, hn = np.split(gh, 3, axis=1)
        r, z = _sig(ir + hr), _sig(iz + hz)
        n = np.tanh(inn + r * hn)
        return (1 - z) * n + z * h, c
    a = gi + gh
    return (np.tanh(a) if kind == "rnn_tanh" else np.maximum(a, 0)), c


def _np_layer(kind: str, reverse: bool, x, h0=None, c0=None, wi=None, wh=None, bi=None,
              bh=None):
    """The whole layer, step by step: output, then h_n (and c_n) as extra steps."""
    t, n, _ = x.shape
    hid = wh.shape[1]
    h = np.zeros((n, hid)) if h0 is None else h0
    c = np.zeros((n, hid)) if c0 is None else c0
    bi = np.zeros(wh.shape[0]) if bi is None else bi
    bh = np.zeros(wh.shape[0]) if bh is None else bh
    outs = [None] * t
    for s in (range(t - 1, -1, -1) if reverse else range(t)):
        h, c = _np_cell(kind, x[s], h, c, wi, wh, bi, bh)
        outs[s] = h
    finals = [h[None], c[None]] if kind == "lstm" else [h[None]]
    return np.concatenate([np.stack(outs)] + finals, axis=0)


_GK = {"lstm": lstm, "gru": gru, "rnn_tanh": rnn, "rnn_relu": rnn}
_TORCH = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN", "rnn_relu": "RNN"}


def _gk_layer(kind: str, reverse: bool, states: bool, bias: bool):
    def run(x, *rest):
        k = (2 if kind == "lstm" else 1) if states else 0
        st = list(rest[:k]) if states else [None] * (2 if kind == "lstm" else 1)
        kw = {"nonlinearity": kind[4:]} if kind.startswith("rnn") else {}
        res = _GK[kind](x, *st, *rest[k:], reverse=reverse, **kw)
        out, finals = res[0], res[1:]
        return gk.concatenate([out] + [gk.expand_dims(f, 0) for f in finals], axis=0)

    return run


def _np_ref(kind: str, reverse: bool, states: bool, bias: bool):
    def ref(x, *rest):
        k = (2 if kind == "lstm" else 1) if states else 0
        st = list(rest[:k]) + [None] * (2 - k)
        ws = list(rest[k:]) + [None] * (4 - len(rest[k:]))
        return _np_layer(kind, reverse, x, *st, *ws)

    return ref


def _torch_ref(kind: str, reverse: bool, states: bool, bias: bool):
    def ref(t, x, *rest):
        k = (2 if kind == "lstm" else 1) if states else 0
        w = rest[k:]
        extra = {"nonlinearity": kind[4:]} if kind.startswith("rnn") else {}
        module = getattr(t.nn, _TORCH[kind])(x.shape[2], w[1].shape[1], bias=bias, **extra)
        names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"][:len(w)]
        xin = t.flip(x, (0,)) if reverse else x
        hx = None
        if states:
            hx = tuple(s[None] for s in rest[:k]) if kind == "lstm" else rest[0][None]
        out, finals = t.func.functional_call(module, dict(zip(names, w)), (xin, hx))
        out = t.flip(out, (0,)) if reverse else out
        finals = list(finals) if kind == "lstm" else [finals]
        return t.cat([out] + finals, dim=0)

    return ref


def _recurrent_case(kind: str, reverse: bool = False, states: bool = True, bias: bool = True):
    g = {"lstm": 4, "gru": 3}.get(kind, 1)
    shapes = [(T, N, I)] + ([(N, H)] * (2 if kind == "lstm" else 1) if states else [])
    shapes += [(g * H, I), (g * H, H)] + ([(g * H,), (g * H,)] if bias else [])
    name = f"{kind}[reverse={reverse},states={states},bias={bias}]"
    args = (kind, reverse, states, bias)
    return Case(name, _gk_layer(*args), _np_ref(*args), shapes, _torch_ref(*args),
                "away0" if kind == "rnn_relu" else "any")


for _kind in ("lstm", "gru", "rnn_tanh", "rnn_relu"):
    CASES += [_recurrent_case(_kind), _recurrent_case(_kind, reverse=True),
              _recurrent_case(_kind, states=False, bias=False)]


# ---- embedding ------------------------------------------------------------------------------


def _square(e):
    return e * e


CASES += [
    Case("embedding", embedding, lambda i, w: w[i], [(2, 5), (7, 3)],
         lambda t, i, w: t.nn.functional.embedding(i, w), ints={0: 7}),
    Case("embedding_1d", embedding, lambda i, w: w[i], [(6,), (4, 2)],
         lambda t, i, w: t.nn.functional.embedding(i, w), ints={0: 4}),
    # the lookup's gradient depends on w here, so its second order checks that gradient's rule
    Case("embedding[squared]", lambda i, w: _square(embedding(i, w)), lambda i, w: w[i] ** 2,
         [(2, 5), (7, 3)], lambda t, i, w: t.nn.functional.embedding(i, w) ** 2, ints={0: 7}),
    # padding_idx: the forward uses the row, the gradient skips it (checked in test_embedding)
    Case("embedding_padding_idx", lambda i, w: embedding(i, w, padding_idx=2),
         lambda i, w: w[i], [(3, 4), (5, 3)],
         lambda t, i, w: t.nn.functional.embedding(i, w, padding_idx=2), ints={0: 5},
         grad=False),
]


# ---- attention ------------------------------------------------------------------------------


def _np_attention(q, k, v, mask=None, scale=None):
    sc = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * sc
    if mask is not None:
        s = s + (np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    return (p / p.sum(axis=-1, keepdims=True)) @ v


_CAUSAL = np.tril(np.ones((4, 6), dtype=bool))
_QKV = [(2, 4, 5), (2, 6, 5), (2, 6, 3)]
_F = "scaled_dot_product_attention"
CASES += [
    Case(_F, scaled_dot_product_attention, _np_attention, _QKV,
         lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v)),
    Case(f"{_F}[heads]", scaled_dot_product_attention, _np_attention,
         [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 2)],
         lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v)),
    Case(f"{_F}[causal]", lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True),
         lambda q, k, v: _np_attention(q, k, v, _CAUSAL), _QKV,
         lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v,
                                                                         is_causal=True)),
    Case(f"{_F}[float_mask,scale]",
         lambda q, k, v, m: scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.7),
         lambda q, k, v, m: _np_attention(q, k, v, m, 0.7), _QKV + [(4, 6)],
         lambda t, q, k, v, m: t.nn.functional.scaled_dot_product_attention(
             q, k, v, attn_mask=m, scale=0.7)),
    Case(f"{_F}[bool_mask]",
         lambda q, k, v: scaled_dot_product_attention(q, k, v, attn_mask=gk.tensor(
             ~_CAUSAL[::-1], device=q.device)),
         lambda q, k, v: _np_attention(q, k, v, ~_CAUSAL[::-1]), _QKV,
         lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(
             q, k, v, attn_mask=t.tensor(np.ascontiguousarray(~_CAUSAL[::-1])))),
]
