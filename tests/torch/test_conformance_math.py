"""Conformance table, elementwise maths, comparisons and linear algebra: each row run with
gradkit.torch and with PyTorch gives the same values, dtypes, shapes, printing (grad_fn
names included) and gradients (second order where `order2`)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.torch as gtorch

from .conformance import Row, check, f32, pos

A, B = f32(2, 3), f32(2, 3)
V, W = f32(3), f32(3)
M, N = f32(2, 3), f32(3, 4)
I = np.array([[1, -2, 3], [4, 5, -6]], np.int64)

ROWS = [
    Row(("add", "Tensor.add"), lambda T, a, b: (T.add(a, b), a.add(b, alpha=2), a + 1), (A, B),
        order2=True),
    Row(("sub", "Tensor.sub"), lambda T, a, b: (T.sub(a, b, alpha=3), a.sub(b), 1 - a), (A, B)),
    Row(("mul", "Tensor.mul"), lambda T, a, b: (T.mul(a, b), a * 2.5, a.mul(b)), (A, B),
        order2=True),
    Row(("div", "Tensor.div"), lambda T, a, b: (T.div(a, b), a / 2, 2 / b), (A, pos(2, 3)),
        order2=True),
    Row("div(rounding_mode)", lambda T, a: (T.div(a, 2, rounding_mode="floor"),
                                            T.div(a, 2, rounding_mode="trunc")), (I,)),
    Row(("pow", "Tensor.pow"), lambda T, a, b: (T.pow(a, 2), a ** 3, a.pow(b), 2 ** b,
                                                 T.pow(2.0, b)), (pos(2, 3), B), order2=True),
    Row(("neg", "Tensor.neg"), lambda T, a: (T.neg(a), -a, a.neg()), (A,)),
    Row(("abs", "Tensor.abs"), lambda T, a: (T.abs(a), abs(a), a.abs()), (A,)),
    Row(("exp", "Tensor.exp"), lambda T, a: (T.exp(a), a.exp()), (A,), order2=True),
    Row(("log", "Tensor.log"), lambda T, a: (T.log(a), a.log()), (pos(2, 3),), order2=True),
    Row(("sqrt", "Tensor.sqrt"), lambda T, a: (T.sqrt(a), a.sqrt()), (pos(2, 3),), order2=True),
    Row(("rsqrt", "Tensor.rsqrt"), lambda T, a: (T.rsqrt(a), a.rsqrt()), (pos(2, 3),),
        order2=True),
    Row(("sin", "cos", "Tensor.sin", "Tensor.cos"), lambda T, a: (T.sin(a), a.cos()), (A,),
        order2=True),
    Row(("tanh", "Tensor.tanh"), lambda T, a: (T.tanh(a), a.tanh()), (A,), order2=True),
    Row(("sigmoid", "Tensor.sigmoid"), lambda T, a: (T.sigmoid(a), a.sigmoid()), (A,),
        order2=True),
    Row(("relu", "Tensor.relu"), lambda T, a: (T.relu(a), a.relu()), (A,)),
    Row(("reciprocal", "Tensor.reciprocal"), lambda T, a: (T.reciprocal(a), a.reciprocal()),
        (pos(2, 3),), order2=True),
    Row(("sign", "Tensor.sign"), lambda T, a: (T.sign(a), a.sign()), (A,)),
    Row(("round", "Tensor.round"), lambda T, a: (T.round(a * 3), (a * 3).round(),
                                                  T.round(a, decimals=1)), (A,)),
    Row(("floor", "ceil", "Tensor.floor", "Tensor.ceil"),
        lambda T, a: (T.floor(a * 3), (a * 3).ceil()), (A,)),
    Row(("clamp", "Tensor.clamp"), lambda T, a: (T.clamp(a, -0.5, 0.5), a.clamp(min=0),
                                                  a.clamp(max=0.3)), (A,)),
    Row(("clip", "Tensor.clip"), lambda T, a: (T.clip(a, -1, 1), a.clip(-0.2, 0.2)), (A,)),
    Row("clamp(tensor bounds)", lambda T, a, lo: T.clamp(a, min=lo), (A, f32(2, 3))),
    Row(("square", "log1p", "expm1", "log2", "log10"),
        lambda T, a: (a.square(), T.log1p(a), T.expm1(a), T.log2(a), a.log10()),
        (pos(2, 3),)),
    Row(("erf", "tan", "atan", "sinh", "cosh"),
        lambda T, a: (T.erf(a), T.tan(a * 0.5), T.atan(a), T.sinh(a), a.cosh()), (A,)),
    Row(("maximum", "minimum"), lambda T, a, b: (T.maximum(a, b), T.minimum(a, b)), (A, B)),
    Row("max(a, b)", lambda T, a, b: (T.max(a, b), T.min(a, b)), (A, B)),
    Row(("where", "Tensor.where"), lambda T, a, b: (T.where(a > 0, a, b), T.where(a > 0, a, 0.0),
                                                     T.where(a > 0)), (A, B)),
    Row(("matmul", "Tensor.matmul", "@"), lambda T, m, n: (T.matmul(m, n), m @ n, m.matmul(n)),
        (M, N), order2=True),
    Row(("mm", "Tensor.mm"), lambda T, m, n: (T.mm(m, n), m.mm(n)), (M, N)),
    Row(("bmm", "Tensor.bmm"), lambda T, a, b: (T.bmm(a, b), a.bmm(b)), (f32(2, 2, 3),
                                                                           f32(2, 3, 2))),
    Row(("dot", "Tensor.dot"), lambda T, v, w: (T.dot(v, w), v.dot(w), v @ w), (V, W)),
    Row(("mv", "matmul(2d, 1d)"), lambda T, m, v: (T.mv(m, v), m @ v), (M, V)),
    Row(("outer", "Tensor.outer"), lambda T, v, w: (T.outer(v, w), v.outer(w)), (V, W)),
    Row("matmul(3d)", lambda T, a, b: a @ b, (f32(2, 2, 3), f32(2, 3, 2)), prints=False),
    Row("einsum", lambda T, m, n: T.einsum("ij,jk->ik", m, n), (M, N), prints=False),
    Row(("eq", "ne", "lt", "le", "gt", "ge"),
        lambda T, a, b: (T.eq(a, b), a.ne(b), T.lt(a, b), a.le(b), T.gt(a, 0), a.ge(b),
                         a == b, a != b, a < b, a <= 0, a > b, a >= b), (A, B)),
    Row(("logical_and", "logical_or", "logical_xor", "logical_not"),
        lambda T, a, b: (T.logical_and(a > 0, b > 0), T.logical_or(a > 0, b > 0),
                         T.logical_xor(a > 0, b > 0), T.logical_not(a > 0), (a > 0) & (b > 0),
                         (a > 0) | (b > 0), ~(a > 0)), (A, B)),
    Row(("equal", "allclose", "isclose"),
        lambda T, a, b: (T.equal(a, a), T.equal(a, b), T.allclose(a, a + 1e-9),
                         T.allclose(a, b), T.isclose(a, b), a.equal(a)), (A, B), grad=False),
    Row(("isnan", "isinf", "isfinite"),
        lambda T, a: (T.isnan(a), T.isinf(a), T.isfinite(a), a.isnan()),
        (np.array([1.0, np.nan, np.inf, -np.inf], np.float32),), grad=False),
    Row("integer arithmetic", lambda T, i: (i + 1, i * 2, i / 2, i // 4, i % 4, i * 0.5,
                                            -i, abs(i), i ** 2), (I,)),
    Row("broadcasting", lambda T, a, v: (a + v, a * v[None], v - a), (A, V)),
]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is the reference (pip install torch)")


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_row_matches_pytorch(row, torch):
    assert check(row, gtorch, torch) == []


NAMES = {n for r in ROWS for n in r.names}
