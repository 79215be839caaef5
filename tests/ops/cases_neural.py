"""Op-table cases of the neural-network ops, losses and normalisation (joined to cases.py CASES):
fused linear + activation, cross_entropy's other forms, nll_loss, the binary cross-entropies,
the composed regression losses, dropout, batch_norm and layer_norm.

Each NumPy reference is written from the definition, in float64.
"""

from __future__ import annotations

import numpy as np

import gradkit as gk
from gradkit.nn import functional as F
from gradkit.ops.loss import binary_cross_entropy, binary_cross_entropy_with_logits, nll_loss
from gradkit.ops.neural import cross_entropy, dropout, linear
from gradkit.ops.norm import batch_norm, layer_norm

from .cases import Case, _lsm, _sig  # defined before cases.py imports this file

_EPS = 1e-5


def _reduced(losses, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](losses)


CASES: list[Case] = []

# ---- linear with a fused activation ------------------------------------------------------------

_ACT = {"relu": (lambda y: np.maximum(y, 0), lambda t, y: t.relu(y)),
        "tanh": (np.tanh, lambda t, y: t.tanh(y))}
for _a, (_np_act, _t_act) in _ACT.items():
    CASES += [
        Case(f"linear+{_a}", lambda x, w, b, a=_a: linear(x, w, b, activation=a),
             lambda x, w, b, f=_np_act: f(x @ w.T + b), [(5, 3), (4, 3), (4,)],
             lambda t, x, w, b, f=_t_act: f(t, t.nn.functional.linear(x, w, b))),
        Case(f"linear+{_a}_3d_nobias", lambda x, w, a=_a: linear(x, w, activation=a),
             lambda x, w, f=_np_act: f(x @ w.T), [(2, 3, 3), (4, 3)],
             lambda t, x, w, f=_t_act: f(t, t.nn.functional.linear(x, w))),
    ]

# ---- cross_entropy: one row, probability targets with smoothing --------------------------------


def _np_xent(z, q, reduction, ls):
    q = (1 - ls) * q + ls / z.shape[-1]
    return _reduced(-(q * _lsm(z, -1)).sum(axis=-1), reduction)


CASES += [
    Case("cross_entropy_one_row", lambda z, y: cross_entropy(z, y),
         lambda z, y: _np_xent(z, np.eye(4)[y], "mean", 0.0), [(4,), ()],
         lambda t, z, y: t.nn.functional.cross_entropy(z, y), ints={1: 4}),
    Case("cross_entropy_one_row_ls", lambda z, y: cross_entropy(z, y, "sum", 0.2),
         lambda z, y: _np_xent(z, np.eye(4)[y], "sum", 0.2), [(4,), ()],
         lambda t, z, y: t.nn.functional.cross_entropy(z, y, reduction="sum",
                                                       label_smoothing=0.2), ints={1: 4}),
    Case("cross_entropy_none_ls", lambda z, y: cross_entropy(z, y, "none", 0.3),
         lambda z, y: _np_xent(z, np.eye(3)[y], "none", 0.3), [(5, 3), (5,)],
         lambda t, z, y: t.nn.functional.cross_entropy(z, y, reduction="none",
                                                       label_smoothing=0.3), ints={1: 3}),
]
for _r, _ls in (("none", 0.0), ("sum", 0.1), ("mean", 0.25)):
    CASES.append(Case(
        f"cross_entropy_probs[{_r},ls={_ls}]",
        lambda z, q, r=_r, s=_ls: cross_entropy(z, gk.softmax(q), r, s),
        lambda z, q, r=_r, s=_ls: _np_xent(z, np.exp(_lsm(q, -1)), r, s), [(4, 3), (4, 3)],
        lambda t, z, q, r=_r, s=_ls: t.nn.functional.cross_entropy(
            z, t.softmax(q, dim=-1), reduction=r, label_smoothing=s)))
CASES.append(Case(
    "cross_entropy_probs_one_row", lambda z, q: cross_entropy(z, gk.softmax(q), "sum", 0.1),
    lambda z, q: _np_xent(z, np.exp(_lsm(q, -1)), "sum", 0.1), [(5,), (5,)],
    lambda t, z, q: t.nn.functional.cross_entropy(z, t.softmax(q, dim=-1), reduction="sum",
                                                  label_smoothing=0.1)))

