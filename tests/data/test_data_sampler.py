"""Samplers, and custom samplers (such as a future distributed one) plugged into the loader."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.data import DataLoader, RandomSampler, Sampler, SequentialSampler, TensorDataset


def test_sequential_sampler():
    s = SequentialSampler(5)
    assert len(s) == 5 and list(s) == [0, 1, 2, 3, 4]
    assert s.indices().dtype == np.int64
    assert list(SequentialSampler([10, 20, 30])) == [0, 1, 2]
    with pytest.raises(ValueError, match=">= 0"):
        len(SequentialSampler(-1))


def test_random_sampler_permutations():
    s = RandomSampler(10, seed=0)
    a, b = list(s), list(s)
    assert sorted(a) == sorted(b) == list(range(10)) and a != b
    assert all(type(i) is int for i in a)
    t = RandomSampler(10, seed=0)
    assert [list(t), list(t)] == [a, b]


def test_random_sampler_seed_from_global_generator():
    gk.manual_seed(3)
    a = RandomSampler(50).indices()
    gk.manual_seed(3)
    np.testing.assert_array_equal(RandomSampler(50).indices(), a)
    with pytest.raises(TypeError, match="seed"):
        RandomSampler(5, seed=1.0)


def test_random_sampler_state_round_trip():
    s = RandomSampler(30, seed=1)
    s.indices()
    state = s.state_dict()
    nxt = s.indices()
    t = RandomSampler(30, seed=99)
    t.load_state_dict(state)
    np.testing.assert_array_equal(t.indices(), nxt)
    assert t.seed == 1


def test_sampler_base_needs_indices():
    with pytest.raises(NotImplementedError):
        Sampler().indices()


class ShardSampler(Sampler):
    """What a distributed sampler looks like: a shared-seed shuffle, sharded by rank."""

    def __init__(self, n, rank, world, seed=0):
        self.n, self.rank, self.world, self.seed, self.epoch = n, rank, world, seed, 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def indices(self):
        perm = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
        return perm[self.rank :: self.world]

    def __len__(self):
        return len(range(self.rank, self.n, self.world))


def test_a_sharded_sampler_plugs_in():
    ds = TensorDataset(np.arange(20))
    loaders = [DataLoader(ds, batch_size=3, sampler=ShardSampler(20, r, 3)) for r in range(3)]
    assert [len(dl) for dl in loaders] == [3, 3, 2]  # shards of 7, 7, 6
    orders = []
    for _ in range(2):
        shards = [np.concatenate([b.numpy() for (b,) in dl]) for dl in loaders]
        flat = np.concatenate(shards)
        assert sorted(flat.tolist()) == list(range(20))  # disjoint shards covering the data
        orders.append(flat.tolist())
    assert orders[0] != orders[1]  # set_epoch was called: a new shared permutation


def test_any_iterable_with_len_is_a_sampler():
    ds = TensorDataset(np.arange(10) * 10)
    out = [b.numpy().tolist() for (b,) in DataLoader(ds, batch_size=2, sampler=[9, 0, 0, 4])]
    assert out == [[90, 0], [0, 40]]
    gen = DataLoader(ds, batch_size=4, sampler=np.arange(10)[::3])
    assert [b.numpy().tolist() for (b,) in gen] == [[0, 30, 60, 90]]


def test_out_of_range_indices_from_a_custom_sampler():
    ds = TensorDataset(np.arange(4))
    with pytest.raises(IndexError, match="outside 0..3"):
        list(DataLoader(ds, sampler=[0, 4]))
    with pytest.raises(IndexError, match="outside 0..3"):
        list(DataLoader(ds, sampler=[-1]))
