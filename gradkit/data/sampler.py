"""Samplers: the order in which a `DataLoader` visits a dataset's indices, one epoch at a time.

A sampler is anything with `__iter__` (the indices of one epoch) and `__len__`; it may also
have `set_epoch(epoch)` (called by the loader before each epoch) and
`state_dict()` / `load_state_dict(state)` (so a checkpoint resumes the same order).
Subclasses of `Sampler` implement `indices()`, which returns the whole epoch as one NumPy
integer array, so the loader slices batches out of it without a per-index Python loop.

A distributed sampler plugs in the same way: its `indices()` shuffles with a seed shared by
all ranks (seeded from the epoch given to `set_epoch`) and keeps its rank's shard,
e.g. `perm[rank::world_size]`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

import numpy as np

from ..backend.random import spawn_seed


class Sampler:
    """Base class: `indices()` gives one epoch's indices; iterating gives them as ints."""

    def indices(self) -> np.ndarray:
        """The indices of the next epoch, as a 1-D int64 array."""
        raise NotImplementedError(f"{type(self).__name__} must implement indices()")

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def set_epoch(self, epoch: int) -> None:
        """Called by the loader before each epoch (a no-op unless a sampler needs it)."""

    def state_dict(self) -> dict:
        """What `load_state_dict` needs to reproduce the next epochs (JSON-able)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state made by `state_dict`."""


def sample_count(data_source: Sized | int, where: str = "sampler") -> int:
    """How many samples `data_source` holds: its len(), or the number itself."""
    if isinstance(data_source, Sized):
        return len(data_source)
    if isinstance(data_source, bool) or not isinstance(data_source, (int, np.integer)):
        raise TypeError(f"{where}: expected a dataset (anything with len()) or a number of "
                        f"samples, got {type(data_source).__name__}")
    if data_source < 0:
        raise ValueError(f"{where}: the number of samples must be >= 0, got {data_source}")
    return int(data_source)


class SequentialSampler(Sampler):
    """0, 1, ..., n-1 every epoch. `data_source` is a dataset (anything with len) or n."""

    def __init__(self, data_source: Sized | int) -> None:
        self.data_source = data_source

    def indices(self) -> np.ndarray:
        return np.arange(sample_count(self.data_source), dtype=np.int64)

    def __len__(self) -> int:
        return sample_count(self.data_source)


class RandomSampler(Sampler):
    """A fresh permutation of 0..n-1 every epoch, from the sampler's own NumPy generator.

    `seed=None` draws the seed from gradkit's global generator (`gk.manual_seed` makes it
    reproducible). Successive epochs differ; the sequence of epochs is fixed by the seed.
    """

    def __init__(self, data_source: Sized | int, seed: int | None = None) -> None:
        if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
            raise TypeError(f"RandomSampler: seed must be an int or None, got {seed!r}")
        self.data_source = data_source
        self.seed = spawn_seed() if seed is None else int(seed)
        self.generator = np.random.default_rng(self.seed)

    def indices(self) -> np.ndarray:
        n = sample_count(self.data_source)
        return self.generator.permutation(n).astype(np.int64, copy=False)

    def __len__(self) -> int:
        return sample_count(self.data_source)

    def state_dict(self) -> dict:
        return {"seed": self.seed, "generator": self.generator.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        rng = np.random.default_rng()
        rng.bit_generator.state = state["generator"]
        self.seed = state.get("seed", self.seed)
        self.generator = rng
