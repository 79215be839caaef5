"""Feeding data to models: datasets, samplers and the minibatch `DataLoader`.

    from gradkit.data import DataLoader, TensorDataset, random_split
    train, val = random_split(TensorDataset(x, y), [0.9, 0.1], seed=0)
    for xb, yb in DataLoader(train, batch_size=128, shuffle=True): ...
"""

from __future__ import annotations

from .collate import default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .loader import DataLoader
from .sampler import RandomSampler, Sampler, SequentialSampler

__all__ = [
    "DataLoader",
    "Dataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "TensorDataset",
    "default_collate",
    "random_split",
]
