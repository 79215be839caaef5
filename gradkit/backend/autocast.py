"""Autocast state: the low precision that matrix products and convolutions run in, per thread
and asyncio task (`gk.autocast`, as `torch.autocast`). The ops read it (`ops/autocast.py`).

    with gk.autocast(dtype="float16"):     # or "bfloat16" (a GPU); also a decorator
        loss = gk.nn.functional.cross_entropy(model(x), y)

Inside a block, `linear`, `matmul` (`@`) and the convolutions cast their floating inputs to
the block's dtype with the differentiable `astype` (float32 parameters get float32 gradients:
the master weights stay float32); softmax, log_softmax and the fused losses cast a low
precision input back up to float32. Blocks nest (the innermost wins; `enabled=False` turns
autocast off inside), threads start outside every block, and an asyncio task follows the
block it was created in. `no_grad` is independent: casts are then recorded by no graph.

On the CPU float16 is computed for real (NumPy's float16: slow, for testing the numerics);
NumPy has no bfloat16 arithmetic, so a bfloat16 cast of a CPU tensor raises a DTypeError
naming the dtype and the device (`device_type="cpu"` with bfloat16 raises at the block).
"""

from __future__ import annotations

import contextvars
import functools
from typing import Any

import numpy as np

from ..errors import DTypeError

DTYPES = ("float16", "bfloat16")
DEVICE_TYPES = ("cpu", "cuda")
# the innermost running block's (dtype name, device type or None); None: autocast off
_STATE: contextvars.ContextVar[tuple[str, str | None] | None] = contextvars.ContextVar(
    "gradkit_autocast", default=None)

state = _STATE.get  # what the ops call: None outside every (enabled) block


def _dtype_name(dtype: Any) -> str:
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", None)
    if name is None:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = repr(dtype)
    name = {"half": "float16", "bf16": "bfloat16", "fp16": "float16"}.get(name, name)
    if name not in DTYPES:
        hint = (f" ({dtype!r} is a device: pass device_type={dtype!r}, e.g. "
                f"gk.autocast(dtype='float16', device_type={dtype!r}))"
                if dtype in DEVICE_TYPES else "")
        raise ValueError(f"autocast: dtype must be one of {DTYPES}, got {dtype!r}{hint}")
    return name


class autocast:
    """Run matrix products and convolutions in `dtype` ("float16" or "bfloat16"), reductions
    and losses in float32, inside a `with` block or a decorated function (torch.autocast).

    `enabled=False`: autocast is off inside (also inside an enclosing block). `device_type`
    ("cpu", "cuda" or None: every device) limits the casts to tensors on that kind of device.
    Per thread and asyncio task, like `no_grad`. On the CPU float16 is NumPy's float16 (real
    and slow); bfloat16 needs a GPU (NumPy has no bfloat16): a CPU tensor cast to it raises
    a DTypeError.
    """

    def __init__(self, dtype: Any = "float16", enabled: bool = True,
                 device_type: str | None = None) -> None:
        if not isinstance(enabled, bool):
            raise TypeError(f"autocast: enabled must be True or False, got {enabled!r}")
        if device_type is not None and device_type not in DEVICE_TYPES:
            raise ValueError(f"autocast: device_type must be one of {DEVICE_TYPES} or None, "
                             f"got {device_type!r}")
        self.dtype = _dtype_name(dtype)
        self.enabled = enabled
        self.device_type = device_type
        if enabled and device_type == "cpu" and self.dtype == "bfloat16":
            raise DTypeError(bfloat16_error("cpu"))

    def __repr__(self) -> str:
        return (f"autocast(dtype={self.dtype!r}, enabled={self.enabled}, "
                f"device_type={self.device_type!r})")

    def __enter__(self) -> autocast:
        value = (self.dtype, self.device_type) if self.enabled else None
        self._tokens = getattr(self, "_tokens", [])
        self._tokens.append(_STATE.set(value))
        return self

    def __exit__(self, *exc: Any) -> None:
        _STATE.reset(self._tokens.pop())

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with autocast(self.dtype, self.enabled, self.device_type):  # fresh per call
                return fn(*args, **kwargs)

        return wrapper


def is_autocast_enabled() -> bool:
    """Whether an enabled autocast block runs now, in this thread or asyncio task."""
    return _STATE.get() is not None


def get_autocast_dtype() -> str | None:
    """The innermost enabled block's dtype name ("float16" / "bfloat16"), or None."""
    s = _STATE.get()
    return None if s is None else s[0]


def bfloat16_error(device: str) -> str:
    return (f"autocast: dtype 'bfloat16' is not available on device '{device}': NumPy has no "
            "bfloat16 arithmetic; use dtype='float16' (precision='16-mixed') on the CPU, or "
            "bfloat16 on a GPU ('cuda')")


def low_dtype(name: str, on_cpu: bool, device: str) -> Any:
    """The array dtype for `name` on a device (bfloat16: a GPU only, through ml_dtypes)."""
    if name == "float16":
        return np.dtype(np.float16)
    if on_cpu:
        raise DTypeError(bfloat16_error(device))
    try:
        import ml_dtypes  # optional: CuPy takes bfloat16 arrays through it
    except ImportError:
        raise DTypeError(f"autocast: dtype 'bfloat16' on '{device}' needs the ml_dtypes "
                         "package (pip install ml_dtypes)") from None
    return np.dtype(ml_dtypes.bfloat16)
