"""`ProgressBar`: fit's verbose output as a callback (Lightning's idea).

verbose=1 on a terminal: a bar per epoch (tqdm when installed, else a built-in one-line
renderer) showing the running loss/metrics and samples/s, refreshed a few times a second
(each refresh reads the running values from the device once). verbose=2, or any stream that
is not a terminal (CI logs, files, notebooks): one plain line per epoch, no carriage returns.
The epoch time includes validation; samples/s counts the training batches only.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Collection, Mapping
from typing import Any, TextIO

from .base import Callback, Logs


def format_logs(logs: Mapping[str, Any], skip: Collection[str] = ("batch", "size", "lr")) -> str:
    """'loss: 0.1234 - accuracy: 0.9612 - ...' (floats to 4 decimals)."""
    parts = []
    for key, value in logs.items():
        if key not in skip:
            parts.append(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}")
    return " - ".join(parts)


def _tqdm():
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class _LineBar:
    """A minimal single-line bar for terminals without tqdm."""

    def __init__(self, total: int, desc: str, stream: TextIO) -> None:
        self.total, self.desc, self.stream, self.n, self.postfix = total, desc, stream, 0, ""

    def update(self, k: int) -> None:
        self.n += k

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text
        if refresh:
            self.refresh()

    def refresh(self) -> None:
        width = 24
        done = int(width * self.n / self.total) if self.total else width
        bar = "=" * done + ">" * (done < width) + "." * max(width - done - 1, 0)
        self.stream.write(f"\r{self.desc} [{bar}] {self.n}/{self.total} - {self.postfix}\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        self.refresh()
        self.stream.write("\n")
        self.stream.flush()


class ProgressBar(Callback):
    """Per-epoch progress of fit (see the module docstring). `stream` defaults to stdout;
    `refresh` is the minimum time between bar updates in seconds."""

    main_process_only = True  # prints: rank 0 only in a distributed fit

    def __init__(self, verbose: int = 1, stream: TextIO | None = None,
                 refresh: float = 0.25) -> None:
        super().__init__()
        self.verbose, self.stream, self.refresh = verbose, stream, refresh
        self._bar: Any = None  # a tqdm bar or a _LineBar
        self._t0: float | None = None
        self._train_s: float | None = None

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def on_train_begin(self, logs: Logs = None) -> None:
        out = self._out()
        tty = bool(getattr(out, "isatty", lambda: False)())
        self.bar_mode = self.verbose == 1 and tty and bool(self.params.get("steps"))
        self.batch_hooks = self.bar_mode

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self._t0 = self._last = time.perf_counter()
        self._seen, self._pending, self._train_s = 0, 0, None
        if self.bar_mode:
            desc = f"Epoch {epoch + 1}/{self.params.get('epochs')}"
            tqdm = _tqdm()
            steps = self.params["steps"]  # bar_mode: fit knows the number of steps
            self._bar = (tqdm(total=steps, desc=desc, unit="batch", file=self._out(),
                              leave=True, dynamic_ncols=True, mininterval=self.refresh)
                         if tqdm is not None else _LineBar(steps, desc, self._out()))

    def on_batch_end(self, batch: int, logs: Logs = None) -> None:
        assert logs is not None  # fit passes each batch's logs
        self._seen += logs["size"]
        self._pending += 1
        now = time.perf_counter()
        assert self._t0 is not None  # set by on_epoch_begin
        if now - self._last >= self.refresh:
            self._last = now
            self._bar.update(self._pending)
            self._pending = 0
            rate = self._seen / max(now - self._t0, 1e-9)
            self._bar.set_postfix_str(f"{format_logs(logs)} - {rate:,.0f} samples/s")

    def on_test_begin(self, logs: Logs = None) -> None:
        if self._t0 is not None and self._train_s is None:  # validation inside an epoch
            self._train_s = time.perf_counter() - self._t0

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        assert self._t0 is not None  # set by on_epoch_begin
        elapsed = time.perf_counter() - self._t0
        train_s = elapsed if self._train_s is None else self._train_s
        samples = self._seen if self.bar_mode else self.params.get("samples") or 0
        rate = f"{samples / max(train_s, 1e-9):,.0f} samples/s"
        text = format_logs(logs or {})
        if self._bar is not None:
            self._bar.update(self._pending)
            self._bar.set_postfix_str(f"{rate} - {text}", refresh=False)
            self._bar.close()
            self._bar = None
            return
        out = self._out()
        out.write(f"Epoch {epoch + 1}/{self.params.get('epochs')} - {elapsed:.1f}s - "
                  f"{rate} - {text}\n")
        out.flush()

    def on_train_end(self, logs: Logs = None) -> None:
        if self._bar is not None:  # stopped inside an epoch
            self._bar.close()
            self._bar = None
        self._t0 = None
