"""`gk.cuda`: is a CUDA GPU usable (through CuPy)?"""

from __future__ import annotations

from .backend import cupy_module, is_cuda_available


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return is_cuda_available()


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy)."""
    if not is_cuda_available():
        return 0
    return int(cupy_module().cuda.runtime.getDeviceCount())
