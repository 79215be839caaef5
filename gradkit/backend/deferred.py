"""Checks of values on a GPU that would stall it if made at once, verified at the next read.

Refusing class labels outside [0, C) needs their values on the host, and reading a value from
a GPU waits for every queued kernel: once per batch, that wait is most of a small network's
step. So on a GPU an op counts the bad values with a kernel into a device scalar and
registers the count here with its error message; `verify()` fetches all pending counts in one
transfer and raises the first nonzero one's error. gradkit calls `verify()` wherever it reads
values back anyway (`Tensor.item()`, `.numpy()`, `.tolist()`, `gk.cuda.synchronize()`) and
after every `LIMIT` registrations, so a bad batch is reported within a few steps, at the
latest when its loss is read. (PyTorch's device-side asserts do the same, less helpfully.)
On the CPU the ops check at once and nothing is deferred.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .devices import cupy_module, xp_of

LIMIT = 32  # registrations before a verify: a bounded delay, one sync per LIMIT batches
_pending: list[tuple[Any, Callable[[int], Exception]]] = []  # (0-d device count, message)


def check_later(count: Any, error: Callable[[int], Exception]) -> None:
    """Raise `error(count)` at the next `verify()` if the device scalar `count` is nonzero."""
    _pending.append((count, error))
    if len(_pending) >= LIMIT:
        verify()


def pending() -> int:
    """How many checks wait for `verify()`."""
    return len(_pending)


def verify() -> None:
    """Read every pending count (one transfer per GPU) and raise the first failure's error."""
    if not _pending:
        return
    items = list(_pending)
    _pending.clear()
    by_device: dict[int | None, list] = {}  # device id (None: the host) -> [(count, error)]
    for count, error in items:
        key = None if xp_of(count) is np else count.device.id
        by_device.setdefault(key, []).append((count, error))
    for key, group in by_device.items():
        if key is None:
            counts = [int(c) for c, _ in group]
        else:
            cp = cupy_module()
            with cp.cuda.Device(key):
                counts = cp.stack([c.astype(cp.int64, copy=False) for c, _ in group]).get()
        for n, (_, error) in zip(counts, group):
            if n:
                raise error(int(n))


def clear() -> None:
    """Drop pending checks unread (after an error, say, when their batches are abandoned)."""
    _pending.clear()
