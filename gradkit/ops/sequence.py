"""Sequence ops: `embedding` (a lookup whose gradient rows are scattered, never a dense
one-hot: segment sums on the CPU, `scatter_add` on a GPU), and the pieces the fused recurrent
ops of `recurrent.py` share: operand checks, the whole-sequence projection and weight-gradient
GEMMs, gate scaling and order, the nodes of their several results, and the Workspace of
reused host buffers."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import numpy as np

from ..autograd import grad, register_differentiable
from ..backend import kernels as ck
from ..backend.deferred import check_later
from ..backend.devices import device_name, scatter_add, to_device, xp_of
from ..errors import DeviceError, DTypeError, ShapeError
from ..tensor import Tensor, _make, as_tensor
from . import recorded
from ._util import _check_devices

__all__ = ["embedding"]


def _where(layer) -> str:
    """The name errors give: "embedding", or the calling layer's repr (made only on error)."""
    return "embedding" if layer is None else layer if isinstance(layer, str) else repr(layer)


def embedding(indices, weight, padding_idx: int | None = None, layer=None):
    """Rows of `weight` (num_embeddings, embedding_dim) picked by integer `indices` of any
    shape: the result has shape indices.shape + (embedding_dim,).

    The gradient adds each picked row's gradient into its row (repeats add up) by a
    scatter, never through a dense one-hot; the row `padding_idx` gets none. `layer`
    (a name, or the calling Module: its repr) names the caller in error messages.
    """
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ShapeError(f"{_where(layer)}: weight must be 2-D (num_embeddings, "
                         f"embedding_dim), got shape {weight.shape}")
    num = weight.shape[0]
    idx = _indices(indices, weight, layer)
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"{_where(layer)}: padding_idx must lie in [-{num}, {num}), got "
                             f"{padding_idx}")
        padding_idx %= num
    w = weight._data
    xp = xp_of(w)
    out = xp.take(w, idx, axis=0)

    def vjp(g):
        if xp is recorded:  # the scatter as an op of its own, differentiable again
            return (_rows_added(g, idx, w.shape[0], padding_idx),)
        gw = xp.zeros(w.shape, dtype=g.dtype)
        _scatter_rows(gw, idx.reshape(-1), g.reshape(-1, w.shape[1]))
        if padding_idx is not None:
            gw[padding_idx] = 0
        return (gw,)

    return _make(out, (weight,), vjp, "embedding")


def _rows_added(g: Tensor, idx, num: int, padding_idx: int | None) -> Tensor:
    """The gradient of `embedding` as a recorded op: `g`'s rows added into rows `idx` of a
    (num, dim) zero table (the row `padding_idx` left zero); its gradient is the lookup."""
    gd = g._data
    xp = xp_of(gd)
    dim = gd.shape[-1]
    gw = xp.zeros((num, dim), dtype=gd.dtype)
    _scatter_rows(gw, idx.reshape(-1), gd.reshape(-1, dim))
    keep = None
    if padding_idx is not None:
        gw[padding_idx] = 0
        keep = (xp.arange(num) != padding_idx)[:, None]  # bool: a constant

    def vjp(u):
        if keep is not None:
            u = xp.where(keep, u, 0)
        return (embedding(idx, u) if xp is recorded else xp.take(u, idx, axis=0),)

    return _make(gw, (g,), vjp, "embedding_backward")


def _scatter_rows(target, rows, values) -> None:
    """target[rows] += values, repeated rows adding up: on the CPU the values sorted by row
    and summed per row (np.add.reduceat, several times faster than np.add.at), then written
    to the distinct rows; on a GPU one scatter-add (atomic adds)."""
    if xp_of(target) is not np or rows.size < 2:
        scatter_add(target, rows, values)
        return
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    target[ordered[starts]] += np.add.reduceat(values[order], starts, axis=0)


