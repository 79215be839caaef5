"""`tf.data`: input pipelines (`Dataset.from_tensor_slices(...).shuffle(...).batch(...)`).

A Dataset is a recipe: a function that starts a fresh iterator over its elements, so every
`for` loop over it is a new epoch (reshuffled, as TF). Elements are nested tuples/dicts of
NumPy arrays on the host; iterating yields them as `tf.Tensor`s (on the `tf.device`, the
CPU by default). `prefetch` is a no-op (gradkit is synchronous); `cache` keeps the first
full pass in memory. `shuffle` is TF's buffer algorithm: a buffer at least as long as the
data gives a uniform permutation; the order is gradkit's generator's, not TF's.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..backend import random as gkrandom
from ..backend.devices import to_numpy
from ..tensor_base import TensorBase
from . import rows as _rows
from .missing import missing_attribute
from .nest import flatten, map_structure, pack_sequence_as
from .tensor import _infer, from_array, tf_array

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset"]

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2
_CHUNK = 1024  # random numbers drawn at once by shuffle


def _host(x: Any) -> Any:
    """A leaf as a host array (TF's dtype rules for Python data)."""
    if isinstance(x, TensorBase):
        return to_numpy(x._data)
    if hasattr(x, "__cuda_array_interface__"):
        return to_numpy(x)
    return _infer(x)


def _components(x: Any) -> Any:
    """Tuples and dicts are structures; anything else (a list too, as TF) is one tensor."""
    if isinstance(x, dict):
        return {k: _components(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return type(x)(*[_components(v) for v in x]) if hasattr(x, "_fields") else \
            tuple(_components(v) for v in x)
    return _host(x)


def _as_tf(element: Any) -> Any:
    return map_structure(lambda a: from_array(tf_array(np.asarray(a))), element)


def _as_numpy(element: Any) -> Any:
    return map_structure(lambda a: a if isinstance(a, np.generic) else np.asarray(a), element)


def _call(fn: Callable[..., Any], element: Any) -> Any:
    """TF calls a function of a tuple element with the tuple unpacked."""
    tensors = _as_tf(element)
    return fn(*tensors) if isinstance(tensors, tuple) else fn(tensors)


def _stack(elements: list[Any]) -> Any:
    leaves = [flatten(e) for e in elements]
    return pack_sequence_as(elements[0], [np.stack(col) for col in zip(*leaves)])


def _count(n: int, how: Callable[[int], int]) -> int:
    return n if n < 0 else how(n)


class Dataset:
    """A re-iterable pipeline of elements (TensorFlow's `tf.data.Dataset`)."""

    def __init__(self, start: Callable[[], Iterator[Any]], cardinality: int,
                 rows: _rows.Rows | None = None) -> None:
        self._start = start
        self._n = int(cardinality)
        self._rows = rows  # still rows of arrays: the fast path (rows.py)

    def _with_indices(self, chunks: _rows.Chunks, cardinality: int) -> Dataset:
        assert self._rows is not None
        rows = self._rows.again(chunks)
        return Dataset(rows.elements, cardinality, rows)

    # ---- sources ------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any, name: str | None = None) -> Dataset:
        """One element per row of the tensors (a tuple or dict of them: rows of each)."""
        comps = _components(tensors)
        leaves = flatten(comps)
        if not leaves or any(a.ndim == 0 for a in leaves):
            raise ValueError("from_tensor_slices: every component needs at least one axis")
        n = leaves[0].shape[0]
        if any(a.shape[0] != n for a in leaves):
            sizes = [a.shape[0] for a in leaves]
            raise ValueError(f"from_tensor_slices: the components have different numbers of "
                             f"rows {sizes}; they must all have the same first dimension")
        rows = _rows.Rows(comps, leaves, lambda: iter([np.arange(n)]))
        return Dataset(rows.elements, n, rows)

    @staticmethod
    def from_tensors(tensors: Any, name: str | None = None) -> Dataset:
        """A dataset of one element: `tensors` as a whole."""
        comps = _components(tensors)
        return Dataset(lambda: iter([comps]), 1)

    @staticmethod
    def range(*args: int, output_type: Any = np.int64, name: str | None = None) -> Dataset:
        """The integers of `range(*args)` (int64)."""
        values = np.arange(*args, dtype=np.dtype(output_type))
        return Dataset(lambda: iter(values), len(values))

    @staticmethod
    def zip(datasets: Any, name: str | None = None) -> Dataset:
        """Elements of several datasets side by side (a tuple or dict, like `datasets`)."""
        flat = flatten(datasets)
        sizes = [d._n for d in flat]
        finite = [s for s in sizes if s >= 0]
        n = min(finite) if finite else min(sizes)

        def start() -> Iterator[Any]:
            for parts in zip(*[d._start() for d in flat]):
                yield pack_sequence_as(datasets, list(parts))
        return Dataset(start, n)

    # ---- transformations ----------------------------------------------------------------
    def map(self, map_func: Callable[..., Any], num_parallel_calls: Any = None,
            deterministic: Any = None, name: str | None = None) -> Dataset:
        """Apply `map_func` to each element (tuple elements are passed unpacked)."""
        src = self._start
        return Dataset(lambda: (_components_out(_call(map_func, e)) for e in src()), self._n)

    def filter(self, predicate: Callable[..., Any], name: str | None = None) -> Dataset:
        """Keep the elements for which `predicate` is true."""
        src = self._start
        return Dataset(lambda: (e for e in src() if bool(_call(predicate, e))),
                       _count(self._n, lambda n: UNKNOWN_CARDINALITY))

    def batch(self, batch_size: int, drop_remainder: bool = False,
              num_parallel_calls: Any = None, deterministic: Any = None,
              name: str | None = None) -> Dataset:
        """Stack `batch_size` consecutive elements into one (a smaller last batch unless
        `drop_remainder`)."""
        size, src = int(batch_size), self._start
        if size <= 0:
            raise ValueError(f"batch: batch_size must be positive, got {batch_size}")
        n = _count(self._n, lambda n: n // size if drop_remainder else -(-n // size))
        if self._rows is not None:
            rows = self._rows
            return Dataset(lambda: rows.batches(size, drop_remainder), n)

        def start() -> Iterator[Any]:
            pending: list[Any] = []
            for e in src():
                pending.append(e)
                if len(pending) == size:
                    yield _stack(pending)
                    pending = []
            if pending and not drop_remainder:
                yield _stack(pending)
        return Dataset(start, n)

    def unbatch(self, name: str | None = None) -> Dataset:
        """Split each element's rows into elements of their own."""
        src = self._start

        def start() -> Iterator[Any]:
            for e in src():
                leaves = flatten(e)
                for i in range(len(leaves[0])):
                    yield pack_sequence_as(e, [a[i] for a in leaves])
        return Dataset(start, UNKNOWN_CARDINALITY)

    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool | None = None, name: str | None = None
                ) -> Dataset:
        """Elements in random order through a buffer of `buffer_size` (TF's algorithm);
        a new order each epoch unless `reshuffle_each_iteration=False`."""
        size, src = int(buffer_size), self._start
        if size <= 0:
            raise ValueError(f"shuffle: buffer_size must be positive, got {buffer_size}")
        base = int(seed) if seed is not None else int(
            gkrandom.generator("cpu").integers(2**63))
        stream = np.random.default_rng(base)
        again = reshuffle_each_iteration is None or bool(reshuffle_each_iteration)

        def rng() -> np.random.Generator:
            return stream if again else np.random.default_rng(base)
        if self._rows is not None:
            return self._with_indices(
                _rows.shuffle(self._rows.chunks, size, self._n, rng, _shuffled), self._n)
        return Dataset(lambda: _shuffled(src(), size, rng()), self._n)

    def take(self, count: int, name: str | None = None) -> Dataset:
        """The first `count` elements (all of them for -1)."""
        k, src = int(count), self._start
        if k < 0:
            return self
        n = k if self._n == INFINITE_CARDINALITY else _count(self._n, lambda n: min(n, k))
        if self._rows is not None:
            return self._with_indices(_rows.take(self._rows.chunks, k), n)

        def start() -> Iterator[Any]:
            for i, e in enumerate(src()):
                if i >= k:
                    return
                yield e
        return Dataset(start, n)

    def skip(self, count: int, name: str | None = None) -> Dataset:
        """All but the first `count` elements."""
        k, src = int(count), self._start
        n = _count(self._n, lambda n: max(n - k, 0))
        if self._rows is not None:
            return self._with_indices(_rows.skip(self._rows.chunks, k), n)

        def start() -> Iterator[Any]:
            for i, e in enumerate(src()):
                if i >= k:
                    yield e
        return Dataset(start, n)

    def repeat(self, count: int | None = None, name: str | None = None) -> Dataset:
        """The elements `count` times over (for ever when None or -1)."""
        src = self._start
        times = -1 if count is None else int(count)
        n = INFINITE_CARDINALITY if times < 0 and self._n != 0 else \
            _count(self._n, lambda n: n * max(times, 0))
        if self._rows is not None:
            return self._with_indices(_rows.repeat(self._rows.chunks, times), n)

        def start() -> Iterator[Any]:
            done = 0
            while times < 0 or done < times:
                yield from src()
                done += 1
        return Dataset(start, n)

    def enumerate(self, start: int = 0, name: str | None = None) -> Dataset:
        """(index, element) pairs; the index is int64."""
        src = self._start
        return Dataset(lambda: ((np.int64(i), e) for i, e in enumerate(src(), start)),
                       self._n)

    def concatenate(self, dataset: Dataset, name: str | None = None) -> Dataset:
        """This dataset's elements, then `dataset`'s."""
        a, b = self._start, dataset._start

        def start() -> Iterator[Any]:
            yield from a()
            yield from b()
        n = INFINITE_CARDINALITY if INFINITE_CARDINALITY in (self._n, dataset._n) else (
            UNKNOWN_CARDINALITY if min(self._n, dataset._n) < 0 else self._n + dataset._n)
        return Dataset(start, n)

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        """Keep the elements of the first full pass in memory and replay them after."""
        src, complete = self._start, [False]
        store: list[Any] = []

        def start() -> Iterator[Any]:
            if complete[0]:
                yield from store
                return
            seen = []
            for e in src():
                seen.append(e)
                yield e
            store[:], complete[0] = seen, True
        return Dataset(start, self._n)

    def prefetch(self, buffer_size: Any = None, name: str | None = None) -> Dataset:
        """A no-op: gradkit makes each element when it is asked for."""
        return self

    def with_options(self, options: Any, name: str | None = None) -> Dataset:
        """A no-op (TF's performance options)."""
        return self

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        """`transformation_func(self)`."""
        return transformation_func(self)

    # ---- reading ------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        return (_as_tf(e) for e in self._start())

    def as_numpy_iterator(self) -> Iterator[Any]:
        """The elements as NumPy arrays (scalars for 0-d ones)."""
        return (_as_numpy(e) for e in self._start())

    def cardinality(self) -> Any:
        """The number of elements as an int64 tensor (-1: infinite, -2: unknown)."""
        return from_array(np.asarray(self._n, dtype=np.int64))

    def __len__(self) -> int:
        if self._n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if self._n < 0:
            raise TypeError("The dataset length is unknown.")
        return self._n

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<Dataset cardinality={self._n}>"

    def __getattr__(self, name: str) -> Any:
        raise missing_attribute("tf.data.Dataset", name)


def _components_out(x: Any) -> Any:
    """What a map function returned, as host arrays in a structure."""
    if isinstance(x, dict | tuple):
        return map_structure(_host, x)
    return _host(x)


def _shuffled(items: Iterator[Any], size: int, rng: np.random.Generator) -> Iterator[Any]:
    """TF's shuffle: fill a buffer, then yield a random slot and refill it."""
    buf: list[Any] = []
    draws = rng.random(_CHUNK)
    k = 0
    for e in items:
        if len(buf) < size:
            buf.append(e)
            continue
        if k == _CHUNK:
            draws, k = rng.random(_CHUNK), 0
        j = int(draws[k] * size)
        k += 1
        out, buf[j] = buf[j], e
        yield out
    while buf:
        j = int(rng.random() * len(buf))
        buf[j], buf[-1] = buf[-1], buf[j]
        yield buf.pop()


def cardinality(dataset: Dataset) -> Any:
    """`dataset.cardinality()`."""
    return dataset.cardinality()


experimental = types.SimpleNamespace(AUTOTUNE=AUTOTUNE, cardinality=cardinality,
                                     INFINITE_CARDINALITY=INFINITE_CARDINALITY,
                                     UNKNOWN_CARDINALITY=UNKNOWN_CARDINALITY)


def __getattr__(name: str) -> Any:
    raise missing_attribute("tf.data", name)
