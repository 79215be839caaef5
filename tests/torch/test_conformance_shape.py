"""Conformance table, shapes and indexing: view/reshape, permute, transpose, t, flatten,
squeeze/unsqueeze, expand, repeat (= tile), repeat_interleave, flip, narrow, chunk, split,
cat/stack, indexing, gather/scatter, index_select, masked_fill: gradkit.torch against
PyTorch (values, dtypes, shapes, printing, gradients)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.torch as gtorch

from .conformance import Row, check, f32

X = f32(2, 3)
X3 = f32(2, 3, 4)
IDX = np.array([[0, 2], [1, 0]], np.int64)

ROWS = [
    Row(("view", "reshape", "Tensor.view", "Tensor.reshape"),
        lambda T, x: (x.view(6), x.view(-1, 2), x.reshape(3, 2), T.reshape(x, (1, -1)),
                      x.view((3, 2)), x.view_as(x.t().contiguous())), (X,), order2=True),
    Row(("permute", "Tensor.permute"), lambda T, x: (T.permute(x, (2, 0, 1)), x.permute(1, 2, 0)),
        (X3,)),
    Row(("transpose", "Tensor.transpose"), lambda T, x: (T.transpose(x, 0, 2), x.transpose(1, 2),
                                                          x.transpose(-1, 0)), (X3,)),
    Row(("t", "T", "Tensor.t"), lambda T, x: (T.t(x), x.t(), x.T, x.mT), (X,)),
    Row(("flatten", "Tensor.flatten"), lambda T, x: (T.flatten(x), x.flatten(1), x.flatten(0, 1),
                                                      x.flatten(start_dim=1, end_dim=-1)), (X3,)),
    Row(("unsqueeze", "squeeze", "Tensor.squeeze", "Tensor.unsqueeze"),
        lambda T, x: (x.unsqueeze(0), T.unsqueeze(x, -1), x[None].squeeze(), x[None].squeeze(0),
                      x.squeeze(1), x.unsqueeze(1).squeeze(dim=1)), (X,)),
    Row(("expand", "expand_as", "Tensor.expand"),
        lambda T, x, y: (x[:1].expand(4, 3), x[:1].expand(2, -1, -1), x[:1].expand_as(y)),
        (X, f32(5, 3))),
    Row(("repeat", "Tensor.repeat"), lambda T, x: (x.repeat(2, 1), x.repeat(1, 2, 2),
                                                    x[0].repeat(3)), (X,), order2=True),
    Row(("tile",), lambda T, x: (T.tile(x, (2,)), x.tile((2, 1))), (X,), prints=False),
    Row(("repeat_interleave", "Tensor.repeat_interleave"),
        lambda T, x: (x.repeat_interleave(2, dim=0), T.repeat_interleave(x, 2, 1)), (X,)),
    Row(("flip", "Tensor.flip"), lambda T, x: (T.flip(x, [0]), x.flip(1), x.flip((0, 1))), (X,)),
    Row(("narrow", "Tensor.narrow"), lambda T, x: (T.narrow(x, 1, 0, 2), x.narrow(0, 1, 1)),
        (X,)),
    Row(("chunk", "Tensor.chunk"), lambda T, x: (T.chunk(x, 2, 1), x.chunk(3, dim=2),
                                                  x.chunk(2)), (X3,)),
    Row(("split", "Tensor.split"), lambda T, x: (T.split(x, 2, 2), x.split([1, 2], dim=1),
                                                  x.split(1)), (X3,)),
    Row(("unbind",), lambda T, x: (T.unbind(x), x.unbind(1)), (X,)),
    Row(("cat", "concat", "concatenate"), lambda T, x, y: (T.cat([x, y]), T.cat((x, y), dim=1),
                                                            T.concat([x, x]),
                                                            T.concatenate([y, x], 1)), (X, X)),
    Row(("stack",), lambda T, x, y: (T.stack([x, y]), T.stack((x, y), dim=2)), (X, X)),
    Row(("indexing", "getitem"),
        lambda T, x: (x[0], x[:, 1], x[1, 2], x[:, 1:], x[..., 0], x[None], x[[0, 1], [2, 0]],
                      x[x > 0], x[T.tensor([1, 0])]), (X,)),
    Row(("gather", "Tensor.gather"), lambda T, x, i: (T.gather(x, 1, i), x.gather(0, i[:, :1])),
        (X, IDX)),
    Row(("scatter", "Tensor.scatter"),
        lambda T, x, i, s: (T.scatter(x, 1, i, s), x.scatter(1, i, 0.5)),
        (X, np.array([[0, 2], [1, 0]]), f32(2, 2))),
    Row("scatter(reduce)", lambda T, x, i, s: (T.scatter(x, 1, i, s, reduce="add"),
                                               x.scatter(1, i, s, reduce="multiply")),
        (X, np.array([[0, 2], [1, 0]]), f32(2, 2)), grad=False),
    Row(("scatter_add",), lambda T, x, i, s: T.scatter_add(x, 0, i, s),
        (X, np.array([[0, 1, 1], [1, 0, 1]]), f32(2, 3))),
    Row(("index_select", "Tensor.index_select"),
        lambda T, x, i: (T.index_select(x, 1, i), x.index_select(0, i[1:])),
        (X, np.array([2, 0], np.int64))),
    Row(("masked_fill", "Tensor.masked_fill"),
        lambda T, x: (T.masked_fill(x, x > 0, 0.0), x.masked_fill(x < 0, -1.0),
                      x.masked_fill(T.tensor([True, False, True]), 9.0)), (X,)),
    Row("masked_select", lambda T, x: T.masked_select(x, x > 0), (X,)),
    Row(("nonzero", "argwhere"), lambda T, x: (T.nonzero(x > 0), T.nonzero(x > 0, as_tuple=True),
                                                T.argwhere(x > 0)), (X,)),
    Row(("tril", "triu"), lambda T, x: (T.tril(x), x.triu(1)), (f32(3, 3),)),
    Row(("roll", "movedim"), lambda T, x: (T.roll(x, 1, 1), T.roll(x, 2), T.movedim(x, 0, 2)),
        (X3,), prints=False),
    Row(("size", "dim", "numel", "shape", "ndim"),
        lambda T, x: (x.size(), x.size(1), x.size(-1), x.dim(), x.numel(), T.numel(x), x.shape,
                      x.ndim, len(x), x.shape[1:], x.nelement()), (X3,)),
    Row("iterate", lambda T, x: list(x), (X,)),
]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is the reference (pip install torch)")


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_row_matches_pytorch(row, torch):
    assert check(row, gtorch, torch) == []


def test_view_of_a_transpose_raises_as_in_pytorch(torch):
    for T in (gtorch, torch):
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            T.ones(2, 3).t().view(6)
        assert T.ones(2, 3).t().reshape(6).shape == (6,)


NAMES = {n for r in ROWS for n in r.names}
