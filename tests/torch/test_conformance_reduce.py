"""Conformance table, reductions: sum/mean/prod/std/var with dim=/keepdim=, max/min as values
or `(values, indices)` named tuples, argmax, sort, topk, median, mode, cumsum, logsumexp,
norm, all/any, softmax: gradkit.torch against PyTorch (values, dtypes, shapes, printing,
gradients)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.torch as gtorch

from .conformance import Row, check, f32

X = f32(3, 4)
X3 = f32(2, 3, 4)
I = np.array([[3, 1, 2], [0, 5, 4]], np.int64)
MODE = np.array([[1.0, 3.0, 3.0, 2.0], [2.0, 2.0, 5.0, 1.0]], np.float32)

ROWS = [
    Row(("sum", "Tensor.sum"), lambda T, x: (T.sum(x), x.sum(1), x.sum(dim=0, keepdim=True),
                                              x.sum((0, 1)), x.sum(axis=1)), (X3,),
        order2=True),
    Row("sum(int)", lambda T, i: (i.sum(), T.sum(i, 1), i.sum(dtype=T.float32),
                                  (i > 2).sum(), i.int().sum()), (I,)),
    Row(("mean", "Tensor.mean"), lambda T, x: (T.mean(x), x.mean(1), x.mean(-1, keepdim=True),
                                                x.mean(dim=(0, 2))), (X3,), order2=True),
    Row(("prod", "Tensor.prod"), lambda T, x: (T.prod(x), x.prod(1), x.prod(0, keepdim=True)),
        (X,), order2=True),
    Row(("std", "Tensor.std"), lambda T, x: (T.std(x), x.std(1), x.std(0, unbiased=False),
                                              x.std(dim=1, correction=0, keepdim=True),
                                              T.std(x, 0, True)), (X,), order2=True),
    Row(("var", "Tensor.var"), lambda T, x: (T.var(x), x.var(1), x.var(unbiased=False),
                                              x.var(1, keepdim=True), T.var(x, correction=2)),
        (X,), order2=True),
    Row(("var_mean", "std_mean"), lambda T, x: (T.var_mean(x, 1), T.std_mean(x)), (X,)),
    Row(("max", "Tensor.max"), lambda T, x: (T.max(x), x.max(), T.max(x, 1), x.max(dim=0),
                                              x.max(1, keepdim=True)), (X,), order2=True),
    Row(("min", "Tensor.min"), lambda T, x: (T.min(x), T.min(x, 1), x.min(0, True)), (X,)),
    Row("max(ties)", lambda T, x: (x.max(), x.min()), (np.array([[1.0, 3.0], [3.0, 0.5]],
                                                                  np.float32),)),
    Row("max(int)", lambda T, i: (T.max(i), T.max(i, 1), i.min(dim=0)), (I,)),
    Row("unpack max", lambda T, x: list(T.max(x, 1)) + [T.max(x, 1).indices,
                                                       T.max(x, 1)[0]], (X,)),
    Row(("amax", "amin"), lambda T, x: (T.amax(x, 1), x.amin(0), T.amax(x, (0, 1))), (X3,)),
    Row(("argmax", "argmin", "Tensor.argmax"),
        lambda T, x: (T.argmax(x), x.argmax(1), T.argmin(x, 0), x.argmax(dim=1, keepdim=True),
                      x.argmin()), (X,)),
    Row(("sort", "Tensor.sort"), lambda T, x: (T.sort(x), x.sort(0), x.sort(descending=True),
                                                T.sort(x, dim=1, descending=True)), (X,)),
    Row("sort(int, ties)", lambda T, i: (T.sort(i.flatten()), (i % 2).sort(stable=True),
                                         (i % 2).sort(descending=True, stable=True)), (I,)),
    Row(("argsort", "Tensor.argsort"), lambda T, x: (T.argsort(x), x.argsort(0, True)), (X,)),
    Row(("topk", "Tensor.topk"), lambda T, x: (T.topk(x, 2), x.topk(3, dim=0),
                                                x.topk(2, largest=False)), (X,)),
    Row(("median", "Tensor.median"), lambda T, x: (T.median(x), x.median(1), x.median(0, True)),
        (X,)),
    Row(("mode", "Tensor.mode"), lambda T, x: (T.mode(x, 1), x.mode(1, keepdim=True)), (MODE,)),
    Row("kthvalue", lambda T, x: (T.kthvalue(x, 2, 1), x.kthvalue(1, 0)), (X,)),
    Row(("cumsum", "Tensor.cumsum"), lambda T, x, i: (T.cumsum(x, 1), x.cumsum(dim=0),
                                                       i.cumsum(1)), (X, I), order2=True),
    Row(("logsumexp", "Tensor.logsumexp"), lambda T, x: (T.logsumexp(x, 1),
                                                          x.logsumexp(0, keepdim=True)), (X,),
        order2=True),
    Row(("norm", "Tensor.norm"), lambda T, x: (T.norm(x), x.norm(), x.norm(dim=1),
                                                T.norm(x, p=1), x.norm(p=1, dim=0),
                                                x.norm(float("inf")), x.norm(3, dim=1)), (X,),
        order2=True),
    Row(("all", "any", "Tensor.all", "Tensor.any"),
        lambda T, x: (T.all(x > -5), (x > 0).any(), T.any(x > 1, 1), (x > -1).all(dim=0),
                      T.all(x > 0, 1, keepdim=True)), (X,)),
    Row(("softmax", "log_softmax", "Tensor.softmax", "Tensor.log_softmax"),
        lambda T, x: (T.softmax(x, 1), x.softmax(dim=0), T.log_softmax(x, -1),
                      x.log_softmax(1)), (X,), order2=True),
    Row("count_nonzero", lambda T, i: (T.count_nonzero(i), T.count_nonzero(i, 1)), (I,)),
]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is the reference (pip install torch)")


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_row_matches_pytorch(row, torch):
    assert check(row, gtorch, torch) == []


def test_mean_of_integers_raises_as_in_pytorch(torch):
    for T in (gtorch, torch):
        with pytest.raises(RuntimeError, match="could not infer output dtype"):
            T.tensor([1, 2]).mean()


def test_std_without_degrees_of_freedom_is_nan_as_in_pytorch():
    assert np.isnan(gtorch.tensor([3.0]).std().item())
    assert gtorch.tensor([3.0]).std(unbiased=False).item() == 0.0


NAMES = {n for r in ROWS for n in r.names}
