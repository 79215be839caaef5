"""random_split: sizes, disjointness, fractions, reproducibility, errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.data import Subset, TensorDataset, random_split


@pytest.fixture
def ds():
    return TensorDataset(np.arange(100, dtype=np.int64))


def _indices(parts):
    return [p.indices.tolist() for p in parts]


def test_int_lengths_give_disjoint_covering_subsets(ds):
    parts = random_split(ds, [70, 20, 10], seed=1)
    assert [len(p) for p in parts] == [70, 20, 10]
    assert all(isinstance(p, Subset) and p.dataset is ds for p in parts)
    flat = sum(_indices(parts), [])
    assert sorted(flat) == list(range(100))
    assert flat != list(range(100))  # actually shuffled


def test_fractions_like_pytorch(ds):
    assert [len(p) for p in random_split(ds, [0.8, 0.2], seed=0)] == [80, 20]
    # 100 * 1/3 floors to 33 each; the one left over goes to the first split
    assert [len(p) for p in random_split(ds, [1 / 3, 1 / 3, 1 / 3], seed=0)] == [34, 33, 33]
    small = TensorDataset(np.arange(7))
    assert [len(p) for p in random_split(small, [0.5, 0.25, 0.25], seed=0)] == [4, 2, 1]


def test_fractions_match_torch_sizes(torch):
    for n, fracs in [(100, [1 / 3, 1 / 3, 1 / 3]), (7, [0.5, 0.25, 0.25]), (11, [0.1, 0.9])]:
        ours = [len(p) for p in random_split(TensorDataset(np.arange(n)), fracs, seed=0)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fracs)]
        assert ours == theirs


def test_reproducible_with_seed_and_with_manual_seed(ds):
    assert _indices(random_split(ds, [50, 50], seed=3)) == _indices(
        random_split(ds, [50, 50], seed=3)
    )
    assert _indices(random_split(ds, [50, 50], seed=3)) != _indices(
        random_split(ds, [50, 50], seed=4)
    )
    gk.manual_seed(11)
    a = _indices(random_split(ds, [50, 50]))
    b = _indices(random_split(ds, [50, 50]))
    gk.manual_seed(11)
    assert _indices(random_split(ds, [50, 50])) == a
    assert a != b  # the global generator moved on


@pytest.mark.parametrize(
    "lengths, exc, msg",
    [
        ([50, 49], ValueError, r"sum to 99, but the dataset has 100"),
        ([101, -1], ValueError, ">= 0"),
        ([0.5, 0.4], ValueError, "sum to 1"),
        ([1.5, -0.5], ValueError, r"in \[0, 1\]"),
        ([], ValueError, "empty"),
        (["a", "b"], TypeError, "ints or fractions"),
        ([True, False], TypeError, "ints or fractions"),
    ],
)
def test_bad_lengths(ds, lengths, exc, msg):
    with pytest.raises(exc, match=msg):
        random_split(ds, lengths)


def test_bad_seed(ds):
    with pytest.raises(TypeError, match="seed"):
        random_split(ds, [50, 50], seed=1.5)


def test_numpy_int_lengths(ds):
    parts = random_split(ds, np.array([60, 40]), seed=0)
    assert [len(p) for p in parts] == [60, 40]
