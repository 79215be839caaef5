"""The recurrent layers of `recurrent.py` as compositions of simple gk ops (matmul, sigmoid,
tanh, indexing, stack), step by step in PyTorch's gate order: what their gradient rules
differentiate on recorded values (`create_graph=True`, grad of grad), so that the fused
kernels' gradients are differentiable again. Each takes the operands by name (a state or a
bias may be None: zeros) and returns (output (T, N, H), {side state op name: that state})."""

from __future__ import annotations

from .elementwise import relu, sigmoid, tanh
from .linalg import matmul
from .shape import stack

__all__ = ["lstm_composite", "gru_composite", "rnn_composite"]


def _projected(x, w_ih, b_ih, b_hh):
    """x @ w_ih.T plus the biases given, for the whole sequence (T, N, G*H)."""
    gi = matmul(x, w_ih.T)
    for b in (b_ih, b_hh):
        if b is not None:
            gi = gi + b
    return gi


def _steps(t: int, reverse: bool) -> range:
    return range(t - 1, -1, -1) if reverse else range(t)


def lstm_composite(x, h0=None, c0=None, w_ih=None, w_hh=None, b_ih=None, b_hh=None,
                   reverse: bool = False):
    """`recurrent.lstm` (i, f, g, o gates); the side state is c_n ("lstm_c_n")."""
    hid = w_hh.shape[1]
    gi = _projected(x, w_ih, b_ih, b_hh)
    h, c = h0, c0
    outs: list = [None] * x.shape[0]
    for s in _steps(x.shape[0], reverse):
        a = gi[s] if h is None else gi[s] + matmul(h, w_hh.T)
        i, f = sigmoid(a[:, :hid]), sigmoid(a[:, hid:2 * hid])
        g, o = tanh(a[:, 2 * hid:3 * hid]), sigmoid(a[:, 3 * hid:])
        c = i * g if c is None else f * c + i * g
        h = outs[s] = o * tanh(c)
    return stack(outs), {"lstm_c_n": c}


def gru_composite(x, h0=None, w_ih=None, w_hh=None, b_ih=None, b_hh=None,
                  reverse: bool = False):
    """`recurrent.gru` (r, z, n gates; b_hn inside r * (W_hn h + b_hn)); no side state."""
    hid = w_hh.shape[1]
    gi = _projected(x, w_ih, b_ih, None)
    h = h0
    outs: list = [None] * x.shape[0]
    for s in _steps(x.shape[0], reverse):
        gh = b_hh if h is None else matmul(h, w_hh.T) if b_hh is None else (
            matmul(h, w_hh.T) + b_hh)
        a = gi[s]
        ar, az, an = a[:, :hid], a[:, hid:2 * hid], a[:, 2 * hid:]
        if gh is not None:
            r = sigmoid(ar + gh[..., :hid])
            z = sigmoid(az + gh[..., hid:2 * hid])
            n = tanh(an + r * gh[..., 2 * hid:])
        else:
            z, n = sigmoid(az), tanh(an)
        h = outs[s] = (1 - z) * n if h is None else (1 - z) * n + z * h
    return stack(outs), {}


def rnn_composite(x, h0=None, w_ih=None, w_hh=None, b_ih=None, b_hh=None,
                  reverse: bool = False, nonlinearity: str = "tanh"):
    """`recurrent.rnn`: h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh or relu."""
    act = tanh if nonlinearity == "tanh" else relu
    gi = _projected(x, w_ih, b_ih, b_hh)
    h = h0
    outs: list = [None] * x.shape[0]
    for s in _steps(x.shape[0], reverse):
        h = outs[s] = act(gi[s] if h is None else gi[s] + matmul(h, w_hh.T))
    return stack(outs), {}
