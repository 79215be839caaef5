"""`torch.amp` and `torch.autocast`: PyTorch's signatures over `gk.autocast` and
`gk.GradScaler` (docs/precision.md).

    with torch.autocast("cuda"):              # float16 on a GPU (PyTorch's default there)
        loss = loss_fn(model(x), y)
    scaler = torch.amp.GradScaler("cuda")
    scaler.scale(loss).backward(); scaler.step(opt); scaler.update()

As in PyTorch, `device_type="cuda"` without a usable GPU warns and leaves autocast (and a
"cuda" GradScaler) disabled. The CPU's default dtype is PyTorch's, bfloat16, which gradkit
cannot compute on the CPU (NumPy has none): pass `dtype=torch.float16` there.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..backend import cuda as _cuda
from ..backend.autocast import autocast as _Autocast
from ..optim.grad_scaler import GradScaler as _GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_available"]

_DEFAULT_DTYPE = {"cuda": "float16", "cpu": "bfloat16"}


def _kind(device: Any, who: str) -> str:
    kind = str(device).split(":")[0]
    if kind not in _DEFAULT_DTYPE:
        raise RuntimeError(f"{who}: device_type must be 'cpu' or 'cuda' in gradkit, got "
                           f"{str(device)!r}")
    return kind


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast can run on `device_type` ('cpu' always; 'cuda' with a GPU)."""
    kind = str(device_type).split(":")[0]
    return kind == "cpu" or (kind == "cuda" and _cuda.is_available())


class autocast(_Autocast):
    """`torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)`."""

    def __init__(self, device_type: Any, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        kind = _kind(device_type, "autocast")
        if enabled and kind == "cuda" and not _cuda.is_available():
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. "
                          "Disabling", UserWarning, stacklevel=2)
            enabled = False
        super().__init__(dtype=_DEFAULT_DTYPE[kind] if dtype is None else dtype,
                         enabled=enabled, device_type=kind)


class GradScaler(_GradScaler):
    """`torch.amp.GradScaler(device="cuda", init_scale=2.**16, growth_factor=2.0,
    backoff_factor=0.5, growth_interval=2000, enabled=True)`."""

    def __init__(self, device: Any = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        kind = _kind(device, "GradScaler")
        if enabled and kind == "cuda" and not _cuda.is_available():
            warnings.warn("torch.amp.GradScaler is enabled, but CUDA is not available. "
                          "Disabling.", UserWarning, stacklevel=2)
            enabled = False
        super().__init__(init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)