def _indices(indices, weight: Tensor, layer):
    """`indices` as an integer array on weight's device, checked to lie in [0, num)."""
    if isinstance(indices, Tensor):
        if indices.device != weight.device:
            raise DeviceError(f"{_where(layer)}: indices on {indices.device} but the weight on "
                              f"{weight.device}; move one with .to(device)")
        idx = indices._data
    else:
        idx = np.asarray(indices) if xp_of(indices) is np else indices
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{_where(layer)}: indices must be integers (int64 token ids), got dtype "
                         f"{idx.dtype}; cast whole-number ids with .astype('int64')")
    num = weight.shape[0]
    if isinstance(idx, np.ndarray) and idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= num:
            raise ValueError(f"{_where(layer)}: indices must lie in [0, {num}) "
                             f"(num_embeddings={num}), got values from {lo} to {hi}")
    elif idx.size:  # on a GPU: counted there, raised at the next read (no stall)
        size = idx.size
        check_later(ck.count_outside_labels(idx, num), lambda count: ValueError(
            f"{_where(layer)}: indices must lie in [0, {num}) (num_embeddings={num}), but "
            f"{count} of {size} did not (checked on the GPU, so reported at the next value "
            "read back)"))
    if device_name(idx) != device_name(weight._data):
        idx = to_device(idx, weight.device)
    return idx


def state_part(node: Tensor, index: int, op: str) -> Tensor:
    """The final state h_n: the output step `index` of the sequence node, as its own node."""
    data = node._data
    xp = xp_of(data)

    def vjp(g):
        if xp is recorded:
            return (_placed(g, index, data.shape[0]),)
        full = xp.zeros(data.shape, dtype=g.dtype)
        full[index] = g
        return (full,)

    return _make(data[index], (node,), vjp, op)


def _placed(g: Tensor, index: int, length: int) -> Tensor:
    """Recorded: `g` (N, H) as step `index` of a (length, N, H) gradient, zeros elsewhere."""
    zero = recorded.zeros_like(g)
    parts = [recorded.broadcast_to(zero, (index,) + g.shape)] if index else []
    parts.append(recorded.expand_dims(g, 0))
    if index < length - 1:
        parts.append(recorded.broadcast_to(zero, (length - 1 - index,) + g.shape))
    return parts[0] if len(parts) == 1 else recorded.concatenate(parts, axis=0)


def side_state(node: Tensor, data, stash: dict, op: str) -> Tensor:
    """A final state that is no part of the output (LSTM's c_n) as a child node of the
    sequence node: its gradient goes to the sequence node's rule through `stash` (the child
    runs first: it feeds the node), and what it passes to the output itself is zero (a
    zero-strided view, no array)."""
    shape = node._data.shape
    xp = xp_of(data)

    def vjp(g):
        prev = stash.get(op)
        stash[op] = g if prev is None else prev + g
        if xp is recorded:  # a constant zero on g's device
            return (xp.broadcast_to(xp.zeros_like(g), shape),)
        return (xp.broadcast_to(xp.zeros((), dtype=g.dtype), shape),)

    return _make(data, (node,), vjp, op)


def checked_operands(op: str, gates: int, named: dict) -> list:
    """The operands of `named` (x, states, w_ih, w_hh, b_ih, b_hh; None stays None) as
    Tensors, after checking their shapes, dtypes and devices."""
    x, w_hh = as_tensor(named["x"]), as_tensor(named["w_hh"])
    if x.ndim != 3 or x.shape[0] == 0:
        raise ShapeError(f"{op}: input must be a non-empty time-major sequence (T, N, I), "
                         f"got shape {x.shape}")
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be floating, got dtype {x.dtype} (token ids go "
                         "through an Embedding first)")
    hid = w_hh.shape[-1] if w_hh.ndim == 2 else -1
    gh = gates * hid
    want = {"w_ih": (gh, x.shape[2]), "w_hh": (gh, hid), "b_ih": (gh,), "b_hh": (gh,),
            "h0": (x.shape[1], hid), "c0": (x.shape[1], hid)}
    out = [x]
    for name, t in list(named.items())[1:]:
        if t is not None:
            t = as_tensor(t)
            if t.shape != want[name]:
                raise ShapeError(f"{op}: {name} must have shape {want[name]} for input "
                                 f"{x.shape} and hidden size {hid}, got {t.shape}")
            if t.dtype != x.dtype:
                raise DTypeError(f"{op}: {name} has dtype {t.dtype} but the input {x.dtype}")
            _check_devices(x, t, op)
        out.append(t)
    return out


