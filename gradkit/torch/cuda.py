"""`torch.cuda`: is a GPU usable (through CuPy), how many, which one, waiting for it and
seeding it; over `gk.cuda` (no CuPy import until one is needed)."""

from __future__ import annotations

from typing import Any

from ..backend import cuda as _cuda
from ..backend.devices import cupy_module
from .random import manual_seed as _manual_seed

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize",
           "manual_seed", "manual_seed_all", "get_device_name", "empty_cache",
           "memory_allocated", "is_initialized", "device"]

device = _cuda.device


def is_available() -> bool:
    """True only when CuPy is installed and sees a GPU."""
    return _cuda.is_available()


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy)."""
    return _cuda.device_count()


def is_initialized() -> bool:
    """Whether a GPU is usable (gradkit initialises CuPy on first use)."""
    return _cuda.is_available()


def current_device() -> int:
    """The index of the current GPU."""
    return _cuda.current_device()


def set_device(d: Any) -> None:
    """Make GPU `d` (an index, 'cuda:N' or a torch.device) current."""
    _cuda.set_device(d if isinstance(d, int) else str(d))


def synchronize(d: Any = None) -> None:
    """Wait until the GPU has finished its queued work (nothing to do without one)."""
    _cuda.synchronize(d if d is None or isinstance(d, int) else str(d))


def manual_seed(seed: int) -> None:
    """Seed gradkit's generators (the GPUs' included)."""
    _manual_seed(seed)


manual_seed_all = manual_seed


def get_device_name(d: Any = None) -> str:
    """The GPU's name, as CUDA reports it."""
    index = _cuda.current_device() if d is None else (d if isinstance(d, int) else
                                                       int(str(d).partition(":")[2] or 0))
    name = cupy_module().cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def empty_cache() -> None:
    """Give CuPy's cached GPU memory back (nothing to do without a GPU)."""
    if _cuda.is_available():
        cupy_module().get_default_memory_pool().free_all_blocks()


def memory_allocated(d: Any = None) -> int:
    """Bytes of GPU memory held by CuPy's pool (0 without a GPU)."""
    if not _cuda.is_available():
        return 0
    return int(cupy_module().get_default_memory_pool().used_bytes())
