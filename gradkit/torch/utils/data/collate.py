"""PyTorch's `default_collate` and `default_convert`: samples -> one batch of tensors.

A batch has the structure of one sample with each leaf stacked along a new first axis:
tensors and NumPy arrays keep their dtype, Python ints become int64, floats float64 and
bools bool (PyTorch's rules), strings stay a list; a tuple sample gives a list (as in
PyTorch), a namedtuple the same namedtuple, a dict a dict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ....backend.devices import xp_of
from ....tensor import Tensor as _Native
from ...tensor import Tensor, from_array

__all__ = ["default_collate", "default_convert", "to_torch"]


def _stack_arrays(arrays: list) -> Any:
    try:
        return xp_of(arrays[0]).stack(arrays)
    except ValueError:
        shapes = sorted({tuple(a.shape) for a in arrays})
        raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, "
                           f"got shapes {shapes}; pad or crop the samples, or pass "
                           "collate_fn=") from None


def default_collate(batch: Sequence) -> Any:
    """Stack a list of samples into one batch whose leaves are `torch.Tensor`s."""
    if len(batch) == 0:
        raise ValueError("default_collate: cannot make a batch from an empty list of samples")
    elem = batch[0]
    if isinstance(elem, _Native):
        return from_array(_stack_arrays([t._data for t in batch]))
    if isinstance(elem, np.ndarray) or hasattr(elem, "__cuda_array_interface__"):
        if elem.dtype.kind in "OSU":
            raise TypeError(f"default_collate: arrays of {elem.dtype} cannot become tensors")
        return from_array(_stack_arrays(list(batch)))
    if isinstance(elem, np.generic):
        return from_array(np.asarray(batch))
    if isinstance(elem, bool):
        return from_array(np.asarray(batch, dtype=bool))
    if isinstance(elem, int):
        return from_array(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return from_array(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


def default_convert(data: Any) -> Any:
    """NumPy arrays (also inside tuples, lists and dicts) as tensors; the rest as is."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSU":
        return from_array(data)
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, list):
        return [default_convert(d) for d in data]
    return to_torch(data)


def to_torch(batch: Any) -> Any:
    """A batch from gradkit's loader as PyTorch gives it: `torch.Tensor` leaves, tuples as
    lists (namedtuples and dicts keep their type)."""
    if type(batch) is _Native:
        batch.__class__ = Tensor
        return batch
    if isinstance(batch, tuple):
        items = [to_torch(b) for b in batch]
        return type(batch)(*items) if hasattr(batch, "_fields") else items
    if isinstance(batch, list):
        return [to_torch(b) for b in batch]
    if isinstance(batch, dict):
        return {k: to_torch(v) for k, v in batch.items()}
    return batch
