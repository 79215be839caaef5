"""`DataLoader` with PyTorch's signature over gradkit's loader.

Batches come as PyTorch gives them: `torch.Tensor` leaves, a tuple sample as a list
(`for x, y in loader` unpacks either). Array-backed datasets (TensorDataset, its Subsets, the
MNIST of gradkit.torchvision with tensor transforms) are batched with one index per field.
Loading runs in this process: `num_workers`, `pin_memory`, `prefetch_factor`,
`persistent_workers` are accepted and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ....data import loader as _gkloader
from ...nn._args import seed_of
from .collate import default_collate, to_torch
from .datasets import IterableDataset
from .samplers import RandomSampler

__all__ = ["DataLoader"]


class DataLoader(_gkloader.DataLoader):
    """Minibatches of `dataset`: `DataLoader(ds, batch_size=64, shuffle=True)`;
    `len(loader)` is the number of batches per epoch."""

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Any = None,
                 multiprocessing_context: Any = None, generator: Any = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if batch_sampler is not None or batch_size is None:
            raise NotImplementedError("DataLoader: batch_sampler and batch_size=None are not "
                                      "supported by gradkit; give batch_size (and a sampler)")
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.generator, self.worker_init_fn = generator, worker_init_fn
        self.prefetch_factor, self.persistent_workers = prefetch_factor, persistent_workers
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle or sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 "shuffle and sampler options")
            self._init_iterable(dataset, batch_size, drop_last, collate_fn)
            return
        if shuffle and sampler is None:
            sampler, shuffle = RandomSampler(dataset, generator=generator), False
        fast = collate_fn is None and hasattr(dataset, "__getitems__")
        super().__init__(dataset, batch_size, bool(shuffle), drop_last,
                         seed_of(generator, "DataLoader"), sampler,
                         None if fast else (collate_fn or default_collate))
        self.shuffle = isinstance(sampler, RandomSampler) or bool(shuffle)

    def _init_iterable(self, dataset: Any, batch_size: int, drop_last: bool,
                       collate_fn: Callable | None) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got "
                             f"{batch_size!r}")
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, bool(drop_last)
        self.collate_fn, self.shuffle = collate_fn, False
        self.sampler = None  # type: ignore[assignment]  # a stream has no sampler

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError when the stream has no length, as in PyTorch
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return super().__len__()

    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            return self._stream()
        return map(to_torch, super().__iter__())

    def _stream(self) -> Iterator[Any]:
        collate = self.collate_fn or default_collate
        chunk: list = []
        stream: Any = self.dataset
        for sample in stream:
            chunk.append(sample)
            if len(chunk) == self.batch_size:
                yield to_torch(collate(chunk))
                chunk = []
        if chunk and not self.drop_last:
            yield to_torch(collate(chunk))

    def __repr__(self) -> str:
        return f"<gradkit.torch.utils.data.DataLoader object at {id(self):#x}>"
