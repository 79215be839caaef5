"""Shared helpers for the gradkit.data tests."""

from __future__ import annotations

import numpy as np
import pytest

from gradkit.data import Dataset


class _ListDataset(Dataset):
    """A generic dataset (no `__getitems__`): samples come one by one from a list."""

    def __init__(self, items):
        self.items = list(items)

    def __getitem__(self, index):
        return self.items[index]

    def __len__(self):
        return len(self.items)


@pytest.fixture
def list_dataset():
    """The class of a generic dataset over a list (per-sample path, no `__getitems__`)."""
    return _ListDataset


@pytest.fixture
def xy():
    """23 samples: float32 features (23, 3), int64 labels, so batches of 5 leave 3 over."""
    x = np.arange(23 * 3, dtype=np.float32).reshape(23, 3)
    y = np.arange(23, dtype=np.int64)
    return x, y

