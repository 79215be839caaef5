"""Running epoch sums of the loss, the metrics and extra step outputs, kept on the device.

Nothing here reads a value back to the host until `result()` (once per epoch, or when a
callback reads batch logs), so a GPU never waits on the loop between batches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor


def _raw(value):
    return value._data if isinstance(value, Tensor) else value


class Running:
    """Batch-size-weighted running means of the loss, extras and metrics for one epoch."""

    __slots__ = ("metrics", "prefix", "loss_sum", "count", "extras", "metric_count")

    loss_sum: Any  # a device scalar (or a float) once a batch was added, else None
    extras: dict[str, Any] | None

    def __init__(self, metrics: list, prefix: str = "") -> None:
        self.metrics, self.prefix = metrics, prefix
        self.reset()

    def reset(self) -> None:
        self.loss_sum, self.count, self.metric_count, self.extras = None, 0, 0, None
        for m in self.metrics:
            m.reset()

    def update(self, loss: Any, n: int, y: Any = None, y_pred: Any = None,
               extras: dict | None = None) -> None:
        """Add one batch of `n` samples (loss is the batch's mean loss)."""
        d = _raw(loss)
        if self.loss_sum is None:
            self.loss_sum = d.astype(np.float64) * n if hasattr(d, "astype") else float(d) * n
        else:
            self.loss_sum = self.loss_sum + d * n
        self.count += n
        if y_pred is not None and y is not None and self.metrics:
            for m in self.metrics:
                m.update(y, y_pred)
            self.metric_count += n
        if extras:
            self._add_extras(extras, n)

    def _add_extras(self, extras: dict, n: int) -> None:
        sums = self.extras = self.extras if self.extras is not None else {}
        for key, value in extras.items():
            v = _raw(value) * n
            sums[key] = v if key not in sums else sums[key] + v

    def loss_mean(self) -> float:
        """The mean loss so far (one read from the device)."""
        return float(self.loss_sum) / self.count if self.count else float("nan")

    def result(self) -> dict[str, float]:
        """The epoch's means so far, as Python floats (reads the device once per value)."""
        p = self.prefix
        logs: dict[str, float] = {}
        if not self.count:
            return logs
        logs[p + "loss"] = self.loss_mean()
        if self.metric_count:
            for m in self.metrics:
                value = m.result()
                if np.ndim(value) == 0:
                    logs[p + m.name] = float(value)
        for key, total in (self.extras or {}).items():
            logs[p + key] = float(total) / self.count
        return logs


class BatchLogs(Mapping):
    """The logs handed to `on_batch_end`: `batch` and `size` at once; the running means
    ("loss", metrics) are read from the device only when a callback looks at them ("loss"
    alone reads only the loss)."""

    __slots__ = ("batch", "size", "_running", "_values")

    _values: dict[str, Any] | None

    def __init__(self, running: Running, batch: int, size: int) -> None:
        self.batch, self.size, self._running, self._values = batch, size, running, None

    def _all(self) -> dict:
        if self._values is None:
            self._values = {"batch": self.batch, "size": self.size, **self._running.result()}
        return self._values

    def __getitem__(self, key: str) -> Any:
        if key == "batch":
            return self.batch
        if key == "size":
            return self.size
        if key == "loss" and self._values is None and not self._running.prefix:
            return self._running.loss_mean()
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"BatchLogs({self._all()!r})"
