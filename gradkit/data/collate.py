"""Collating: turning samples into a batch, and a batch of arrays into Tensors.

`default_collate(samples)` follows PyTorch: the batch has the structure of one sample
(tuple -> tuple, list -> list, dict -> dict, namedtuple -> namedtuple) with each leaf stacked
along a new first axis. Leaves: arrays and Tensors are stacked (dtype kept, except float64
NumPy data, which becomes float32 as everywhere in gradkit); Python ints -> int64, floats ->
float32, bools -> bool; strings stay a list of strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..backend.devices import DEFAULT_FLOAT, DEFAULT_INT, to_device, xp_of
from ..tensor import Tensor


def default_collate(samples: Sequence) -> object:
    """Stack a list of samples into one batch whose array leaves are Tensors."""
    return as_batch(collate_arrays(samples))


def collate_arrays(samples: Sequence) -> object:
    """Like `default_collate`, but the leaves stay NumPy (or CuPy) arrays."""
    if len(samples) == 0:
        raise ValueError("collate: cannot make a batch from an empty list of samples")
    first = samples[0]
    if isinstance(first, Mapping):
        return {key: collate_arrays([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            kind = type(first).__name__
            raise ValueError(f"collate: samples are {kind}s of different lengths")
        out = [collate_arrays(f) for f in zip(*samples)]
        if isinstance(first, list):
            return out
        if hasattr(first, "_fields"):  # a namedtuple: rebuilt field by field
            named: Any = type(first)
            return named(*out)
        return tuple(out)
    return _stack_leaves(samples)


def _stack_leaves(leaves: Sequence):
    first = leaves[0]
    if isinstance(first, str):
        return list(leaves)
    if isinstance(first, Tensor):
        data = [t._data for t in leaves]
        return xp_of(data[0]).stack(data)  # Tensors keep their dtype
    if isinstance(first, (np.ndarray, np.generic)) or hasattr(first, "__cuda_array_interface__"):
        try:
            arr = xp_of(first).stack(leaves)
        except ValueError:
            shapes = sorted({tuple(np.shape(v)) for v in leaves})
            raise ValueError(
                f"collate: samples have different shapes {shapes}; make them equal "
                "(pad or crop) or pass collate_fn="
            ) from None
    elif isinstance(first, bool):
        arr = np.asarray(leaves, dtype=bool)
    elif isinstance(first, (int, float)):
        dtype = DEFAULT_INT if all(isinstance(v, int) for v in leaves) else DEFAULT_FLOAT
        arr = np.asarray(leaves, dtype=dtype)
    else:
        raise TypeError(
            f"collate: cannot batch samples of type {type(first).__name__}; return arrays, "
            "numbers, strings or tuples/lists/dicts of them, or pass collate_fn="
        )
    if arr.dtype == object:
        raise TypeError("collate: samples have different shapes or non-numeric data")
    if arr.dtype == np.float64:
        arr = arr.astype(DEFAULT_FLOAT)
    return arr


def as_batch(batch: Any, device: str | None = None) -> Any:
    """Wrap the array leaves of `batch` in Tensors (moved to `device` when given)."""
    if isinstance(batch, Tensor):
        return batch if device is None else Tensor._wrap(to_device(batch._data, device))
    if isinstance(batch, np.ndarray) or hasattr(batch, "__cuda_array_interface__"):
        return Tensor._wrap(batch if device is None else to_device(batch, device))
    if isinstance(batch, tuple):
        out = [as_batch(b, device) for b in batch]
        return type(batch)(*out) if hasattr(batch, "_fields") else tuple(out)
    if isinstance(batch, list):
        return [as_batch(b, device) for b in batch]
    if isinstance(batch, Mapping):
        return {k: as_batch(v, device) for k, v in batch.items()}
    return batch
