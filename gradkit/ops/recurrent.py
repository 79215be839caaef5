"""Recurrent layers as fused ops: one graph node per layer and direction (LSTM, GRU, Elman RNN).

Each op takes a time-major `x` (T, N, I), initial states (N, H) or None (zeros), and PyTorch's
weights `w_ih` (G*H, I), `w_hh` (G*H, H), `b_ih`, `b_hh` (G*H,) in PyTorch's gate order (LSTM
i, f, g, o; GRU r, z, n). `reverse=True` runs from the last step to the first (the backward
direction of a bidirectional layer); outputs stay in time order. Each returns the output
(T, N, H) (the node) and the final state(s) as child nodes of it.

Forward: one GEMM projects the whole sequence (x @ w_ih.T + biases), then one GEMM per step
adds h @ w_hh.T and the gates are applied in place; sigmoid(a) = 1 / (1 + exp(-a)) with the
negation folded into the weights. Backward through time is the node's one gradient rule: one
loop over the steps in reverse with one GEMM each for dh, then one GEMM each over the whole
sequence for dW_hh (the stacked states), dW_ih and dx. The same array-namespace code runs on
CuPy; internal host buffers come from `sequence.WORKSPACE` (reused between steps). On recorded
values (`create_graph=True`) the rule differentiates the step-by-step composition of simple
gk ops in `recurrent_recorded.py` instead, so the gradients are differentiable again.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..autograd import is_grad_enabled, register_differentiable
from ..backend.devices import xp_of
from .recurrent_recorded import gru_composite, lstm_composite, rnn_composite
from .sequence import (
    WORKSPACE,
    arranged_gates,
    bias_grads,
    bias_sum,
    checked_operands,
    hidden_grads,
    init_state,
    input_grads,
    project_sequence,
    record_sequence,
    scaled_gates,
    side_state,
    sigmoid_negated_,
    state_part,
    state_rows,
    torch_gate_order,
)

__all__ = ["lstm", "gru", "rnn"]

_NAMES = ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh")

# On recorded values each rule differentiates the composition of recurrent_recorded.py
# (sequence.record_sequence): the fused kernels' buffers it holds go unused there.
register_differentiable("lstm", "gru", "rnn_tanh", "rnn_relu", strict=False)


# ---- LSTM ---------------------------------------------------------------------------------
# One exp covers the four gates of a step: i, f, o = sigmoid(a) = 1 / (1 + exp(-a)) and
# g = tanh(a) = 2 sigmoid(2a) - 1, the factors -1 and -2 folded into the weights (exact).
# When the result will be recorded, each step also leaves what backward needs, computed while
# the step's gates are in cache: the gate derivatives D and P = o (1 - tanh(c)^2). Internal
# buffers come from (and go back to) the Workspace, so no step maps fresh pages for them.

_LSTM_SCALES = (-1, -1, -2, -1)


def lstm(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse: bool = False):
    """One LSTM layer and direction as one node: returns (output (T, N, H), h_n, c_n).

    PyTorch's cell: i, f, o = sigmoid(.), g = tanh(.), c' = f * c + i * g, h' = o * tanh(c').
    `h0`, `c0` (N, H) may be None (zeros); both are differentiable.
    """
    ops = checked_operands("lstm", 4, dict(zip(_NAMES, (x, h0, c0, w_ih, w_hh, b_ih, b_hh))))
    X, dt = ops[0]._data, ops[0].dtype
    xp = xp_of(X)
    t, n, _ = X.shape
    h = ops[4].shape[1]
    bias = bias_sum(ops[5], ops[6])
    G = project_sequence(X, scaled_gates(xp, ops[3]._data, _LSTM_SCALES),
                         None if bias is None else scaled_gates(xp, bias, _LSTM_SCALES), True)
    S = xp.empty((2, t + 1, n, h), dtype=dt)  # [h states, c states], rows as in state_rows
    steps, off = state_rows(t, reverse)
    init_state(S[0], ops[1], t - t * off)
    init_state(S[1], ops[2], t - t * off)
    keep = is_grad_enabled() and any(o is not None and o.requires_grad for o in ops)
    saved = (WORKSPACE.empty(xp, G.shape, dt),
             WORKSPACE.empty(xp, (t, n, h), dt)) if keep else None  # D, P: _lstm_factors
    whT = xp.ascontiguousarray(scaled_gates(xp, ops[4]._data, _LSTM_SCALES).T)
    _lstm_steps(xp, G, S, whT, steps, off, saved)
    w_ih, w_hh = ops[3]._data, ops[4]._data

    def backward(g, need, stash):
        dc = stash.get("lstm_c_n")
        dc = xp.zeros((n, h), dtype=dt) if dc is None else dc.copy()
        return _lstm_backward(xp, g, dc, X, G, S, saved, (w_ih, w_hh), steps, off, need)

    out, stash = record_sequence("lstm", dict(zip(_NAMES, ops)), S[0, off:t + off], backward,
                                 partial(lstm_composite, reverse=reverse))
    WORKSPACE.give_when_freed(out, (G,) + (saved or ()))
    return (out, state_part(out, steps[-1], "lstm_h_n"),
            side_state(out, S[1, steps[-1] + off], stash, "lstm_c_n"))


def _lstm_steps(xp, G, S, whT, steps, off: int, saved) -> None:
    """The recurrence: per step one GEMM, the gates in place, c and h. With `saved` (D, P)
    the steps also leave tanh(c) in P, and every few steps (a block that fits in cache)
    `_lstm_factors` turns the block into what backward needs, with a few calls per block."""
    Hs, Cs = S[0], S[1]
    h = Hs.shape[-1]
    rec = xp.empty(G.shape[1:], dtype=G.dtype)
    ig, tc = xp.empty(Hs.shape[1:], dtype=G.dtype), xp.empty(Hs.shape[1:], dtype=G.dtype)
    block = max(1, min(16, (1 << 19) // max(1, G[0].nbytes)))
    first = steps[0]
    with np.errstate(over="ignore"):  # exp(-x) = inf gives sigmoid(x) = 0, as it should
        for k, s in enumerate(steps):
            gs, cp = G[s], Cs[s + 1 - off]
            xp.matmul(Hs[s + 1 - off], whT, out=rec)
            gs += rec
            sigmoid_negated_(xp, gs)
            gg = gs[:, 2 * h:3 * h]
            gg *= 2
            gg -= 1
            c = Cs[s + off]
            xp.multiply(gs[:, h:2 * h], cp, out=c)
            xp.multiply(gs[:, :h], gg, out=ig)
            c += ig
            t_c = tc if saved is None else saved[1][s]
            xp.tanh(c, out=t_c)
            xp.multiply(gs[:, 3 * h:], t_c, out=Hs[s + off])
            if saved is not None and ((k + 1) % block == 0 or k == len(steps) - 1):
                lo, hi = min(first, s), max(first, s) + 1
                _lstm_factors(xp, G[lo:hi], Cs[lo + 1 - off:hi + 1 - off],
                              Hs[lo + off:hi + off], saved[0][lo:hi], saved[1][lo:hi])
                first = s - 1 if off == 0 else s + 1


def _lstm_factors(xp, gs, cp, hs, d, p) -> None:
    """A block of steps' saved values: d (..., 4H) = [g i', c_prev f', i g', tanh(c) o']
    (which dc, dc, dc and dh multiply into the pre-activation gradients), and p, holding
    tanh(c) on entry, = o (1 - tanh(c)^2) = o - h tanh(c)."""
    h = p.shape[-1]
    xp.multiply(gs, gs, out=d)
    xp.subtract(gs, d, out=d)  # s (1 - s) of the sigmoid gates
    i, gg = gs[..., :h], gs[..., 2 * h:3 * h]
    d[..., :h] *= gg
    d[..., h:2 * h] *= cp
    d[..., 3 * h:] *= p
    dg = d[..., 2 * h:3 * h]
    xp.multiply(gg, gg, out=dg)
    xp.subtract(1, dg, out=dg)
    dg *= i
    xp.multiply(hs, p, out=p)
    xp.subtract(gs[..., 3 * h:], p, out=p)


def _lstm_backward(xp, g, dc, X, G, S, saved, weights, steps, off: int, need: dict) -> dict:
    """Backward through time of `lstm`: the gradients by operand name."""
    D, P = saved
    t, n, h = P.shape
    A = WORKSPACE.empty(xp, D.shape, D.dtype)  # pre-activation gradients
    D4, A4 = D.reshape(t, n, 4, h), A.reshape(t, n, 4, h)
    dh, tmp = xp.empty((n, h), dtype=D.dtype), xp.empty((n, h), dtype=D.dtype)
    rec = xp.zeros((n, h), dtype=D.dtype)
    for s in reversed(steps):
        xp.add(g[s], rec, out=dh)
        xp.multiply(dh, P[s], out=tmp)
        dc += tmp
        xp.multiply(D4[s, :, 3], dh, out=A4[s, :, 3])
        xp.multiply(D4[s, :, :3], dc[:, None, :], out=A4[s, :, :3])
        dc *= G[s, :, h:2 * h]  # f
        xp.matmul(A[s], weights[1], out=rec)
    prev = slice(1 - off, t + 1 - off)
    grads = {"h0": rec, "c0": dc, "w_hh": hidden_grads(A, S[0][prev], need["w_hh"])}
    grads["x"], grads["w_ih"] = input_grads(xp, A, X, weights[0], need["x"], need["w_ih"])
    bias_grads(grads, need, A)
    WORKSPACE.give((A,))
    return grads


# ---- GRU ----------------------------------------------------------------------------------
# The gradient buffer D (T, N, 4H) holds, per step, [dn, dr, dz, dRn] (pre-activation
# gradients; dRn for W_hn h + b_hn): its first three columns are the input projection's
# gradient in the order n, r, z, its last three the recurrent one's in PyTorch's r, z, n.

_GRU_NRZ, _GRU_BACK = (2, 0, 1), (1, 2, 0)
_GRU_SCALES = (-1, -1, 1)  # r, z through sigmoid(a) = 1 / (1 + exp(-a))


def gru(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse: bool = False):
    """One GRU layer and direction as one node: returns (output (T, N, H), h_n).

    PyTorch's cell: r, z = sigmoid(.), n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h. `h0` (N, H) may be None (zeros) and is differentiable.
    """
    x, h0, w_ih, w_hh, b_ih, b_hh = checked_operands(
        "gru", 3, dict(x=x, h0=h0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh))
    X, dt = x._data, x.dtype
    xp = xp_of(X)
    t, n, _ = X.shape
    h = w_hh.shape[1]
    bias = bias_sum(b_ih, b_hh)
    if b_hh is not None:  # b_hn stays inside r * (W_hn h + b_hn)
        bias = bias - xp.concatenate([xp.zeros(2 * h, dtype=dt), b_hh._data[2 * h:]])
    G = project_sequence(X, scaled_gates(xp, w_ih._data, _GRU_SCALES),
                         None if bias is None else scaled_gates(xp, bias, _GRU_SCALES), True)
    R = WORKSPACE.empty(xp, (t, n, 3 * h), dt)  # W_hh h (+ b_hn) of every step
    S = xp.empty((t + 1, n, h), dtype=dt)
    steps, off = state_rows(t, reverse)
    init_state(S, h0, t - t * off)
    b_hn = None if b_hh is None else b_hh._data[2 * h:]
    whT = xp.ascontiguousarray(scaled_gates(xp, w_hh._data, _GRU_SCALES).T)
    _gru_steps(xp, G, R, S, whT, b_hn, steps, off)
    wi, wh = w_ih._data, w_hh._data

    def backward(g, need, stash):
        return _gru_backward(xp, g, X, G, R, S, (wi, wh), steps, off, need)

    out, _ = record_sequence("gru", {"x": x, "h0": h0, "w_ih": w_ih, "w_hh": w_hh,
                                     "b_ih": b_ih, "b_hh": b_hh}, S[off:t + off], backward,
                              partial(gru_composite, reverse=reverse))
    WORKSPACE.give_when_freed(out, (G, R))
    return out, state_part(out, steps[-1], "gru_h_n")


def _gru_steps(xp, G, R, S, whT, b_hn, steps, off: int) -> None:
    """The recurrence: per step one GEMM, r and z, then n and the new state, in place.
    R keeps -(W_hr h), -(W_hz h) (negated weights) and W_hn h + b_hn of every step."""
    h = S.shape[-1]
    tmp = xp.empty(S.shape[1:], dtype=S.dtype)
    with np.errstate(over="ignore"):
        for s in steps:
            gs, rs, hp = G[s], R[s], S[s + 1 - off]
            xp.matmul(hp, whT, out=rs)
            if b_hn is not None:
                rs[:, 2 * h:] += b_hn
            rz = gs[:, :2 * h]
            rz += rs[:, :2 * h]
            sigmoid_negated_(xp, rz)
            nn = gs[:, 2 * h:]
            xp.multiply(gs[:, :h], rs[:, 2 * h:], out=tmp)
            nn += tmp
            xp.tanh(nn, out=nn)
            hs = S[s + off]
            xp.subtract(hp, nn, out=hs)
            hs *= gs[:, h:2 * h]
            hs += nn


def _gru_factors(xp, G, R, hprev):
    """D (T, N, 4H) before the loop: [(1 - z)(1 - n^2), Rn r(1 - r), (h - n) z(1 - z), r],
    so that dh times columns 0 and 2, and dn times columns 1 and 3, give [dn, dr, dz, dRn]."""
    h = hprev.shape[-1]
    D = WORKSPACE.empty(xp, G.shape[:-1] + (4 * h,), G.dtype)
    r, z, nn = G[..., :h], G[..., h:2 * h], G[..., 2 * h:]
    d0, d1, d2, d3 = (D[..., k * h:(k + 1) * h] for k in range(4))
    xp.multiply(nn, nn, out=d0)
    xp.subtract(1, d0, out=d0)
    xp.multiply(z, d0, out=d3)
    d0 -= d3
    for d, gate in ((d1, r), (d2, z)):
        xp.multiply(gate, gate, out=d)
        xp.subtract(gate, d, out=d)
    d1 *= R[..., 2 * h:]
    xp.subtract(hprev, nn, out=d3)
    d2 *= d3
    d3[...] = r
    return D


def _gru_backward(xp, g, X, G, R, S, weights, steps, off: int, need: dict) -> dict:
    """Backward through time of `gru`: the gradients by operand name (PyTorch's order)."""
    t, n, h = S.shape[0] - 1, S.shape[1], S.shape[2]
    prev = slice(1 - off, t + 1 - off)
    D = _gru_factors(xp, G, R, S[prev])
    D4 = D.reshape(t, n, 4, h)
    dh, tmp = xp.empty((n, h), dtype=S.dtype), xp.empty((n, h), dtype=S.dtype)
    rec = xp.zeros((n, h), dtype=S.dtype)
    w_hh = weights[1]
    for s in reversed(steps):
        xp.add(g[s], rec, out=dh)
        D4[s, :, 0::2] *= dh[:, None, :]
        D4[s, :, 1::2] *= D4[s, :, 0:1]
        xp.matmul(D[s, :, h:], w_hh, out=rec)
        xp.multiply(dh, G[s, :, h:2 * h], out=tmp)
        rec += tmp
    dx, dwi = input_grads(xp, D[..., :3 * h], X, arranged_gates(weights[0], _GRU_NRZ),
                           need["x"], need["w_ih"])
    grads = {"h0": rec, "x": dx, "w_ih": torch_gate_order(dwi, _GRU_BACK),
             "w_hh": hidden_grads(D[..., h:], S[prev], need["w_hh"])}
    if need.get("b_ih") or need.get("b_hh"):
        grads["b_ih"] = torch_gate_order(D[..., :3 * h].sum(axis=(0, 1)), _GRU_BACK)
        grads["b_hh"] = D[..., h:].sum(axis=(0, 1))
    WORKSPACE.give((D,))
    return grads


# ---- Elman RNN ----------------------------------------------------------------------------


def rnn(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse: bool = False,
        nonlinearity: str = "tanh"):
    """One Elman RNN layer and direction as one node: h' = act(W_ih x + b_ih + W_hh h + b_hh)
    with act tanh or relu; returns (output (T, N, H), h_n)."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    x, h0, w_ih, w_hh, b_ih, b_hh = checked_operands(
        "rnn", 1, dict(x=x, h0=h0, w_ih=w_ih, w_hh=w_hh, b_ih=b_ih, b_hh=b_hh))
    X = x._data
    xp = xp_of(X)
    t, n, _ = X.shape
    G = project_sequence(X, w_ih._data, bias_sum(b_ih, b_hh), True)
    S = xp.empty((t + 1, n, w_hh.shape[1]), dtype=x.dtype)
    steps, off = state_rows(t, reverse)
    init_state(S, h0, t - t * off)
    whT = w_hh._data.T
    for s in steps:
        hs = S[s + off]
        xp.matmul(S[s + 1 - off], whT, out=hs)
        hs += G[s]
        if nonlinearity == "tanh":
            xp.tanh(hs, out=hs)
        else:
            xp.maximum(hs, 0, out=hs)
    WORKSPACE.give((G,))
    wi, wh = w_ih._data, w_hh._data

    def backward(g, need, stash):
        out = S[off:t + off]
        D = WORKSPACE.empty(xp, out.shape, out.dtype)  # act'(.), then the gradients
        if nonlinearity == "tanh":
            xp.multiply(out, out, out=D)
            xp.subtract(1, D, out=D)
        else:
            xp.greater(out, 0, out=D)
        rec, tmp = xp.zeros(out.shape[1:], dtype=out.dtype), xp.empty(out.shape[1:], out.dtype)
        for s in reversed(steps):
            xp.add(g[s], rec, out=tmp)
            D[s] *= tmp
            xp.matmul(D[s], wh, out=rec)
        prev = S[1 - off:t + 1 - off]
        grads = {"h0": rec, "w_hh": hidden_grads(D, prev, need["w_hh"])}
        grads["x"], grads["w_ih"] = input_grads(xp, D, X, wi, need["x"], need["w_ih"])
        bias_grads(grads, need, D)
        WORKSPACE.give((D,))
        return grads

    out, _ = record_sequence(f"rnn_{nonlinearity}", {"x": x, "h0": h0, "w_ih": w_ih,
                             "w_hh": w_hh, "b_ih": b_ih, "b_hh": b_hh}, S[off:t + off], backward,
                             partial(rnn_composite, reverse=reverse, nonlinearity=nonlinearity))
    return out, state_part(out, steps[-1], "rnn_h_n")
