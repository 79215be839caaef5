"""Datasets: indexable collections of samples, and the array-backed ones the loader batches fast.

A `Dataset` returns one sample per index. It may also define `__getitems__(indices)`, which
returns a whole *batch* at once: the structure of one sample with each leaf stacked along a
new first axis (as `default_collate` would build it), as NumPy or CuPy arrays. `DataLoader`
uses `__getitems__` when a dataset has it, so `TensorDataset` and its `Subset`s cost one fancy
index per field per batch, with no per-sample Python loop.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from ..backend.devices import DEFAULT_FLOAT, xp_of
from ..backend.random import spawn_seed
from ..tensor import Tensor
from .collate import collate_arrays


class MapDataset(Protocol):
    """What the loaders take as a dataset: `len()` and `dataset[i]` (a `Dataset`, or any
    object with both, e.g. a PyTorch map-style dataset or a list)."""

    def __getitem__(self, index: int, /) -> Any: ...
    def __len__(self) -> int: ...


class Dataset(ABC):
    """A map-style dataset: `dataset[i]` is sample i, `len(dataset)` the number of samples."""

    @abstractmethod
    def __getitem__(self, index: int) -> Any:
        """Sample `index` (an array, a number, or a tuple/list/dict of them)."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of samples."""


def _take(array, index):
    """array[index] along the first axis, moving the index to the array's device if needed;
    a slice gives a read-only view (no copy, and the stored data cannot be written through
    it)."""
    if isinstance(index, slice):
        view = array[index]
        view.flags.writeable = False
        return view
    if isinstance(array, np.ndarray):
        return array[index]
    return array[xp_of(array).asarray(index)]


def _as_stored_array(value, position: int):
    if isinstance(value, Tensor):
        arr = value._data  # a Tensor keeps its dtype (a float64 Tensor stays float64)
    elif hasattr(value, "__cuda_array_interface__"):
        arr = value
        if arr.dtype == np.float64:
            arr = arr.astype(DEFAULT_FLOAT)
    else:
        try:
            arr = np.asarray(value)
        except ValueError:  # a ragged nested list
            arr = np.empty(0, dtype=object)
        if arr.dtype == object:
            raise TypeError(
                f"TensorDataset: array {position} is not numeric or is ragged "
                f"({type(value).__name__} -> object array)"
            )
        if arr.dtype == np.float64:
            arr = arr.astype(DEFAULT_FLOAT)
    if arr.ndim == 0:
        raise ValueError(
            f"TensorDataset: array {position} is a scalar; every array needs a first "
            "(sample) dimension"
        )
    return xp_of(arr).ascontiguousarray(arr)


class TensorDataset(Dataset):
    """Samples are rows of the given arrays: `dataset[i] == (a[i], b[i], ...)`.

    Accepts NumPy arrays, CuPy arrays, Tensors or (nested) lists, all with the same first
    dimension. float64 NumPy arrays and lists of floats are stored as float32 (gradkit's
    float32 discipline; pass a float64 Tensor to keep float64); other dtypes are kept (uint8
    images stay uint8). Arrays already contiguous and of a kept dtype are stored without a copy.
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        stored = tuple(_as_stored_array(a, i) for i, a in enumerate(arrays))
        lengths = [a.shape[0] for a in stored]
        if len(set(lengths)) != 1:
            raise ValueError(
                "TensorDataset: all arrays must have the same first dimension (number of "
                f"samples); got lengths {lengths}"
            )
        self.arrays: tuple = stored

    def __getitem__(self, index: int) -> tuple:
        return tuple(a[index] for a in self.arrays)

    def __getitems__(self, indices: np.ndarray) -> tuple:
        """The batch `(a[indices], b[indices], ...)`: one fancy index per array."""
        return tuple(_take(a, indices) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __repr__(self) -> str:
        fields = ", ".join(f"{a.dtype}{tuple(a.shape[1:])}" for a in self.arrays)
        return f"TensorDataset(n={len(self)}, fields=[{fields}])"


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order (`subset[i] == dataset[indices[i]]`).

    Batches are gathered with the base dataset's `__getitems__` when it has one.
    """

    def __init__(self, dataset: MapDataset, indices: Sequence[int] | np.ndarray) -> None:
        idx = np.asarray(indices)
        if idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise TypeError(
                f"Subset: indices must be a 1-D sequence of ints, got {idx.dtype} "
                f"with shape {idx.shape}"
            )
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx[(idx < -n) | (idx >= n)][0]
            raise IndexError(f"Subset: index {bad} is out of range for a dataset of {n} samples")
        self.dataset = dataset
        self.indices: np.ndarray = np.where(idx < 0, idx + n, idx).astype(np.int64)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices: np.ndarray) -> Any:
        """The batch of samples `indices` of this subset, gathered from the base dataset."""
        base = self.indices[indices]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(base)
        return collate_arrays([self.dataset[i] for i in base.tolist()])

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"Subset(n={len(self)}, of {type(self.dataset).__name__} of {len(self.dataset)})"


def _split_lengths(lengths: Sequence, n: int) -> list[int]:
    """Integer lengths summing to n, or fractions summing to 1 -> integer lengths."""
    values = list(lengths)
    if not values:
        raise ValueError("random_split: lengths is empty")
    is_int = [isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values]
    if all(is_int):
        if any(v < 0 for v in values):
            raise ValueError(f"random_split: lengths must be >= 0, got {values}")
        if sum(values) != n:
            raise ValueError(
                f"random_split: lengths {values} sum to {sum(values)}, but the dataset has "
                f"{n} samples (give ints summing to {n}, or fractions summing to 1)"
            )
        return [int(v) for v in values]
    if not all(isinstance(v, (int, float, np.integer, np.floating)) for v in values) or any(
        isinstance(v, bool) for v in values
    ):
        raise TypeError(f"random_split: lengths must be ints or fractions, got {values}")
    if any(not 0 <= v <= 1 for v in values) or not math.isclose(sum(values), 1.0):
        raise ValueError(
            f"random_split: fractions {values} must each lie in [0, 1] and sum to 1 "
            f"(they sum to {sum(values):g}); or give ints summing to {n}"
        )
    sizes = [math.floor(n * float(v)) for v in values]
    for i in range(n - sum(sizes)):  # hand out the remainder round-robin, as PyTorch does
        sizes[i % len(sizes)] += 1
    return sizes


def random_split(dataset: MapDataset, lengths: Sequence[int | float],
                 seed: int | None = None) -> list[Subset]:
    """Split `dataset` into non-overlapping random `Subset`s of the given lengths.

    `lengths` are ints summing to `len(dataset)`, or fractions summing to 1 (sizes are
    floored and the remainder handed out one by one from the first split, like PyTorch).
    `seed` makes the split reproducible; without it the permutation comes from gradkit's
    global generator, so `gk.manual_seed` does.
    """
    n = len(dataset)
    sizes = _split_lengths(lengths, n)
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
        raise TypeError(f"random_split: seed must be an int or None, got {seed!r}")
    rng = np.random.default_rng(spawn_seed() if seed is None else int(seed))
    perm = rng.permutation(n)
    bounds = np.cumsum([0, *sizes])
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
