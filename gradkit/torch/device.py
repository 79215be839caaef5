"""`torch.device`: a device name that prints as PyTorch's and is gradkit's device string.

`torch.device("cuda:0")` is the string 'cuda:0' (so every gradkit function takes it) with
PyTorch's `type`, `index` and repr (`device(type='cuda', index=0)`). Used as a context
manager (or through `set_default_device`) it is where creation functions put new tensors.
"""

from __future__ import annotations

import contextvars
from typing import Any

from ..backend.devices import parse_device

__all__ = ["device", "get_default_device", "set_default_device", "resolve"]

_DEFAULT: contextvars.ContextVar[str] = contextvars.ContextVar("gradkit_torch_device",
                                                              default="cpu")


class device(str):  # noqa: N801 - PyTorch's name
    """A PyTorch device: 'cpu', 'cuda' or 'cuda:N' (a str with `type` and `index`)."""

    type: str
    index: int | None  # type: ignore[assignment]

    def __new__(cls, type: Any, index: int | None = None) -> device:  # noqa: A002
        if isinstance(type, device) and index is None:
            return type
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"torch.device: expected a string like 'cpu' or 'cuda:0', "
                            f"got {type!r}")
        kind, _, number = type.strip().lower().partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"torch.device: gradkit has the devices 'cpu' and 'cuda' "
                               f"(CuPy), not {type!r}")
        if number:
            if index is not None or not number.isdigit():
                raise RuntimeError(f"torch.device: invalid device string {type!r}")
            index = int(number)
        if kind == "cpu" and index not in (None, 0):
            raise RuntimeError(f"torch.device: the CPU has no index {index}")
        text = kind if index is None or kind == "cpu" else f"{kind}:{index}"
        self = str.__new__(cls, text)
        self.type, self.index = kind, (None if kind == "cpu" else index)
        return self

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (device, (str(self),))

    def __enter__(self) -> device:
        self._token = _DEFAULT.set(str(self))
        return self

    def __exit__(self, *exc: Any) -> None:
        _DEFAULT.reset(self._token)


def get_default_device() -> device:
    """Where creation functions put tensors when no `device=` is given."""
    return device(_DEFAULT.get())


def set_default_device(d: Any) -> None:
    """Make `d` the default device of creation functions (None: the CPU)."""
    _DEFAULT.set("cpu" if d is None else str(device(d)))


def resolve(d: Any) -> str:
    """gradkit's device string for a `device=` argument (None: the default device)."""
    if d is None:
        return _DEFAULT.get()
    if isinstance(d, device):
        return str(d)
    if isinstance(d, int) and not isinstance(d, bool):
        return f"cuda:{d}"
    kind, index = parse_device(str(d) if isinstance(d, str) else d)
    return "cpu" if kind == "cpu" else f"cuda:{index}"


def of_name(name: str) -> device:
    """The `torch.device` of a gradkit device name ('cpu', 'cuda:0')."""
    found = _CACHE.get(name)
    if found is None:
        found = _CACHE[name] = device(name)
    return found


_CACHE: dict[str, device] = {}
