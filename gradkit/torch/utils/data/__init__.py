"""`torch.utils.data`: Dataset, TensorDataset, DataLoader, random_split, Subset,
ConcatDataset, samplers and default_collate, PyTorch's names and semantics over gradkit.data.

    from torch.utils.data import DataLoader, TensorDataset, random_split
    train, val = random_split(TensorDataset(x, y), [0.8, 0.2])
    for xb, yb in DataLoader(train, batch_size=32, shuffle=True): ...
"""

from __future__ import annotations

from .collate import default_collate, default_convert
from .datasets import (
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .loader import DataLoader
from .samplers import (
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split", "DataLoader", "default_collate", "default_convert", "Sampler",
           "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]

_HINTS = {
    "BatchSampler": "give DataLoader a batch_size (and a sampler for the order)",
    "DistributedSampler": "use gk.distributed (data-parallel training over MPI), whose "
                          "samplers shard the data per rank",
    "get_worker_info": "gradkit loads data in the training process (num_workers is "
                       "accepted and ignored), so there is no worker",
    "ChainDataset": "chain the streams in one IterableDataset's __iter__ (itertools.chain)",
    "StackDataset": "return a tuple from one Dataset's __getitem__",
}


def __getattr__(name: str) -> object:
    if name.startswith("__"):
        raise AttributeError(f"module 'gradkit.torch.utils.data' has no attribute {name!r}")
    hint = _HINTS.get(name, "gradkit.torch.utils.data has Dataset, IterableDataset, "
                            "TensorDataset, Subset, ConcatDataset, random_split, DataLoader, "
                            "default_collate and the samplers")
    raise AttributeError(f"module 'gradkit.torch.utils.data' (PyTorch's API on gradkit) has "
                         f"no attribute {name!r}: {hint}")
