"""Zero-copy exchange with other array libraries through DLPack.

`Tensor.__dlpack__` / `__dlpack_device__` hand out the tensor's own NumPy or CuPy array,
so `np.from_dlpack(t)`, `torch.from_dlpack(t)`, `cupy.from_dlpack(t)` and
`jax.dlpack.from_dlpack(t)` share its memory; `from_dlpack(obj)` wraps another library's
array the same way.
"""

from __future__ import annotations

from typing import Any

from ..backend.devices import cupy_module
from ..tensor import Tensor

_CPU, _CUDA, _CUDA_HOST = 1, 2, 3  # DLDeviceType codes


def from_dlpack(obj: Any) -> Tensor:
    """A Tensor sharing memory with `obj` (anything with `__dlpack__`: a NumPy, CuPy,
    PyTorch or JAX array, or a gradkit Tensor). Mutating one shows in the other."""
    if isinstance(obj, Tensor):
        return Tensor._wrap(obj._data)
    if not hasattr(obj, "__dlpack__") or not hasattr(obj, "__dlpack_device__"):
        raise TypeError(f"from_dlpack: {type(obj).__name__} does not support DLPack "
                        "(it has no __dlpack__ / __dlpack_device__)")
    kind, _ = obj.__dlpack_device__()
    if kind in (_CPU, _CUDA_HOST):
        import numpy as np

        arr = np.from_dlpack(obj)
    elif kind == _CUDA:
        arr = cupy_module().from_dlpack(obj)
    else:
        raise TypeError(f"from_dlpack: {type(obj).__name__} lives on DLPack device type "
                        f"{kind}; gradkit takes CPU (1) and CUDA (2) arrays")
    return Tensor._wrap(arr)
