"""torch.utils.data against real PyTorch 2.13: what a DataLoader yields (types, dtypes,
shapes, values, batch counts), default_collate's rules, random_split, Subset,
ConcatDataset, samplers and IterableDataset."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import gradkit.torch as gt

X = np.arange(40, dtype=np.float32).reshape(10, 4)
Y = np.arange(10) % 3


def _describe(batch):
    if isinstance(batch, dict):
        return {k: _describe(v) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return (type(batch).__name__, [_describe(b) for b in batch])
    if hasattr(batch, "numpy"):
        return (str(batch.dtype), tuple(batch.shape), batch.numpy().tolist())
    return batch


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (10, False),
                                                   (1, False)])
def test_tensor_dataset_batches_as_pytorch(torch, batch_size, drop_last):
    def run(mod):
        ds = mod.utils.data.TensorDataset(mod.tensor(X), mod.tensor(Y))
        loader = mod.utils.data.DataLoader(ds, batch_size=batch_size, drop_last=drop_last)
        return len(ds), len(loader), [_describe(b) for b in loader], _describe(ds[2])

    assert run(gt) == run(torch)


class _Samples:
    def __init__(self, make):
        self.make = make

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return self.make(i)


Pair = namedtuple("Pair", "x y")
SAMPLES = [
    lambda i: (np.full(3, i, np.float32), i),
    lambda i: (np.full((2, 2), i, np.float64), float(i), bool(i % 2)),
    lambda i: {"image": np.full(2, i, np.uint8), "label": i, "name": f"s{i}"},
    lambda i: Pair(np.float32(i), [i, i + 1]),
    lambda i: np.int64(i),
]


@pytest.mark.parametrize("make", SAMPLES, ids=[str(i) for i in range(len(SAMPLES))])
def test_default_collate_follows_pytorch(torch, make):
    def run(mod):
        ds = _Samples(make)
        return [_describe(b) for b in mod.utils.data.DataLoader(ds, batch_size=2)]

    def tensors_to_torch(i):  # the same samples, holding each dialect's tensors
        return make(i)

    assert run(gt) == run(torch)
    mine = gt.utils.data.default_collate([make(0), make(1)])
    ref = torch.utils.data.default_collate([tensors_to_torch(0), tensors_to_torch(1)])
    assert _describe(mine) == _describe(ref)


def test_a_dataset_of_dialect_tensors_and_a_custom_collate(torch):
    class Squares(gt.utils.data.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return gt.tensor([float(i)]), gt.tensor(i * i)

    batches = list(gt.utils.data.DataLoader(Squares(), batch_size=4))
    assert isinstance(batches[0], list) and type(batches[0][0]) is gt.Tensor
    assert batches[0][0].shape == (4, 1) and batches[1][1].tolist() == [16, 25]
    joined = gt.utils.data.DataLoader(Squares(), batch_size=3,
                                      collate_fn=lambda s: sum(float(x) for x, _ in s))
    assert list(joined) == [3.0, 12.0]
    assert isinstance(Squares() + Squares(), gt.utils.data.ConcatDataset)


def test_shuffle_visits_everything_once_and_reproduces_with_the_seed():
    ds = gt.utils.data.TensorDataset(gt.tensor(X), gt.tensor(Y))

    def epoch(seed):
        gt.manual_seed(seed)
        loader = gt.utils.data.DataLoader(ds, batch_size=4, shuffle=True)
        return [row for xb, _ in loader for row in xb[:, 0].tolist()]

    first = epoch(0)
    assert sorted(first) == sorted(X[:, 0].tolist()) and first != X[:, 0].tolist()
    assert epoch(0) == first and epoch(1) != first
    g = gt.Generator().manual_seed(3) if hasattr(gt, "Generator") else 3
    order = [b[1].tolist() for b in gt.utils.data.DataLoader(ds, batch_size=10, shuffle=True,
                                                             generator=g)]
    assert sorted(order[0]) == sorted(Y.tolist())


def test_random_split_and_subset(torch):
    ds = gt.utils.data.TensorDataset(gt.tensor(X), gt.tensor(Y))
    a, b = gt.utils.data.random_split(ds, [0.7, 0.3], generator=gt.Generator().manual_seed(0)
                                      if hasattr(gt, "Generator") else 0)
    assert (len(a), len(b)) == tuple(len(s) for s in torch.utils.data.random_split(
        torch.utils.data.TensorDataset(torch.tensor(X)), [0.7, 0.3]))
    assert isinstance(a, gt.utils.data.Subset) and isinstance(a, gt.utils.data.Dataset)
    rows = sorted(int(a[i][1]) for i in range(len(a))) + sorted(int(b[i][1])
                                                              for i in range(len(b)))
    assert sorted(rows) == sorted(Y.tolist())
    sub = gt.utils.data.Subset(ds, [9, 0, 4])
    xb, yb = next(iter(gt.utils.data.DataLoader(sub, batch_size=3)))
    assert xb[:, 0].tolist() == [36.0, 0.0, 16.0] and type(xb) is gt.Tensor
    with pytest.raises(ValueError, match="sum to"):
        gt.utils.data.random_split(ds, [3, 3])


def test_tensor_dataset_keeps_dtypes_and_shares_storage():
    x = gt.tensor(X, dtype=gt.float64)
    ds = gt.utils.data.TensorDataset(x, gt.tensor(Y))
    assert ds[0][0].dtype == gt.float64 and ds[0][1].dtype == gt.int64
    assert ds.tensors[0].shape == (10, 4)
    with pytest.raises(ValueError, match="same first dimension"):
        gt.utils.data.TensorDataset(gt.zeros(3), gt.zeros(4))


def test_samplers_and_concat(torch):
    ds = gt.utils.data.TensorDataset(gt.tensor(X), gt.tensor(Y))
    sampler = gt.utils.data.SubsetRandomSampler([1, 3, 5], generator=0)
    got = [int(i) for b in gt.utils.data.DataLoader(ds, batch_size=2, sampler=sampler)
           for i in b[1]]
    assert sorted(got) == sorted(int(Y[i]) for i in (1, 3, 5))
    weighted = gt.utils.data.WeightedRandomSampler([0.0, 0.0, 1.0], num_samples=5, generator=1)
    assert list(weighted) == [2] * 5
    rs = gt.utils.data.RandomSampler(ds, replacement=True, num_samples=20, generator=2)
    assert len(list(rs)) == 20 and len(rs) == 20
    cat = gt.utils.data.ConcatDataset([ds, gt.utils.data.Subset(ds, [0, 1])])
    ref = torch.utils.data.ConcatDataset([torch.utils.data.TensorDataset(torch.tensor(X)),
                                          torch.utils.data.TensorDataset(torch.tensor(X[:2]))])
    assert len(cat) == len(ref) and cat.cumulative_sizes == ref.cumulative_sizes
    assert float(cat[11][0][0]) == float(ref[11][0][0]) and float(cat[-1][0][0]) == 4.0
    with pytest.raises(ValueError, match="shuffle"):
        gt.utils.data.DataLoader(ds, shuffle=True, sampler=sampler)


def test_iterable_dataset(torch):
    def run(mod):
        class Stream(mod.utils.data.IterableDataset):
            def __iter__(self):
                return iter([(np.float32(i), i) for i in range(7)])
        return [_describe(b) for b in mod.utils.data.DataLoader(Stream(), batch_size=3)]

    assert run(gt) == run(torch)


def test_unsupported_options_are_named():
    ds = gt.utils.data.TensorDataset(gt.tensor(X))
    with pytest.raises(NotImplementedError, match="batch_sampler"):
        gt.utils.data.DataLoader(ds, batch_size=None)
    loader = gt.utils.data.DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True)
    assert len(loader) == 3 and loader.num_workers == 2
