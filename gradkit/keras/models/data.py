"""Keras's data arguments for gradkit's loop: one array each for x and y goes to `fit` as it
is; several inputs or outputs (lists, or dicts by name) become a loader whose batches are
`(inputs, targets)` with tuples inside."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...data import DataLoader, Dataset
from ...data.collate import as_batch
from ...tensor import Tensor


def array(a: Any) -> Any:
    """A NumPy/CuPy array from an array, Tensor or nested list (float64 -> float32)."""
    if isinstance(a, Tensor):
        return a._data
    if not (isinstance(a, np.ndarray) or hasattr(a, "__cuda_array_interface__")):
        a = np.asarray(a)
    return a.astype(np.float32) if a.dtype == np.float64 else a


def _ordered(value: Any, names: list[str], what: str) -> list:
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        if missing:
            raise ValueError(f"the {what} dict lacks {missing} (the model's {what}s are {names})")
        return [array(value[n]) for n in names]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        if len(value) != len(names):
            raise ValueError(f"the model has {len(names)} {what}s {names}, got {len(value)}")
        return [array(v) for v in value]
    return [array(value)]


class NestedDataset(Dataset):
    """Samples `(inputs, targets)`; either side a tuple when the model has several."""

    def __init__(self, xs: list, ys: list | None, multi_x: bool, multi_y: bool) -> None:
        n = len(xs[0])
        for a in xs + (ys or []):
            if len(a) != n:
                raise ValueError(f"fit: every input and target needs the same number of "
                                 f"samples, got {[len(a) for a in xs + (ys or [])]}")
        self.xs, self.ys, self.multi_x, self.multi_y = xs, ys, multi_x, multi_y

    def __len__(self) -> int:
        return len(self.xs[0])

    def _take(self, idx: Any) -> tuple:
        x = tuple(a[idx] for a in self.xs) if self.multi_x else self.xs[0][idx]
        if self.ys is None:
            return (x,)
        y = tuple(a[idx] for a in self.ys) if self.multi_y else self.ys[0][idx]
        return x, y

    def __getitem__(self, index: int) -> tuple:
        return self._take(index)

    def __getitems__(self, indices: Any) -> tuple:
        return self._take(indices)

    def split(self, fraction: float) -> tuple[NestedDataset, NestedDataset]:
        """(first part, last `fraction`): Keras's validation_split, before shuffling."""
        at = int(math.ceil(len(self) * (1.0 - fraction)))
        cut = [(a[:at], a[at:]) for a in self.xs]
        cut_y = None if self.ys is None else [(a[:at], a[at:]) for a in self.ys]
        first = NestedDataset([c[0] for c in cut], None if cut_y is None else
                              [c[0] for c in cut_y], self.multi_x, self.multi_y)
        last = NestedDataset([c[1] for c in cut], None if cut_y is None else
                             [c[1] for c in cut_y], self.multi_x, self.multi_y)
        return first, last


class BatchStream(DataLoader):
    """Any re-iterable source of ready batches (a `tf.data.Dataset`, a list of (x, y)
    pairs, ...) as a loader: each epoch iterates the source again; array leaves become
    Tensors."""

    def __init__(self, source: Any) -> None:  # no sampling: the source makes the batches
        if not hasattr(source, "__len__"):  # a generator: read once, kept
            source = list(source)
        self.source, self.dataset = source, None  # type: ignore[assignment]
        self.batch_size, self.drop_last, self.shuffle = 1, False, False
        self._n = n = len(source)
        self.sampler = range(n)

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Any:
        for batch in self.source:
            yield as_batch(_arrays(batch))

    def __repr__(self) -> str:
        return f"BatchStream({type(self.source).__name__}, batches={self._n})"


def _arrays(batch: Any) -> Any:
    if isinstance(batch, dict):
        return {k: _arrays(v) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return tuple(_arrays(v) for v in batch)
    return array(batch) if not isinstance(batch, Tensor) else batch


def is_stream(x: Any) -> bool:
    """A source of batches: iterable, but not an array, a Tensor or a gradkit loader."""
    return (hasattr(x, "__iter__") and not isinstance(x, (np.ndarray, Tensor, list, tuple,
                                                          dict, str, DataLoader, Dataset))
            and not hasattr(x, "__cuda_array_interface__"))


def prepare(model: Any, x: Any, y: Any) -> tuple[Any, Any, NestedDataset | None]:
    """(x, y, None) when both are single arrays (or x is a loader), else (None, None, a
    NestedDataset in the model's input and output order)."""
    if isinstance(x, (DataLoader, Dataset)):
        return x, y, None
    if is_stream(x):
        if y is not None:
            raise ValueError("fit: y must be None when x yields (x, y) batches (e.g. a "
                             "tf.data.Dataset)")
        return BatchStream(x), None, None
    in_names, out_names = model._input_names(), model._output_names()
    multi_x = len(in_names) > 1 or isinstance(x, dict)
    multi_y = len(out_names) > 1 or isinstance(y, dict)
    if not multi_x and not multi_y:
        if isinstance(x, (list, tuple)) and len(x) == 1 and hasattr(x[0], "shape"):
            x = x[0]
        return array(x), (None if y is None else array(y)), None
    xs = _ordered(x, in_names, "input")
    ys = None if y is None else _ordered(y, out_names, "output")
    return None, None, NestedDataset(xs, ys, len(in_names) > 1, len(out_names) > 1)


def device_of(model: Any) -> str:
    """Where the model's weights are ("cpu" before it has any)."""
    p = next(model.parameters(), None)
    return "cpu" if p is None else p.device


def loader(dataset: NestedDataset, batch_size: int, shuffle: bool,
           model: Any = None) -> DataLoader:
    """Batches of `dataset`, moved to the model's device."""
    device = None if model is None else device_of(model)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle,
                      device=None if device == "cpu" else device)


def first_inputs(x: Any, n: int = 2) -> Any:
    """The first `n` samples of x (an array, a list/dict of arrays, or a loader's batch)."""
    if isinstance(x, (DataLoader, Dataset)):
        batch = next(iter(x)) if isinstance(x, DataLoader) else x[0]
        first = batch[0] if isinstance(batch, (tuple, list)) else batch
        return first if isinstance(x, DataLoader) else _batched(first)
    if isinstance(x, dict):
        return {k: array(v)[:n] for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape") and not isinstance(
            x, np.ndarray):
        return [array(v)[:n] for v in x]
    return array(x)[:n]


def _batched(sample: Any) -> Any:
    if isinstance(sample, (tuple, list)):
        return type(sample)(_batched(s) for s in sample)
    return array(sample)[None]
