"""`torch.no_grad`, `enable_grad`, `set_grad_enabled`, `inference_mode`: gradkit's grad mode
(per thread and asyncio task) under PyTorch's names; each is a context manager and a
decorator."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..grad_mode import enable_grad, is_grad_enabled, no_grad

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]

_INFERENCE = [0]  # inference_mode blocks running (for is_inference_mode_enabled)


class set_grad_enabled:  # noqa: N801 - PyTorch's name
    """Turn recording on or off: at once when called (`torch.set_grad_enabled(False)`),
    and back when used as a `with` block that ends (or a decorator)."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._block = (enable_grad if self.mode else no_grad)()
        self._block.__enter__()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        self._block.__exit__(*exc)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        self._block.__exit__(None, None, None)  # as a decorator: only around the calls
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with (enable_grad if mode else no_grad)():
                return fn(*args, **kwargs)

        return wrapper


class inference_mode:  # noqa: N801 - PyTorch's name
    """`no_grad` (gradkit has one mode for both); `inference_mode(False)` records."""

    def __init__(self, mode: Any = True) -> None:
        self.mode = True if callable(mode) else bool(mode)

    def _block(self) -> Any:
        return no_grad() if self.mode else enable_grad()

    def __enter__(self) -> None:
        self._active = self._block()
        self._active.__enter__()
        _INFERENCE[0] += self.mode

    def __exit__(self, *exc: Any) -> None:
        _INFERENCE[0] -= self.mode
        self._active.__exit__(*exc)

    def __new__(cls, mode: Any = True) -> Any:
        self = super().__new__(cls)
        if callable(mode):  # used bare as a decorator: @torch.inference_mode
            self.mode = True
            return self(mode)
        return self

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper


def is_inference_mode_enabled() -> bool:
    """Whether an `inference_mode` block runs."""
    return _INFERENCE[0] > 0
