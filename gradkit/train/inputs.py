"""Turning fit/evaluate/predict inputs into DataLoaders, after checking them once.

Arrays (NumPy, CuPy, Tensors, nested lists) become a `TensorDataset` in a `DataLoader`
(float64 data is stored as float32); a `DataLoader` is used as given, a `Dataset` is wrapped
in one. `validation_split` takes the LAST fraction of the samples, before any shuffling.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..backend import cuda
from ..backend.devices import to_device
from ..data import DataLoader, Dataset, TensorDataset
from ..nn.module import Module
from ..tensor import Tensor
from . import checks
from .config import TrainConfig


def to_array(a: Any, name: str, where: str) -> Any:
    """A NumPy/CuPy array from an array, Tensor or nested list (no copy when possible)."""
    if isinstance(a, Tensor):
        arr = a._data
    elif isinstance(a, np.ndarray) or hasattr(a, "__cuda_array_interface__"):
        arr = a
    else:
        try:
            arr = np.asarray(a)
        except ValueError:
            arr = np.empty(0, dtype=object)
    if arr.dtype == object or arr.dtype.kind not in "biufc":
        raise TypeError(f"{where}: {name} must be a numeric array, a Tensor or a DataLoader, "
                        f"got {type(a).__name__}" + (f" of dtype {arr.dtype}" if
                                                     arr.dtype != object else ""))
    if arr.ndim == 0:
        raise ValueError(f"{where}: {name} is a scalar; it needs a first (sample) axis")
    return arr


def is_loader(x: Any) -> bool:
    return isinstance(x, (DataLoader, Dataset))


def _loader(data, batch_size: int, shuffle: bool, device: str,
            seed: int | None = None) -> DataLoader:
    """A loader over `data`; unshuffled ones (evaluate, predict, fit with shuffle=False) read
    NumPy arrays through read-only views instead of copying each batch. `seed`: the
    shuffling seed (None: drawn from gradkit's generator)."""
    if isinstance(data, DataLoader):
        return data
    if not isinstance(data, Dataset):
        data = TensorDataset(*data)
    arrays = getattr(data, "arrays", ())
    on_host = all(isinstance(a, np.ndarray) for a in arrays)
    if device != "cpu" and on_host and arrays and type(data) is TensorDataset:
        resident = _on_gpu(arrays, device)
        if resident is not None:  # copied to the GPU once; batches are gathered there
            return DataLoader(resident, batch_size=batch_size, shuffle=shuffle,
                              seed=seed if shuffle else None)
    move = None if device == "cpu" and on_host and arrays else device
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, device=move,
                      read_only_views=not shuffle, seed=seed if shuffle else None)


def _on_gpu(arrays, device: str):
    """A TensorDataset of `arrays` on GPU `device` when they take at most a quarter of its
    free memory (else None: the loader then moves each batch there)."""
    if not cuda.fits_in_memory(sum(a.nbytes for a in arrays), device):
        return None
    return TensorDataset(*(to_device(a, device) for a in arrays))


def check_split(validation_split: object) -> float:
    """`validation_split` as a float in [0, 1), or a ValueError."""
    if (isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real)
            or not 0 <= float(validation_split) < 1):
        raise ValueError(f"fit: validation_split must be a number in [0, 1), got "
                         f"{validation_split!r}")
    return float(validation_split)


def split_tail(x: Any, y: Any, fraction: float) -> tuple:
    """((x_train, y_train), (x_val, y_val)): the last `fraction` of samples is validation."""
    n = len(x)
    split_at = int(math.ceil(n * (1.0 - fraction)))
    if split_at >= n:
        raise ValueError(f"fit: validation_split={fraction} of {n} samples leaves no "
                         "validation samples; use a larger fraction or pass validation_data")
    y_train, y_val = (None, None) if y is None else (y[:split_at], y[split_at:])
    return (x[:split_at], y_train), (x[split_at:], y_val)


