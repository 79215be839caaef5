"""Datasets with PyTorch's names: Dataset, IterableDataset, TensorDataset, Subset,
ConcatDataset and `random_split`, over gradkit's (array-backed ones batch with one index per
field per batch)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ....data import dataset as _gkds
from ...nn._args import seed_of
from ...tensor import Tensor, from_array

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split"]


class Dataset(_gkds.Dataset):
    """A map-style dataset: subclass it and define `__getitem__(i)` and `__len__()`."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset:
    """A stream of samples: subclass it and define `__iter__`; a DataLoader batches the
    stream in order (no shuffling, no sampler)."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


def _row(array: Any, index: Any) -> Tensor:
    row = array[index]
    return from_array(row if hasattr(row, "shape") and not isinstance(row, np.generic)
                      else np.asarray(row))


class TensorDataset(_gkds.TensorDataset, Dataset):
    """Samples are rows of the given tensors (all with the same first size):
    `dataset[i] == (a[i], b[i], ...)`, as `torch.Tensor`s."""

    def __init__(self, *tensors: Any) -> None:
        super().__init__(*tensors)

    def __getitem__(self, index: Any) -> tuple:
        return tuple(_row(a, index) for a in self.arrays)

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The stored tensors (sharing storage)."""
        return tuple(from_array(a) for a in self.arrays)


class Subset(_gkds.Subset, Dataset):
    """The samples of `dataset` at `indices`, in that order."""


class ConcatDataset(Dataset):
    """Several datasets one after another."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        sizes = np.cumsum([len(d) for d in self.datasets])
        self.cumulative_sizes = [int(s) for s in sizes]

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        index %= n
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: Any = None) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths (ints summing to
    len(dataset), or fractions summing to 1); `generator=torch.Generator().manual_seed(42)`
    makes the split reproducible (its seed seeds gradkit's permutation, so the split is
    not PyTorch's)."""
    parts: list[Any] = _gkds.random_split(dataset, lengths, seed_of(generator, "random_split"))
    for p in parts:
        p.__class__ = Subset
    return parts
