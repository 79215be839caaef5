"""`tf.config` (devices, eager switches) and `tf.device`.

gradkit places a tensor where it is made: `with tf.device("/GPU:0"):` makes the dialect's
creation functions (`tf.constant`, `tf.Variable`, `tf.zeros`, `tf.random.*`, and the
elements a Dataset yields) allocate on that GPU. Without a GPU it falls back to the CPU, as
TF's soft placement does. Ops then run where their inputs are.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from typing import Any, NamedTuple

from ..backend.devices import gpu_count
from .missing import missing_attribute
from .tensor import DEVICE

__all__ = ["PhysicalDevice", "device", "functions_run_eagerly", "list_logical_devices",
           "list_physical_devices", "run_functions_eagerly"]

_EAGER = [False]


class PhysicalDevice(NamedTuple):
    """A device as `tf.config.list_physical_devices` lists it."""

    name: str
    device_type: str


def list_physical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The CPU and each GPU gradkit can use (CuPy's), optionally of one type only."""
    found = [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    found += [PhysicalDevice(f"/physical_device:GPU:{i}", "GPU") for i in range(gpu_count())]
    return [d for d in found if device_type is None or d.device_type == device_type.upper()]


def list_logical_devices(device_type: str | None = None) -> list[PhysicalDevice]:
    """The same devices, with TF's logical names."""
    return [PhysicalDevice(d.name.replace("/physical_device:", "/device:"), d.device_type)
            for d in list_physical_devices(device_type)]


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Make `tf.function` call its Python function instead of the compiled one."""
    _EAGER[0] = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    """Whether `tf.function`s run eagerly (see `run_functions_eagerly`)."""
    return _EAGER[0]


def gradkit_device(name: Any) -> str:
    """A TF device name ('/GPU:0', 'GPU:1', '/device:CPU:0', 'cuda') as gradkit's."""
    text = str(getattr(name, "name", name) or "cpu").lower()
    kind = text.rsplit("/", 1)[-1].replace("device:", "")
    if "gpu" in kind or "cuda" in kind:
        index = kind.rsplit(":", 1)[-1] if ":" in kind else "0"
        index = index if index.isdigit() else "0"
        return f"cuda:{index}" if int(index) < gpu_count() else "cpu"
    return "cpu"


@contextlib.contextmanager
def device(device_name: Any) -> Iterator[None]:
    """Make the dialect's new tensors on `device_name` inside the block (soft placement:
    the CPU when that GPU is not there)."""
    token = DEVICE.set(gradkit_device(device_name))
    try:
        yield
    finally:
        DEVICE.reset(token)


def _set_memory_growth(device: Any, enable: bool) -> None:
    """A no-op: CuPy's memory pool grows as needed."""


def _get_memory_growth(device: Any) -> bool:
    return True


def _set_visible_devices(devices: Any, device_type: str | None = None) -> None:
    """A no-op kept for the lessons' setup cells: choose the GPU with tf.device or
    CUDA_VISIBLE_DEVICES."""


experimental = types.SimpleNamespace(set_memory_growth=_set_memory_growth,
                                     get_memory_growth=_get_memory_growth,
                                     list_physical_devices=list_physical_devices)
set_visible_devices = _set_visible_devices


def __getattr__(name: str) -> Any:
    raise missing_attribute("tf.config", name)