class Checker:
    """Runs the pre-training checks against one model/loss, probing the model only once."""

    def __init__(self, model: Module, cfg: TrainConfig | None, device: str,
                 targets: bool) -> None:
        self.model, self.cfg, self.device, self.targets = model, cfg, device, targets
        self.out_shape: tuple[int, ...] | None = None

    def __call__(self, x: Any, y: Any, where: str) -> None:
        checks.check_lengths(x, y, where)
        checks.check_finite(x, "x", where)
        if y is None:
            return
        checks.check_finite(y, "y", where)
        if self.targets and self.cfg is not None and self.cfg.loss_kind is not None:
            if self.out_shape is None:
                out = checks.probe_output(self.model, x, self.device)
                self.out_shape = () if out is None else out.shape
            if self.out_shape:
                checks.check_targets(self.cfg, self.out_shape, y, where)

    def dataset(self, loader: DataLoader, where: str) -> None:
        """Check a loader's data when it is a TensorDataset of (x,) or (x, y)."""
        dataset = loader.dataset
        if not isinstance(dataset, TensorDataset):
            return
        arrays = dataset.arrays
        if len(arrays) in (1, 2):
            self(arrays[0], arrays[1] if len(arrays) == 2 else None, where)


def xy_arrays(x: Any, y: Any, where: str, need_y: bool) -> tuple:
    x = to_array(x, "x", where)
    y = None if y is None else to_array(y, "y", where)
    if y is None and need_y:
        raise ValueError(f"{where}: y is missing; pass targets y (or a DataLoader as x whose "
                         "batches are (x, y))")
    return x, y


def fit_loaders(checker: Checker, x: Any, y: Any, batch_size: int, validation_split: float,
                validation_data: Any, shuffle: bool, need_y: bool,
                seed: int | None = None) -> tuple:
    """(train loader, validation loader or None) for fit, checked before training; `seed`
    shuffles the training loader (a resumed fit's saved seed; None draws one)."""
    device = checker.device
    if validation_split and validation_data is not None:
        raise ValueError("fit: give validation_split or validation_data, not both")
    if is_loader(x):
        if y is not None:
            raise ValueError("fit: y must be None when x is a DataLoader or Dataset (its "
                             "batches hold the targets)")
        if validation_split:
            raise ValueError("fit: validation_split needs arrays; with a DataLoader pass "
                             "validation_data=")
        train = _loader(x, batch_size, shuffle, device, seed)
        checker.dataset(train, "fit")
        val = None
    else:
        x, y = xy_arrays(x, y, "fit", need_y)
        checker(x, y, "fit")
        val = None
        if validation_split:
            (x, y), val_xy = split_tail(x, y, validation_split)
            val = _loader(val_xy if val_xy[1] is not None else val_xy[:1], batch_size, False,
                          device)
        train = _loader((x,) if y is None else (x, y), batch_size, shuffle, device, seed)
    if validation_data is not None:
        val = eval_loader(checker, validation_data, None, batch_size, "validation_data",
                          unpack=True)
    return train, val


def eval_loader(checker: Checker, x: Any, y: Any, batch_size: int, where: str,
                unpack: bool = False) -> DataLoader:
    """A checked, unshuffled loader for evaluate / validation_data (`unpack`: x is (x, y))."""
    if unpack and not is_loader(x):
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError(f"{where} must be a pair (x_val, y_val) or a DataLoader, got "
                             f"{type(x).__name__}" + (f" of length {len(x)}" if isinstance(
                                 x, (tuple, list)) else ""))
        x, y = x
    if is_loader(x):
        if y is not None:
            raise ValueError(f"{where}: y must be None when x is a DataLoader or Dataset")
        loader = _loader(x, batch_size, False, checker.device)
        checker.dataset(loader, where)
        return loader
    x, y = xy_arrays(x, y, where, need_y=True)
    checker(x, y, where)
    return _loader((x, y), batch_size, False, checker.device)


def predict_loader(x: Any, batch_size: int, device: str) -> DataLoader:
    """An unshuffled loader over the inputs only."""
    if is_loader(x):
        return _loader(x, batch_size, False, device)
    x = to_array(x, "x", "predict")
    if len(x) == 0:
        raise ValueError("predict: x is empty (0 samples)")
    return _loader((x,), batch_size, False, device)
