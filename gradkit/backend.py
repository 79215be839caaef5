"""The backend seam: which array namespace (NumPy or CuPy) holds a tensor's data.

Every op finds its namespace with `xp_of(array)`; no op calls `numpy.` directly where the
tensor's namespace is meant. CuPy is imported lazily, only when a CUDA device is used.
"""

from __future__ import annotations

import numpy as np

from .errors import DeviceError

DEFAULT_FLOAT = np.dtype(np.float32)
DEFAULT_INT = np.dtype(np.int64)

_cupy = None


def cupy_module():
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


def xp_of(array):
    """The array namespace (numpy or cupy) of `array`."""
    if isinstance(array, (np.ndarray, np.generic)):
        return np
    return cupy_module()


def is_cuda_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        cp = cupy_module()
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def parse_device(device) -> tuple[str, int]:
    """Normalise 'cpu', 'cuda', 'cuda:N' (or a ("cuda", N) pair) to (kind, index)."""
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


def device_name(array) -> str:
    """'cpu' for a NumPy array, 'cuda:N' for a CuPy array."""
    if isinstance(array, (np.ndarray, np.generic)):
        return "cpu"
    return f"cuda:{array.device.id}"


def namespace(device) -> object:
    """The array namespace for a device name."""
    kind, _ = parse_device(device)
    return np if kind == "cpu" else cupy_module()


def to_device(array, device):
    """Move `array` to `device` (no copy when it is already there)."""
    kind, index = parse_device(device)
    if kind == "cpu":
        if isinstance(array, np.ndarray):
            return array
        if isinstance(array, np.generic):
            return np.asarray(array)
        return cupy_module().asnumpy(array)
    cp = cupy_module()
    if index >= cp.cuda.runtime.getDeviceCount():
        raise DeviceError(f"device 'cuda:{index}' does not exist on this machine")
    with cp.cuda.Device(index):
        return cp.asarray(array)


def to_numpy(array) -> np.ndarray:
    """A NumPy array on the host (a copy when the data lives on a GPU)."""
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, np.generic):
        return np.asarray(array)
    return cupy_module().asnumpy(array)


def scatter_add(target, index, values) -> None:
    """target[index] += values, adding repeated indices (np.add.at / cupyx.scatter_add)."""
    xp = xp_of(target)
    if xp is np:
        np.add.at(target, index, values)
    else:  # pragma: no cover - needs a GPU
        import cupyx

        cupyx.scatter_add(target, index, values)
