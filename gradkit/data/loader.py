"""DataLoader: iterate over a dataset in (shuffled) minibatches of Tensors.

Array-backed datasets (those with `__getitems__`, such as `TensorDataset` and its `Subset`s)
are batched with one fancy index per field per batch; other datasets are read sample by
sample and stacked by `collate_fn` (default: `default_collate`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..backend.devices import device_scope, namespace, xp_of
from .collate import as_batch, collate_arrays
from .dataset import MapDataset, TensorDataset
from .sampler import RandomSampler, Sampler, SequentialSampler


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class DataLoader:
    """Minibatches of `dataset`, as Tensors with the structure of one sample.

        loader = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True, seed=0)
        for xb, yb in loader: ...

    `shuffle=True` draws a new permutation each epoch from the loader's own generator,
    seeded by `seed` (or, when `seed` is None, by gradkit's global generator at
    construction, so `gk.manual_seed` before building the loader makes runs reproducible).
    `sampler` replaces shuffling: any object with `__iter__` (one epoch's indices) and
    `__len__`, optionally `set_epoch(epoch)`, `indices()` (the epoch as an int array) and
    `state_dict()`/`load_state_dict()`. `collate_fn(list_of_samples)` replaces the default
    stacking (the loader then reads samples one by one). `device` moves each batch there.
    Batch dtypes are those the dataset stores (uint8 images stay uint8).
    `read_only_views=True`: unshuffled batches of a NumPy `TensorDataset` are read-only views
    of its arrays instead of copies (what `predict` and `evaluate` use; writing into such a
    batch raises instead of changing the dataset).
    `state_dict()`/`load_state_dict()` save and restore the epoch counter, the position
    inside an epoch and the sampler's generator, so a resumed run sees the same batches.
    """

    def __init__(
        self,
        dataset: MapDataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        sampler: Sampler | Sequence[int] | None = None,
        collate_fn: Callable | None = None,
        device: str | None = None,
        *,
        read_only_views: bool = False,
    ) -> None:
        if not _is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if seed is not None and not _is_int(seed):
            raise TypeError(f"DataLoader: seed must be an int or None, got {seed!r}")
        n = len(dataset)
        if n == 0:
            raise ValueError("DataLoader: the dataset is empty (len(dataset) == 0)")
        if sampler is not None:
            if shuffle:
                raise ValueError("DataLoader: give either shuffle=True or a sampler, not both")
            if not (hasattr(sampler, "__iter__") and hasattr(sampler, "__len__")):
                raise TypeError("DataLoader: sampler must have __iter__ and __len__")
        elif shuffle:
            sampler = RandomSampler(dataset, seed=seed)
        else:
            sampler = SequentialSampler(dataset)
        if device is not None:
            namespace(device)  # refuse an unknown device, or CUDA without CuPy, now
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.collate_fn = collate_fn
        self.device = device
        self.read_only_views = bool(read_only_views)
        self._epoch = 0  # the epoch the next `iter()` starts
        self._skip = 0  # batches to skip at the start of the next epoch (set by a resume)
        # [epoch, batches yielded, sampler state before the epoch]
        self._progress: list | tuple | None = None
        if len(self) == 0:
            raise ValueError(
                f"DataLoader: drop_last=True with batch_size={batch_size} larger than the "
                f"{len(sampler)} samples gives no batches"
            )

    def __len__(self) -> int:
        """The number of batches per epoch."""
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    @property
    def epoch(self) -> int:
        """The number of epochs started so far (the index of the next one)."""
        return self._epoch

    def _epoch_indices(self) -> np.ndarray:
        sampler = self.sampler
        if hasattr(sampler, "indices") and callable(sampler.indices):
            order = np.asarray(sampler.indices())
        else:
            order = np.fromiter(iter(sampler), dtype=np.int64)
            n = len(self.dataset)
            if order.size and (order.min() < 0 or order.max() >= n):
                raise IndexError(
                    f"DataLoader: the sampler gave index {order.min()}..{order.max()} "
                    f"outside 0..{n - 1}"
                )
        return order

    def __iter__(self) -> Iterator:
        sampler = self.sampler
        state = sampler.state_dict() if hasattr(sampler, "state_dict") else None
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(self._epoch)
        order = self._epoch_indices()
        progress = [self._epoch, self._skip, state]
        self._progress = progress
        self._epoch += 1
        self._skip = 0
        return self._batches(order, progress)

    def _batches(self, order: Any, progress: list) -> Iterator:
        """The batches of one epoch; `order` is the epoch's indices (on the host or the
        GPU), or None once it is known to be 0..n-1 (then batches are slices)."""
        bs, device = self.batch_size, self.device
        dataset: Any = self.dataset  # __getitems__ when `fast`
        collate_fn = self.collate_fn
        n_batches = len(order) // bs if self.drop_last else -(-len(order) // bs)
        fast = collate_fn is None and hasattr(dataset, "__getitems__")
        if fast:
            order = _on_storage_device(dataset, order)
        if fast and self.read_only_views and _host_range(dataset, order):
            order = None  # batches are slices: views, not gathered copies
        for b in range(progress[1], n_batches):
            start, stop = b * bs, (b + 1) * bs
            idx: Any = slice(start, stop) if order is None else order[start:stop]
            if fast:
                batch = as_batch(dataset.__getitems__(idx), device)
            else:
                samples = [dataset[i] for i in idx.tolist()]
                if collate_fn is None:
                    batch = as_batch(collate_arrays(samples), device)
                else:
                    batch = as_batch(collate_fn(samples), device)
            progress[1] = b + 1
            yield batch
        if self._progress is progress:
            self._progress = None

    def state_dict(self) -> dict:
        """The loader's position: epoch, batches done in it, and the sampler's state (JSON-able).

        Taken between epochs it resumes at the next epoch; taken inside an epoch it resumes
        at the next batch of that same epoch (same permutation).
        """
        p = self._progress
        if p is not None and p[1] < len(self):
            return {"epoch": p[0], "batches_done": p[1], "sampler": p[2]}
        sampler = self.sampler
        state = sampler.state_dict() if hasattr(sampler, "state_dict") else None
        return {"epoch": self._epoch, "batches_done": 0, "sampler": state}

    def load_state_dict(self, state: dict) -> None:
        """Restore a state from `state_dict`: the next `iter()` continues from there."""
        if state.get("sampler") is not None:
            if not hasattr(self.sampler, "load_state_dict"):
                raise TypeError(
                    f"DataLoader: the state holds a sampler state, but "
                    f"{type(self.sampler).__name__} has no load_state_dict"
                )
            self.sampler.load_state_dict(state["sampler"])
        self._epoch = int(state["epoch"])
        self._skip = int(state.get("batches_done", 0))
        # until iteration resumes, state_dict() reports the loaded position unchanged
        self._progress = (self._epoch, self._skip, state.get("sampler")) if self._skip else None

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, batches={len(self)})"
        )


def _on_storage_device(dataset, order: np.ndarray):
    """The epoch's order on the GPU that holds a TensorDataset's arrays: one copy per epoch,
    where gathering with host indices would copy them, and wait for the GPU, every batch."""
    arrays = getattr(dataset, "arrays", None)
    if type(dataset) is not TensorDataset or not arrays:
        return order
    xp = xp_of(arrays[0])
    if xp is np or any(xp_of(a) is not xp or a.device.id != arrays[0].device.id for a in arrays):
        return order
    with device_scope(f"cuda:{arrays[0].device.id}"):
        return xp.asarray(order)


def _host_range(dataset, order: np.ndarray) -> bool:
    """Whether `order` is 0, 1, ..., n-1 over a TensorDataset of NumPy arrays."""
    arrays = getattr(dataset, "arrays", None) or ()
    return (type(dataset) is TensorDataset and bool(arrays)
            and all(isinstance(a, np.ndarray) for a in arrays)
            and isinstance(order, np.ndarray) and len(order) == len(dataset)
            and bool((order == np.arange(len(order))).all()))