def arranged_gates(w, order):
    """The gate blocks of `w` ((G*H, ...) or (G*H,)) in `order` (a new array)."""
    g = len(order)
    return w.reshape(g, w.shape[0] // g, -1)[list(order)].reshape(w.shape)


def scaled_gates(xp, w, scales):
    """`w` ((G*H, ...) or (G*H,)) with gate block k multiplied by scales[k] (a new array).
    The scales are powers of two, so exact: sigmoid(a) = 1 / (1 + exp(-a)) takes -1 (the
    negation folds into the weights), tanh(a) = 2 sigmoid(2a) - 1 takes -2."""
    g = len(scales)
    col = xp.asarray(scales, dtype=w.dtype).reshape((g, 1) + (1,) * (w.ndim - 1))
    return (w.reshape((g, w.shape[0] // g) + w.shape[1:]) * col).reshape(w.shape)


def torch_gate_order(grad, inverse):
    """A gradient in internal gate order back in PyTorch's order (None stays None)."""
    if grad is None:
        return None
    g = len(inverse)
    return grad.reshape(g, grad.shape[0] // g, -1)[list(inverse)].reshape(grad.shape)


def sigmoid_negated_(xp, a) -> None:
    """In place: a holds -x (negated weights), becomes 1 / (1 + exp(-x)) = sigmoid(x)."""
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def project_sequence(x, w, b, pooled: bool = False):
    """x @ w.T + b for the whole sequence at once: one GEMM, (T, N, G*H) (into a Workspace
    buffer with `pooled`)."""
    t, n, i = x.shape
    xp = xp_of(x)
    out = WORKSPACE.empty(xp, (t * n, w.shape[0]), x.dtype) if pooled else None
    out = xp.matmul(x.reshape(t * n, i), w.T, out=out)
    if b is not None:
        out += b
    return out.reshape(t, n, -1)


def input_grads(xp, d, x, w_ih, need_x: bool, need_w: bool):
    """dx and dW_ih from the pre-activation gradients `d` (T, N, G) of the input projection."""
    t, n, i = x.shape
    d2 = d.reshape(t * n, d.shape[-1])
    dx = (d2 @ w_ih).reshape(t, n, i) if need_x else None
    dw = d2.T @ x.reshape(t * n, i) if need_w else None
    return dx, dw


def hidden_grads(d, hprev, need_w: bool):
    """dW_hh from the recurrent pre-activation gradients `d` (T, N, G) and the states that
    fed each step (T, N, H): one GEMM over the stacked steps."""
    if not need_w:
        return None
    t, n, h = hprev.shape
    return d.reshape(t * n, d.shape[-1]).T @ hprev.reshape(t * n, h)


def state_rows(t: int, reverse: bool):
    """(steps in order, offset): the state after step s is row s + offset of the state buffer,
    the state before it row s + 1 - offset; the initial state is row T (reverse) or 0."""
    return (range(t - 1, -1, -1), 0) if reverse else (range(t), 1)


def bias_sum(*biases):
    """The sum of the biases given (None when there are none)."""
    arrays = [b._data for b in biases if b is not None]
    return None if not arrays else arrays[0] if len(arrays) == 1 else sum(arrays[1:], arrays[0])


def init_state(buf, state, row: int) -> None:
    buf[row] = 0 if state is None else state._data


class Workspace:
    """Host buffers that the recurrent ops reuse from one training step to the next.

    A (T, N, 4H) array made fresh on every step costs a page fault per page (for 4 MiB and
    more, NumPy asks for huge pages, each zeroed by the kernel): glibc hands large freed
    blocks back to the system, so the next step maps them again. The ops take their internal
    buffers here instead, and give them back once no recorded graph holds them (when the
    gradient closure that keeps them is dropped, after backward frees the graph). Only
    buffers that never leave the op are pooled; GPU arrays use CuPy's own memory pool. At
    most `limit` bytes are kept, the buffers given back longest ago dropped first;
    `WORKSPACE.clear()` drops them all.
    """

    def __init__(self, limit: int = 512 << 20) -> None:
        self.limit = limit
        self._free: OrderedDict = OrderedDict()  # id -> (key, array), oldest first
        self._bytes = 0
        self._lock = threading.Lock()

    def empty(self, xp, shape: tuple, dtype):
        """An uninitialised array: a pooled one of this shape and dtype when there is one."""
        if xp is not np:
            return xp.empty(shape, dtype=dtype)
        key = (tuple(shape), np.dtype(dtype))
        with self._lock:
            for ident in reversed(self._free):
                if self._free[ident][0] == key:
                    buf = self._free.pop(ident)[1]
                    self._bytes -= buf.nbytes
                    return buf
        return np.empty(shape, dtype=dtype)

    def give(self, arrays) -> None:
        """Take back host arrays that nothing uses any more."""
        with self._lock:
            for a in arrays:
                a = a if getattr(a, "base", None) is None else a.base  # a reshaped buffer
                if type(a) is np.ndarray and a.base is None and a.nbytes <= self.limit:
                    self._free[id(a)] = ((a.shape, a.dtype), a)
                    self._bytes += a.nbytes
            while self._bytes > self.limit:
                self._bytes -= self._free.popitem(last=False)[1][1].nbytes

    def give_when_freed(self, node: Tensor, arrays) -> None:
        """Take `arrays` back once `node`'s gradient closure is dropped (now if it has none)."""
        if node._vjp is None:
            self.give(arrays)
        elif isinstance(node._data, np.ndarray):
            weakref.finalize(node._vjp, self.give, list(arrays))

    def clear(self) -> None:
        """Drop every pooled buffer."""
        with self._lock:
            self._free.clear()
            self._bytes = 0


WORKSPACE = Workspace()

register_differentiable("embedding", "embedding_backward", "lstm_h_n", "lstm_c_n",
                        "gru_h_n", "rnn_h_n")


def record_sequence(op: str, named: dict, output, backward, composite) -> tuple[Tensor, dict]:
    """Record the output (T, N, H) with the operands of `named` that exist as parents, and
    return it with the stash its side states fill; `backward(g, need, stash)` returns a dict
    of gradients by name (`need`: which operands require grad). On recorded values the rule
    differentiates `composite(**operands)` instead, which computes the same forward with
    simple gk ops and returns (output, {side state op name: that state})."""
    present = [(k, v) for k, v in named.items() if v is not None]
    need = {k: v.requires_grad for k, v in present}
    stash: dict = {}
    xp = xp_of(output)

    def vjp(g):
        if xp is recorded:
            grads = composite_grads(composite, present, g, stash)
        else:
            grads = backward(g, need, stash)
        stash.clear()
        return tuple(grads.get(k) for k, _ in present)

    return _make(output, tuple(v for _, v in present), vjp, op), stash


def composite_grads(composite, present: list, g: Tensor, stash: dict) -> dict:
    """The recorded gradients by name of a fused sequence op: those of `composite` at the
    operands `present` ((name, Tensor) pairs), seeded by `g` for the output and by the
    side states' gradients in `stash`."""
    out, sides = composite(**dict(present))
    outs, seeds = [out], [g]
    for name, state in sides.items():
        if stash.get(name) is not None:
            outs.append(state)
            seeds.append(stash[name])
    wanted = [(k, t) for k, t in present if t.requires_grad]
    found = grad(outs, [t for _, t in wanted], seeds, create_graph=True, allow_unused=True)
    return {k: d for (k, _), d in zip(wanted, found)}


def bias_grads(grads: dict, need: dict, d) -> None:
    """d summed over steps and batch, for b_ih and b_hh (both added to the same gates)."""
    t, n, k = d.shape
    if need.get("b_ih") or need.get("b_hh"):
        db = d.reshape(t * n, k).sum(axis=0)
        grads["b_ih"], grads["b_hh"] = db, db.copy()



