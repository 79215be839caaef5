"""The backend seam: which array namespace (NumPy or CuPy) holds a tensor's data.

Every op finds its namespace with `xp_of(array)`; no op calls `numpy.` directly where the
tensor's namespace is meant. CuPy is imported lazily, only when a CUDA device is used, so
`import gradkit` never needs it.
"""

from __future__ import annotations

import contextlib
from typing import Any, TypeAlias

import numpy as np

from ..errors import DeviceError

DEFAULT_FLOAT = np.dtype(np.float32)
DEFAULT_INT = np.dtype(np.int64)

#: A device: "cpu", "cuda", "cuda:N" (or a normalised ("cuda", N) pair); None is the CPU.
DeviceLike: TypeAlias = "str | tuple[str, int] | None"

_cupy = None
_gpu_count = None  # how many GPUs CuPy sees, asked once per process


def cupy_module() -> Any:
    """Import CuPy on first use, with a message naming the extra when it is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise DeviceError(
                "device 'cuda' needs CuPy: pip install 'gradkit[cuda]' (cupy-cuda13x)"
            ) from exc
        _cupy = cupy
    return _cupy


def is_gpu_array(array: Any) -> bool:
    """True for a CuPy array (or any array living in CUDA memory); never imports CuPy."""
    if isinstance(array, (np.ndarray, np.generic)):
        return False
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return True
    return hasattr(array, "__cuda_array_interface__")


def xp_of(array: Any) -> Any:
    """The array namespace (numpy or cupy) of `array`; numpy for host data and Python values."""
    if isinstance(array, (np.ndarray, np.generic)):
        return np
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    if hasattr(array, "__cuda_array_interface__"):
        return cupy_module()
    return np


def gpu_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy or without a driver); asked once per process."""
    global _gpu_count
    if _gpu_count is None:
        try:
            _gpu_count = int(cupy_module().cuda.runtime.getDeviceCount())
        except Exception:
            _gpu_count = 0
    return _gpu_count


def is_cuda_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return gpu_count() > 0


def parse_device(device: DeviceLike | object) -> tuple[str, int]:
    """Normalise 'cpu', 'cuda', 'cuda:N' (or a ("cuda", N) pair) to (kind, index).

    Anything else raises DeviceError (so any object may be passed in)."""
    if device is None:
        return ("cpu", 0)
    if isinstance(device, tuple):
        return device
    if not isinstance(device, str):
        raise DeviceError(f"device must be a string like 'cpu' or 'cuda:0', got {device!r}")
    name = device.strip().lower()
    if name == "cpu":
        return ("cpu", 0)
    if name == "cuda" or name == "gpu":
        return ("cuda", 0)
    if name.startswith("cuda:") and name[5:].isdigit():
        return ("cuda", int(name[5:]))
    raise DeviceError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'cuda:N'")


def device_name(array: Any) -> str:
    """'cpu' for a NumPy array (or host data), 'cuda:N' for a CuPy array."""
    if isinstance(array, (np.ndarray, np.generic)) or not is_gpu_array(array):
        return "cpu"
    return f"cuda:{array.device.id}"


def namespace(device: DeviceLike) -> Any:
    """The array namespace for a device name."""
    kind, _ = parse_device(device)
    return np if kind == "cpu" else cupy_module()


def _check_gpu(index: int) -> Any:
    """The CuPy module, after checking that GPU `index` exists (DeviceError if not)."""
    cp = cupy_module()
    count = gpu_count()
    if index >= count:
        raise DeviceError(
            f"device 'cuda:{index}' does not exist on this machine (CuPy sees {count} GPU"
            f"{'' if count == 1 else 's'})"
        )
    return cp


def device_scope(device: DeviceLike) -> contextlib.AbstractContextManager[Any]:
    """A context in which CuPy allocates on `device` (a null context for the CPU).

    Raises DeviceError for a GPU index that does not exist.
    """
    kind, index = parse_device(device)
    if kind == "cpu":
        return contextlib.nullcontext()
    return _check_gpu(index).cuda.Device(index)


def to_device(array: Any, device: DeviceLike) -> Any:
    """Move `array` to `device` (no copy when it is already there).

    Between GPUs the data is copied onto the target GPU (`cupy.asarray` alone would keep an
    array where it is).
    """
    kind, index = parse_device(device)
    if kind == "cpu":
        if isinstance(array, np.ndarray):
            return array
        if isinstance(array, np.generic):
            return np.asarray(array)
        if is_gpu_array(array):
            return cupy_module().asnumpy(array)
        return np.asarray(array)
    cp = _check_gpu(index)
    if isinstance(array, cp.ndarray):
        if array.device.id == index:
            return array
        with cp.cuda.Device(index):
            return array.copy()  # CuPy copies from another GPU onto the current one
    with cp.cuda.Device(index):
        return cp.asarray(array)


def to_numpy(array: Any) -> np.ndarray:
    """A NumPy array on the host (a copy when the data lives on a GPU)."""
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, np.generic) or not is_gpu_array(array):
        return np.asarray(array)
    return cupy_module().asnumpy(array)


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """target[index] += values, adding repeated indices (np.add.at / cupy.add.at)."""
    xp = xp_of(target)
    if xp is np:
        np.add.at(target, index, values)
        return
    at = getattr(xp.add, "at", None)  # pragma: no cover - needs a GPU
    if at is not None:  # CuPy >= 13 (cupyx.scatter_add is deprecated there)
        at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)