# ---- nll_loss -----------------------------------------------------------------------------------

for _r in ("mean", "sum", "none"):
    CASES.append(Case(
        f"nll_loss[{_r}]", lambda x, y, r=_r: nll_loss(x, y, r),
        lambda x, y, r=_r: _reduced(-x[np.arange(len(y)), y], r), [(6, 4), (6,)],
        lambda t, x, y, r=_r: t.nn.functional.nll_loss(x, y, reduction=r), ints={1: 4}))
CASES += [
    Case("nll_loss_one_row", lambda x, y: nll_loss(x, y, "none"), lambda x, y: -x[y],
         [(5,), ()], lambda t, x, y: t.nn.functional.nll_loss(x, y, reduction="none"),
         ints={1: 5}),
    Case("nll_loss_of_log_softmax", lambda z, y: nll_loss(gk.log_softmax(z), y),
         lambda z, y: -_lsm(z, -1)[np.arange(len(y)), y].mean(), [(5, 3), (5,)],
         lambda t, z, y: t.nn.functional.nll_loss(t.log_softmax(z, dim=-1), y), ints={1: 3}),
]

# ---- binary cross-entropies ------------------------------------------------------------------


def _np_bce(p, y, reduction):
    return _reduced(-(y * np.log(p) + (1 - y) * np.log1p(-p)), reduction)


for _r in ("mean", "sum", "none"):
    CASES += [
        Case(f"binary_cross_entropy[{_r}]",
             lambda x, y, r=_r: binary_cross_entropy(gk.sigmoid(x), gk.sigmoid(y), r),
             lambda x, y, r=_r: _np_bce(_sig(x), _sig(y), r), [(3, 4), (3, 4)],
             lambda t, x, y, r=_r: t.nn.functional.binary_cross_entropy(
                 t.sigmoid(x), t.sigmoid(y), reduction=r)),
        Case(f"binary_cross_entropy_with_logits[{_r}]",
             lambda z, y, r=_r: binary_cross_entropy_with_logits(z, gk.sigmoid(y), r),
             lambda z, y, r=_r: _np_bce(_sig(z), _sig(y), r), [(3, 4), (3, 4)],
             lambda t, z, y, r=_r: t.nn.functional.binary_cross_entropy_with_logits(
                 z, t.sigmoid(y), reduction=r)),
    ]
CASES += [
    Case("binary_cross_entropy_hard_targets",
         lambda x, y: binary_cross_entropy(gk.sigmoid(x), y),
         lambda x, y: _np_bce(_sig(x), y, "mean"), [(7,), (7,)],
         lambda t, x, y: t.nn.functional.binary_cross_entropy(t.sigmoid(x), y.to(x.dtype)),
         ints={1: 2}),
    Case("binary_cross_entropy_with_logits_hard_targets",
         lambda z, y: binary_cross_entropy_with_logits(z, y, "sum"),
         lambda z, y: _np_bce(_sig(z), y, "sum"), [(2, 5), (2, 5)],
         lambda t, z, y: t.nn.functional.binary_cross_entropy_with_logits(
             z, y.to(z.dtype), reduction="sum"), ints={1: 2}),
]

# ---- regression losses (composed of elementwise ops and reductions) ---------------------------

CASES += [
    Case("mse_loss", F.mse_loss, lambda x, y: ((x - y) ** 2).mean(), [(3, 4), (3, 4)],
         lambda t, x, y: t.nn.functional.mse_loss(x, y)),
    Case("l1_loss_sum", lambda x, y: F.l1_loss(x, y, "sum"), lambda x, y: np.abs(x - y).sum(),
         [(3, 4), (3, 4)], lambda t, x, y: t.nn.functional.l1_loss(x, y, reduction="sum")),
    Case("huber_loss", lambda x, y: F.huber_loss(x * 2, y, "none", 0.8),
         lambda x, y: np.where(np.abs(2 * x - y) < 0.8, 0.5 * (2 * x - y) ** 2,
                               0.8 * (np.abs(2 * x - y) - 0.4)), [(3, 4), (3, 4)],
         lambda t, x, y: t.nn.functional.huber_loss(x * 2, y, reduction="none", delta=0.8)),
]

