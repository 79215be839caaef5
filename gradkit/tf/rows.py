"""The fast path of `tf.data`: a dataset still made of rows of arrays.

`from_tensor_slices` keeps its arrays and a stream of row indices (in chunks, NumPy int
arrays). `shuffle`, `take`, `skip` and `repeat` act on the indices, and `batch` gathers
each batch with one fancy index per array, so a shuffled epoch of MNIST costs a permutation
and one gather per batch instead of a Python step per element. Any other transformation
reads the rows one by one (the general path of data.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .nest import pack_sequence_as

Chunks = Callable[[], Iterator[np.ndarray]]
_CHUNK = 4096  # indices per chunk where a stream is made one index at a time


class Rows:
    """Arrays of equal length (`leaves`, arranged like `comps`) and their index stream."""

    __slots__ = ("comps", "leaves", "chunks")

    def __init__(self, comps: Any, leaves: list[Any], chunks: Chunks) -> None:
        self.comps, self.leaves, self.chunks = comps, leaves, chunks

    def again(self, chunks: Chunks) -> Rows:
        """The same arrays with another index stream."""
        return Rows(self.comps, self.leaves, chunks)

    def gather(self, idx: Any) -> Any:
        """One element (an int) or a batch (an int array) of rows."""
        return pack_sequence_as(self.comps, [a[idx] for a in self.leaves])

    def elements(self) -> Iterator[Any]:
        for idx in self.chunks():
            for i in idx.tolist():
                yield self.gather(i)

    def batches(self, size: int, drop_remainder: bool) -> Iterator[Any]:
        pending: list[np.ndarray] = []
        count = 0
        for idx in self.chunks():
            pending.append(idx)
            count += len(idx)
            if count < size:
                continue
            flat = np.concatenate(pending)
            full = len(flat) // size * size
            for start in range(0, full, size):
                yield self.gather(flat[start:start + size])
            pending, count = [flat[full:]], len(flat) - full
        if count and not drop_remainder:
            yield self.gather(np.concatenate(pending))


def take(chunks: Chunks, k: int) -> Chunks:
    def start() -> Iterator[np.ndarray]:
        left = k
        for idx in chunks():
            if left <= 0:
                return
            yield idx[:left]
            left -= len(idx)
    return start


def skip(chunks: Chunks, k: int) -> Chunks:
    def start() -> Iterator[np.ndarray]:
        left = k
        for idx in chunks():
            if left >= len(idx):
                left -= len(idx)
                continue
            yield idx[left:]
            left = 0
    return start


def repeat(chunks: Chunks, times: int) -> Chunks:
    def start() -> Iterator[np.ndarray]:
        done = 0
        while times < 0 or done < times:
            empty = True
            for idx in chunks():
                empty = empty and not len(idx)
                yield idx
            if empty:
                return
            done += 1
    return start


def shuffle(chunks: Chunks, size: int, n: int, rng: Callable[[], np.random.Generator],
            buffered: Callable[[Iterator[Any], int, np.random.Generator], Iterator[Any]]
            ) -> Chunks:
    """Shuffled indices: one permutation when the buffer holds the whole (finite) stream,
    else the buffer algorithm `buffered` on the indices."""
    def start() -> Iterator[np.ndarray]:
        gen = rng()
        if 0 <= n <= size:
            flat = np.concatenate([np.zeros(0, np.int64), *chunks()])
            yield flat[gen.permutation(len(flat))]
            return
        stream = buffered((i for idx in chunks() for i in idx.tolist()), size, gen)
        while True:
            block = np.fromiter(itertools.islice(stream, _CHUNK), np.int64)
            if not len(block):
                return
            yield block
    return start
