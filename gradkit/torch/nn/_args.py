"""Arguments PyTorch code passes that gradkit spells otherwise: devices, dtypes, generators.

`torch.device("cuda:0")`, `"cuda"`, `torch.float32` (the dialect's dtype objects, NumPy dtypes,
or anything `np.dtype` takes) become gradkit's device strings and NumPy dtypes here, so every
module of the dialect reads them the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...tensor_base import TensorBase

__all__ = ["device_of", "dtype_of", "seed_of", "split_to_args"]


def device_of(device: Any) -> str | None:
    """gradkit's device name for a `torch.device`, a string or an int (a GPU index); None
    stays None (the default device)."""
    if device is None or isinstance(device, str):
        return device
    if isinstance(device, (int, np.integer)) and not isinstance(device, bool):
        return f"cuda:{int(device)}"
    kind, index = getattr(device, "type", None), getattr(device, "index", None)
    if isinstance(kind, str):
        return kind if index is None else f"{kind}:{index}"
    raise TypeError(f"expected a device ('cpu', 'cuda', 'cuda:0' or a torch.device), got "
                    f"{type(device).__name__}")


def dtype_of(dtype: Any) -> np.dtype | None:
    """The NumPy dtype of a dialect dtype (`torch.float32`), a NumPy dtype or a name; None
    stays None."""
    if dtype is None or isinstance(dtype, np.dtype):
        return dtype
    inner = getattr(dtype, "numpy_dtype", None)
    if inner is not None:
        return np.dtype(inner)
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"expected a dtype such as torch.float32, got {dtype!r}") from None


def seed_of(generator: Any, where: str) -> int | None:
    """The seed of a `torch.Generator`-like object (`initial_seed()`), an int, or None."""
    if generator is None:
        return None
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return int(generator)
    initial = getattr(generator, "initial_seed", None)
    if callable(initial):
        return int(initial())
    raise TypeError(f"{where}: generator must be a torch.Generator (with a seed) or None, got "
                    f"{type(generator).__name__}")


def split_to_args(args: tuple, kwargs: dict, where: str) -> tuple[str | None, np.dtype | None]:
    """(device, dtype) from PyTorch's `.to(...)` forms: `to(device)`, `to(dtype)`,
    `to(tensor)`, `to(device, dtype)` and the keywords `device=`, `dtype=`."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"{where}: unexpected keyword(s) {sorted(kwargs)}")
    for a in args:
        if isinstance(a, TensorBase):
            device, dtype = a.device, a.dtype
        elif a is None or isinstance(a, bool):
            continue
        elif isinstance(a, (str, int, np.integer)) or (hasattr(a, "type")
                                                        and hasattr(a, "index")):
            device = a
        else:
            dtype = a
    return device_of(device), dtype_of(dtype)