# ---- dropout: the mask drawn from the CPU generator, seeded, so NumPy can draw the same one ------

_DROP_SEED, _DROP_P = 7, 0.4


def _keep(shape):
    return np.random.default_rng(_DROP_SEED).random(shape, dtype=np.float32) >= _DROP_P


def _dropped(x):
    gk.manual_seed(_DROP_SEED)
    return dropout(x.to("cpu"), _DROP_P).to(x.device)


CASES.append(Case(
    "dropout", _dropped, lambda x: x * _keep(x.shape) / (1 - _DROP_P), [(4, 5)],
    lambda t, x: x * t.tensor(_keep(x.shape) / (1 - _DROP_P), dtype=x.dtype)))

# ---- batch_norm (training and eval) and layer_norm --------------------------------------------


def _stat(values, like):
    return gk.tensor(values, dtype=like.dtype, device=like.device)


def _running(c):
    return np.linspace(-0.5, 0.5, c), np.linspace(0.5, 2.0, c)


def _gk_bn(x, w=None, b=None, training=True, stats=True):
    rm, rv = _running(x.shape[1])
    rm, rv = (_stat(rm, x), _stat(rv, x)) if stats else (None, None)
    return batch_norm(x, rm, rv, w, b, training=training, eps=_EPS)


def _torch_bn(t, x, w=None, b=None, training=True, stats=True):
    rm, rv = (t.tensor(a, dtype=x.dtype) for a in _running(x.shape[1]))
    rm, rv = (rm, rv) if stats else (None, None)
    return t.nn.functional.batch_norm(x, rm, rv, w, b, training=training, eps=_EPS)


def _np_bn(x, w=None, b=None, training=True):
    axes = (0,) if x.ndim == 2 else (0, 2)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    else:
        mean, var = (a.reshape(shape) for a in _running(x.shape[1]))
    out = (x - mean) / np.sqrt(var + _EPS)
    out = out if w is None else out * w.reshape(shape)
    return out if b is None else out + b.reshape(shape)


CASES += [
    Case("batch_norm_train", _gk_bn, _np_bn, [(6, 3), (3,), (3,)],
         _torch_bn),
    Case("batch_norm_train_3d_nostats", lambda x: _gk_bn(x, stats=False), _np_bn,
         [(3, 2, 4)], lambda t, x: _torch_bn(t, x, stats=False)),
    Case("batch_norm_train_3d_weight", lambda x, w: _gk_bn(x, w), _np_bn, [(2, 3, 4), (3,)],
         lambda t, x, w: _torch_bn(t, x, w)),
    Case("batch_norm_eval", lambda x, w, b: _gk_bn(x, w, b, training=False),
         lambda x, w, b: _np_bn(x, w, b, training=False), [(5, 3), (3,), (3,)],
         lambda t, x, w, b: _torch_bn(t, x, w, b, training=False)),
    Case("batch_norm_eval_3d", lambda x: _gk_bn(x, training=False),
         lambda x: _np_bn(x, training=False), [(2, 3, 4)],
         lambda t, x: _torch_bn(t, x, training=False)),
]


def _np_ln(x, k, w=None, b=None):
    axes = tuple(range(x.ndim - k, x.ndim))
    out = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(
        x.var(axis=axes, keepdims=True) + _EPS)
    out = out if w is None else out * w
    return out if b is None else out + b


CASES += [
    Case("layer_norm", lambda x, w, b: layer_norm(x, 5, w, b, eps=_EPS),
         lambda x, w, b: _np_ln(x, 1, w, b), [(4, 5), (5,), (5,)],
         lambda t, x, w, b: t.nn.functional.layer_norm(x, (5,), w, b, eps=_EPS)),
    Case("layer_norm_2axes_noaffine", lambda x: layer_norm(x, (3, 4), eps=_EPS),
         lambda x: _np_ln(x, 2), [(2, 3, 4)],
         lambda t, x: t.nn.functional.layer_norm(x, (3, 4), eps=_EPS)),
    Case("layer_norm_one_row_weight", lambda x, w: layer_norm(x, 6, w, eps=_EPS),
         lambda x, w: _np_ln(x, 1, w), [(6,), (6,)],
         lambda t, x, w: t.nn.functional.layer_norm(x, (6,), w, eps=_EPS)),
]
