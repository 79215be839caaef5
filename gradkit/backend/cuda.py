"""`gk.cuda`: is a CUDA GPU usable (through CuPy), which one is current, and waiting for it.

Nothing here imports CuPy until it is needed: on a machine without CuPy, `is_available()`
is False, `device_count()` is 0 and `synchronize()` does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..errors import DeviceError
from . import deferred
from .devices import cupy_module, gpu_count, is_cuda_available, parse_device


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return is_cuda_available()


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy)."""
    return gpu_count()


def _index(device: int | str | None) -> int:
    if device is None:
        return current_device()
    if isinstance(device, int) and not isinstance(device, bool):
        index = device
    else:
        kind, index = parse_device(device)
        if kind != "cuda":
            raise DeviceError(f"gk.cuda: {device!r} is not a CUDA device")
    if not 0 <= index < gpu_count():
        raise DeviceError(f"device 'cuda:{index}' does not exist on this machine "
                          f"(CuPy sees {gpu_count()} GPUs)")
    return index


def current_device() -> int:
    """The index of the current GPU (the one new GPU arrays and kernels go to)."""
    if not is_cuda_available():
        raise DeviceError("gk.cuda.current_device: no CUDA GPU is available")
    return int(cupy_module().cuda.runtime.getDevice())


def set_device(device: int | str | None) -> None:
    """Make GPU `device` (an index, 'cuda' or 'cuda:N') current for this thread.

    Work on tensors of 'cuda:N' for N > 0 must run while that GPU is current (CuPy launches
    kernels on the current GPU): call this once, or use `with gk.cuda.device(N):`.
    """
    cupy_module().cuda.Device(_index(device)).use()


@contextlib.contextmanager
def device(device: int | str | None) -> Iterator[None]:
    """Context manager: GPU `device` is current inside the block, the previous one after."""
    with cupy_module().cuda.Device(_index(device)):
        yield


def synchronize(device: int | str | None = None) -> None:
    """Wait until every kernel queued on the GPU has finished (a no-op without CUDA).

    Time GPU code with this before reading the clock: kernels run asynchronously.
    """
    if not is_cuda_available():
        return
    cupy_module().cuda.Device(_index(device)).synchronize()
    deferred.verify()  # the GPU's pending label/range checks (gradkit.deferred)


def memory_info(device: int | str | None = None) -> tuple[int, int]:
    """(free, total) bytes of GPU memory as the driver reports them."""
    cp = cupy_module()
    with cp.cuda.Device(_index(device)):
        free, total = cp.cuda.runtime.memGetInfo()
    return int(free), int(total)


def fits_in_memory(nbytes: int, device: int | str | None = None,
                   fraction: float = 0.25) -> bool:
    """True when `nbytes` is at most `fraction` of the GPU's free memory (False without one)."""
    if not is_cuda_available():
        return False
    try:
        free, _ = memory_info(device)
    except Exception:  # pragma: no cover - a driver that cannot report memory
        return False
    return nbytes <= fraction * free
