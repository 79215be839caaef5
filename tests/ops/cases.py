"""One table of every op in API.md: gradkit call, NumPy reference, PyTorch reference, inputs.

Each case is tested three ways (tests/ops/test_ops.py): forward against NumPy, gradient
against central differences in float64 (both on every device of tests/devices.py), and
forward+gradient against PyTorch. Constants a case makes go on its input's device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

import gradkit as gk

_erf = np.vectorize(math.erf)


@dataclass
class Case:
    name: str
    gk: object  # callable(*tensors) -> Tensor
    np: object  # callable(*arrays) -> array
    shapes: list  # list of input shapes
    torch: object = None  # callable(torch, *tensors) -> tensor
    domain: str = "any"  # any | positive | away0 (|x| >= 0.1)
    ints: dict = field(default_factory=dict)  # input index -> (high, shape) integer inputs
    grad: bool = True

    @property
    def id(self):
        return f"{self.name}-" + "-".join("x".join(map(str, s)) or "s" for s in self.shapes)


def make_inputs(case: Case, rng, dtype=np.float64):
    arrays = []
    for i, shape in enumerate(case.shapes):
        if i in case.ints:
            arrays.append(rng.integers(0, case.ints[i], size=shape).astype(np.int64))
            continue
        a = rng.standard_normal(shape)
        if case.domain == "positive":
            a = np.abs(a) + 0.5
        elif case.domain == "away0":
            a = np.sign(a) * (np.abs(a) + 0.1)
        arrays.append(a.astype(dtype))
    return arrays


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _lsm(x, axis):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def unary(name, ref, tref, domain="any", shapes=((3, 4), (5,), ())):
    fn = getattr(gk, name)
    return [Case(name, fn, ref, [s], tref, domain) for s in shapes]


BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (3,)), ((4, 1), ())]

CASES: list[Case] = []
CASES += unary("exp", np.exp, lambda t, x: t.exp(x))
CASES += unary("log", np.log, lambda t, x: t.log(x), "positive")
CASES += unary("sqrt", np.sqrt, lambda t, x: t.sqrt(x), "positive")
CASES += unary("abs", np.abs, lambda t, x: t.abs(x), "away0")
CASES += unary("sign", np.sign, lambda t, x: t.sign(x), "away0")
CASES += unary("tanh", np.tanh, lambda t, x: t.tanh(x))
CASES += unary("sigmoid", _sig, lambda t, x: t.sigmoid(x))
CASES += unary("relu", lambda x: np.maximum(x, 0), lambda t, x: t.relu(x), "away0")
CASES += unary("gelu", lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
               lambda t, x: t.nn.functional.gelu(x))
CASES += unary("elu", lambda x: np.where(x > 0, x, np.expm1(x)),
               lambda t, x: t.nn.functional.elu(x), "away0")
CASES += unary("softplus", lambda x: np.logaddexp(0, x), lambda t, x: t.nn.functional.softplus(x))
CASES += unary("sin", np.sin, lambda t, x: t.sin(x))
CASES += unary("cos", np.cos, lambda t, x: t.cos(x))
CASES += unary("square", np.square, lambda t, x: t.square(x))
CASES += unary("reciprocal", np.reciprocal, lambda t, x: t.reciprocal(x), "away0")
CASES += unary("neg", np.negative, lambda t, x: t.neg(x))
CASES += [
    Case("leaky_relu", lambda x: gk.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
         [(3, 4)], lambda t, x: t.nn.functional.leaky_relu(x, 0.2), "away0"),
    Case("leaky_relu_default", gk.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x),
         [(6,)], lambda t, x: t.nn.functional.leaky_relu(x), "away0"),
    Case("clip", lambda x: gk.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), [(4, 5)],
         lambda t, x: t.clamp(x, -0.5, 0.7)),
    Case("clip_lo", lambda x: gk.clip(x, lo=0.0), lambda x: np.clip(x, 0.0, None), [(7,)],
         lambda t, x: t.clamp(x, min=0.0), "away0"),
    Case("pow_scalar", lambda x: x ** 3, lambda x: x ** 3, [(3, 4)], lambda t, x: x ** 3),
    Case("pow_half", lambda x: x ** 0.5, np.sqrt, [(5,)], lambda t, x: x ** 0.5, "positive"),
    Case("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x, [(5,)], lambda t, x: 2.0 ** x),
    Case("rsub", lambda x: 1.0 - x, lambda x: 1.0 - x, [(5,)], lambda t, x: 1.0 - x),
    Case("rdiv", lambda x: 1.0 / x, lambda x: 1.0 / x, [(5,)], lambda t, x: 1.0 / x, "away0"),
]

_BIN = {
    "add": (gk.add, np.add, lambda t, a, b: a + b, "any"),
    "sub": (gk.sub, np.subtract, lambda t, a, b: a - b, "any"),
    "mul": (gk.mul, np.multiply, lambda t, a, b: a * b, "any"),
    "div": (gk.div, np.divide, lambda t, a, b: a / b, "away0"),
    "pow": (gk.pow, np.power, lambda t, a, b: a ** b, "positive"),
    "maximum": (gk.maximum, np.maximum, lambda t, a, b: t.maximum(a, b), "any"),
    "minimum": (gk.minimum, np.minimum, lambda t, a, b: t.minimum(a, b), "any"),
}
for _n, (_g, _r, _t, _d) in _BIN.items():
    CASES += [Case(_n, _g, _r, list(s), _t, _d) for s in BROADCAST]
CASES += [
    Case("operator_mix", lambda a, b: (a * b - a / (b * b + 1)) ** 2 @ b.T,
         lambda a, b: (a * b - a / (b * b + 1)) ** 2 @ b.T, [(3, 4), (3, 4)],
         lambda t, a, b: (a * b - a / (b * b + 1)) ** 2 @ b.T),
    Case("where", lambda c, a, b: gk.where(c > 0, a, b), lambda c, a, b: np.where(c > 0, a, b),
         [(3, 4), (3, 4), (4,)], lambda t, c, a, b: t.where(c > 0, a, b)),
]

_MM = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
       ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 2)), ((3, 4), (2, 4, 5))]
CASES += [Case("matmul", gk.matmul, np.matmul, list(s), lambda t, a, b: a @ b) for s in _MM]
CASES += [Case("dot", gk.dot, np.dot, list(s), lambda t, a, b: a @ b)
          for s in [((4,), (4,)), ((3, 4), (4,)), ((3, 4), (4, 2))]]
_EIN = [("ij,jk->ik", [(3, 4), (4, 5)]), ("ii->i", [(4, 4)]), ("ij->", [(3, 4)]),
        ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]), ("i,j->ij", [(3,), (4,)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]), ("ii", [(3, 3)]), ("ij,ij->i", [(3, 4), (3, 4)]),
        ("ij,j", [(3, 4), (4,)]), ("ijk->kj", [(2, 3, 4)]),
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
        ("ij,j->ij", [(3, 4), (1,)]),
        ("iij->ji", [(3, 3, 2)]), ("iji,j->i", [(3, 4, 3), (4,)])]  # repeated letters
CASES += [Case(f"einsum[{s}]", lambda *xs, s=s: gk.einsum(s, *xs),
               lambda *xs, s=s: np.einsum(s, *xs), sh,
               (lambda t, *xs, s=s: t.einsum(s, *xs)) if s != "ij,j->ij" else None)
          for s, sh in _EIN]


def _red(name, np_fn, t_fn, domain="any"):
    out = []
    for axis in [None, 0, 1, -1, (0, 2)]:
        for keep in (False, True):
            out.append(Case(
                f"{name}[axis={axis},keepdims={keep}]",
                (lambda a, k: lambda x: getattr(gk, name)(x, axis=a, keepdims=k))(axis, keep),
                (lambda a, k: lambda x: np_fn(x, axis=a, keepdims=k))(axis, keep),
                [(2, 3, 4)],
                (lambda a, k: lambda t, x: t_fn(t, x, a, k))(axis, keep), domain))
    return out


def _dims(x, axis):
    return tuple(range(x.ndim)) if axis is None else axis


def _torch_prod(t, x, axis, keep):
    if axis is None or isinstance(axis, tuple):
        axes = sorted(_dims(x, axis), reverse=True)
        for a in axes:
            x = x.prod(dim=a, keepdim=keep)
        return x
    return x.prod(dim=axis, keepdim=keep)


CASES += _red("sum", np.sum, lambda t, x, a, k: x.sum(dim=_dims(x, a), keepdim=k))
CASES += _red("mean", np.mean, lambda t, x, a, k: x.mean(dim=_dims(x, a), keepdim=k))
CASES += _red("max", np.max, lambda t, x, a, k: x.amax(dim=_dims(x, a), keepdim=k))
CASES += _red("min", np.min, lambda t, x, a, k: x.amin(dim=_dims(x, a), keepdim=k))
CASES += _red("prod", np.prod, _torch_prod)
CASES += _red("var", np.var, lambda t, x, a, k: x.var(dim=_dims(x, a), keepdim=k, correction=0))
CASES += _red("std", np.std, lambda t, x, a, k: x.std(dim=_dims(x, a), keepdim=k, correction=0))
CASES += _red("logsumexp", lambda x, axis, keepdims: np.log(np.exp(x).sum(axis, keepdims=keepdims)),
              lambda t, x, a, k: t.logsumexp(x, dim=_dims(x, a), keepdim=k))
CASES += [
    Case("var_ddof1", lambda x: gk.var(x, axis=1, ddof=1), lambda x: np.var(x, axis=1, ddof=1),
         [(3, 5)], lambda t, x: x.var(dim=1, correction=1)),
    Case("std_ddof1", lambda x: gk.std(x, ddof=1), lambda x: np.std(x, ddof=1), [(3, 5)],
         lambda t, x: x.std(correction=1)),
    Case("prod_with_zero",
         lambda x: gk.prod(x * gk.tensor([1.0, 0.0, 1.0], dtype=x.dtype, device=x.device), axis=1),
         lambda x: np.prod(x * np.array([1.0, 0.0, 1.0]), axis=1), [(2, 3)],
         lambda t, x: (x * t.tensor([1.0, 0.0, 1.0], dtype=x.dtype)).prod(dim=1)),
    Case("max_ties", lambda x: gk.max(
        x * 0 + gk.tensor([1.0, 2.0, 2.0], dtype=x.dtype, device=x.device) + x * 0, axis=-1),
         lambda x: np.max(x * 0 + np.array([1.0, 2.0, 2.0]), axis=-1), [(2, 3)],
         lambda t, x: (x * 0 + t.tensor([1.0, 2.0, 2.0], dtype=x.dtype)).amax(dim=-1)),
    Case("argmax", lambda x: gk.argmax(x, axis=1), lambda x: np.argmax(x, axis=1), [(3, 4)],
         lambda t, x: t.argmax(x, dim=1), grad=False),
    Case("argmin", lambda x: gk.argmin(x), lambda x: np.argmin(x), [(3, 4)],
         lambda t, x: t.argmin(x), grad=False),
    Case("cumsum", lambda x: gk.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1), [(3, 4)],
         lambda t, x: t.cumsum(x, dim=1)),
    Case("cumsum_flat", lambda x: gk.cumsum(x), lambda x: np.cumsum(x), [(3, 4)],
         lambda t, x: t.cumsum(x.reshape(-1), dim=0)),
]

_SHAPE = [
    ("reshape", lambda x: x.reshape(4, 3), lambda x: x.reshape(4, 3), [(3, 4)],
     lambda t, x: x.reshape(4, 3)),
    ("reshape_tuple", lambda x: gk.reshape(x, (2, -1)), lambda x: x.reshape(2, -1), [(3, 4)],
     lambda t, x: x.reshape(2, -1)),
    ("flatten", lambda x: x.flatten(1), lambda x: x.reshape(2, -1), [(2, 3, 4)],
     lambda t, x: x.flatten(1)),
    ("transpose", lambda x: x.transpose(), lambda x: x.transpose(), [(2, 3, 4)],
     lambda t, x: x.permute(2, 1, 0)),
    ("transpose_axes", lambda x: x.transpose(1, 2, 0), lambda x: x.transpose(1, 2, 0),
     [(2, 3, 4)], lambda t, x: x.permute(1, 2, 0)),
    ("T", lambda x: x.T, lambda x: x.T, [(3, 4)], lambda t, x: x.T),
    ("swapaxes", lambda x: gk.swapaxes(x, 0, 2), lambda x: np.swapaxes(x, 0, 2), [(2, 3, 4)],
     lambda t, x: x.transpose(0, 2)),
    ("expand_dims", lambda x: gk.expand_dims(x, 1), lambda x: np.expand_dims(x, 1), [(3, 4)],
     lambda t, x: x.unsqueeze(1)),
    ("squeeze", lambda x: gk.squeeze(x), lambda x: np.squeeze(x), [(3, 1, 4, 1)],
     lambda t, x: x.squeeze()),
    ("squeeze_axis", lambda x: gk.squeeze(x, 1), lambda x: np.squeeze(x, 1), [(3, 1, 4, 1)],
     lambda t, x: x.squeeze(1)),
    ("broadcast_to", lambda x: gk.broadcast_to(x, (2, 3, 4)),
     lambda x: np.broadcast_to(x, (2, 3, 4)), [(3, 1)], lambda t, x: x.expand(2, 3, 4)),
    ("concatenate", lambda a, b: gk.concatenate([a, b, a], axis=1),
     lambda a, b: np.concatenate([a, b, a], axis=1), [(2, 3), (2, 5)],
     lambda t, a, b: t.cat([a, b, a], dim=1)),
    ("stack", lambda a, b: gk.stack([a, b], axis=-1), lambda a, b: np.stack([a, b], axis=-1),
     [(2, 3), (2, 3)], lambda t, a, b: t.stack([a, b], dim=-1)),
    ("split", lambda x: gk.split(x, [1, 3], axis=1)[1] * 2 + gk.split(x, 2, axis=0)[0].sum(),
     lambda x: np.split(x, [1, 3], axis=1)[1] * 2 + np.split(x, 2, axis=0)[0].sum(), [(4, 5)],
     lambda t, x: t.tensor_split(x, [1, 3], dim=1)[1] * 2 + t.chunk(x, 2, dim=0)[0].sum()),
    ("flip", lambda x: gk.flip(x, 1), lambda x: np.flip(x, 1), [(3, 4)],
     lambda t, x: t.flip(x, (1,))),
    ("flip_all", lambda x: gk.flip(x), lambda x: np.flip(x), [(3, 4)],
     lambda t, x: t.flip(x, (0, 1))),
    ("pad", lambda x: gk.pad(x, ((1, 2), (0, 1)), value=0.5),
     lambda x: np.pad(x, ((1, 2), (0, 1)), constant_values=0.5), [(3, 4)],
     lambda t, x: t.nn.functional.pad(x, (0, 1, 1, 2), value=0.5)),
    ("tril", gk.tril, np.tril, [(4, 4)], lambda t, x: t.tril(x)),
    ("triu_k1", lambda x: gk.triu(x, 1), lambda x: np.triu(x, 1), [(3, 5)],
     lambda t, x: t.triu(x, 1)),
    ("getitem_basic", lambda x: x[1:, ::2, None, -1], lambda x: x[1:, ::2, None, -1],
     [(3, 4, 5)], lambda t, x: x[1:, ::2, None, -1]),
    ("getitem_int", lambda x: x[1], lambda x: x[1], [(3, 4)], lambda t, x: x[1]),
    ("getitem_ellipsis", lambda x: x[..., 2], lambda x: x[..., 2], [(3, 4, 5)],
     lambda t, x: x[..., 2]),
    ("getitem_intarray_repeats", lambda x: x[[0, 2, 0, 0]], lambda x: x[[0, 2, 0, 0]],
     [(3, 4)], lambda t, x: x[[0, 2, 0, 0]]),
    ("getitem_pairs", lambda x: x[gk.tensor([0, 1, 1]), gk.tensor([2, 0, 2])],
     lambda x: x[[0, 1, 1], [2, 0, 2]], [(3, 4)],
     lambda t, x: x[t.tensor([0, 1, 1]), t.tensor([2, 0, 2])]),
    ("getitem_mask", lambda x: x[x > 0], lambda x: x[x > 0], [(3, 4)],
     lambda t, x: x[x > 0], "away0"),
    ("getitem_neg_step", lambda x: x[::-1, 1:3], lambda x: x[::-1, 1:3], [(3, 4)],
     lambda t, x: t.flip(x, (0,))[:, 1:3]),
]
CASES += [Case(n, g, r, s, t, *d) for n, g, r, s, t, *d in _SHAPE]

CASES += [
    Case(f"softmax[axis={a}]", lambda x, a=a: gk.softmax(x, axis=a),
         lambda x, a=a: np.exp(_lsm(x, a)), [(3, 4)], lambda t, x, a=a: t.softmax(x, dim=a))
    for a in (0, 1, -1)
] + [
    Case(f"log_softmax[axis={a}]", lambda x, a=a: gk.log_softmax(x, axis=a),
         lambda x, a=a: _lsm(x, a), [(3, 4)], lambda t, x, a=a: t.log_softmax(x, dim=a))
    for a in (0, 1, -1)
] + [
    Case("softmax_big", lambda x: gk.softmax(x * 1000), lambda x: np.exp(_lsm(x * 1000, -1)),
         [(2, 3)], lambda t, x: t.softmax(x * 1000, dim=-1), grad=False),
    Case("one_hot", lambda y: gk.one_hot(y, 5), lambda y: np.eye(5)[y], [(6,)],
         lambda t, y: t.nn.functional.one_hot(y, 5).float(), ints={0: 5}, grad=False),
    Case("linear", lambda x, w, b: gk.ops.linear(x, w, b), lambda x, w, b: x @ w.T + b,
         [(5, 3), (4, 3), (4,)], lambda t, x, w, b: t.nn.functional.linear(x, w, b)),
    Case("linear_3d_nobias", lambda x, w: gk.ops.linear(x, w), lambda x, w: x @ w.T,
         [(2, 5, 3), (4, 3)], lambda t, x, w: t.nn.functional.linear(x, w)),
]

_CE = [
    ("mean", 0.0), ("sum", 0.0), ("none", 0.0), ("mean", 0.1),
]
for _red_, _ls in _CE:
    CASES.append(Case(
        f"cross_entropy[{_red_},ls={_ls}]",
        (lambda r, s: lambda z, y: gk.ops.cross_entropy(z, y, r, s))(_red_, _ls),
        (lambda r, s: lambda z, y: _np_ce(z, np.eye(z.shape[1])[y], r, s))(_red_, _ls),
        [(6, 4), (6,)],
        (lambda r, s: lambda t, z, y: t.nn.functional.cross_entropy(
            z, y, reduction=r, label_smoothing=s))(_red_, _ls),
        ints={1: 4}))
CASES.append(Case(
    "cross_entropy_probs", lambda z, q: gk.ops.cross_entropy(z, gk.softmax(q)),
    lambda z, q: _np_ce(z, np.exp(_lsm(q, 1)), "mean", 0.0), [(5, 3), (5, 3)],
    lambda t, z, q: t.nn.functional.cross_entropy(z, t.softmax(q, dim=1))))


def _np_ce(z, q, reduction, ls):
    c = z.shape[1]
    q = (1 - ls) * q + ls / c
    losses = -(q * _lsm(z, 1)).sum(axis=1)
    return {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]


def _family_cases() -> list[Case]:
    """The cases kept in their own files (convolution, sequences, neural-network ops, losses,
    normalisation): same table, same tests."""
    from . import cases_conv, cases_neural, cases_seq

    return cases_conv.CASES + cases_seq.CASES + cases_neural.CASES


CASES = CASES + _family_cases()
