"""Samplers with PyTorch's signatures: the order a DataLoader visits the indices in."""

from __future__ import annotations

from collections.abc import Sequence, Sized
from typing import Any

import numpy as np

from ....backend.random import spawn_seed
from ....data import sampler as _gks
from ...nn._args import seed_of

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]

Sampler = _gks.Sampler
SequentialSampler = _gks.SequentialSampler


class _Seeded(_gks.Sampler):
    """A sampler with its own NumPy generator, seeded from `generator` (or gradkit's)."""

    def _seed(self, generator: Any, where: str) -> None:
        seed = seed_of(generator, where)
        self.seed = spawn_seed() if seed is None else seed
        self.generator = np.random.default_rng(self.seed)

    def state_dict(self) -> dict:
        return {"seed": self.seed, "generator": self.generator.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        rng = np.random.default_rng()
        rng.bit_generator.state = state["generator"]
        self.seed, self.generator = state.get("seed", self.seed), rng


class RandomSampler(_Seeded):
    """A new permutation each epoch (or `num_samples` draws with `replacement`)."""

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Any = None) -> None:
        self.data_source, self.replacement = data_source, replacement
        self._num_samples = num_samples
        self._seed(generator, "RandomSampler")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def indices(self) -> np.ndarray:
        n = len(self.data_source)
        if self.replacement:
            return self.generator.integers(0, n, self.num_samples, dtype=np.int64)
        reps = -(-self.num_samples // n) if n else 0
        perms = [self.generator.permutation(n) for _ in range(reps)]
        return np.concatenate(perms)[:self.num_samples].astype(np.int64) if perms else \
            np.zeros(0, np.int64)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_Seeded):
    """The given indices in a new random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices_ = np.asarray(list(indices), dtype=np.int64)
        self._seed(generator, "SubsetRandomSampler")

    def indices(self) -> np.ndarray:
        return self.indices_[self.generator.permutation(len(self.indices_))]

    def __len__(self) -> int:
        return len(self.indices_)


class WeightedRandomSampler(_Seeded):
    """`num_samples` indices drawn with probabilities proportional to `weights`."""

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Any = None) -> None:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if w.size == 0 or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, >= 0, not all 0")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError("WeightedRandomSampler: num_samples exceeds the non-zero weights "
                             "when drawing without replacement")
        self.weights, self.num_samples, self.replacement = w, int(num_samples), replacement
        self._seed(generator, "WeightedRandomSampler")

    def indices(self) -> np.ndarray:
        p = self.weights / self.weights.sum()
        return self.generator.choice(len(p), self.num_samples, replace=self.replacement,
                                     p=p).astype(np.int64)

    def __len__(self) -> int:
        return self.num_samples
