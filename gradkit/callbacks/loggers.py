"""Loggers as callbacks: `CSVLogger` (one row per epoch) and `TensorBoard` (event files)."""

from __future__ import annotations

import csv
import os
from typing import TextIO

from .base import Callback, Logs


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row: `epoch` (from 0), then the log keys sorted.

    `append=True` adds to an existing file (no second header).
    """

    main_process_only = True  # writes files: rank 0 only in a distributed fit

    def __init__(self, path: str | os.PathLike[str], separator: str = ",",
                 append: bool = False) -> None:
        super().__init__()
        self.path, self.separator, self.append = os.fspath(path), separator, append
        self.keys: list[str] | None = None
        self._file: TextIO | None = None
        self._writer: csv.DictWriter[str] | None = None

    def on_train_begin(self, logs: Logs = None) -> None:
        has_rows = self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        self._file = open(self.path, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._header_done, self.keys = has_rows, None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        logs = logs or {}
        assert self._file is not None, "CSVLogger: on_train_begin opens the file"
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys],
                                          delimiter=self.separator, extrasaction="ignore")
            if not self._header_done:
                self._writer.writeheader()
        assert self._writer is not None
        row = {"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}}
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: Logs = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = self._writer = None


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("the TensorBoard callback needs tensorboardX: pip install "
                          "tensorboardX (or pip install 'gradkit[tensorboard]')") from None
    return SummaryWriter


class TensorBoard(Callback):
    """Scalars for TensorBoard, one point per epoch, laid out like Keras: training values in
    `log_dir/train`, validation values in `log_dir/validation`, each tagged "epoch_<name>"
    (so TensorBoard draws training and validation on the same chart).

    View with `tensorboard --logdir <log_dir>`. Needs tensorboardX.
    """

    main_process_only = True  # writes files: rank 0 only in a distributed fit

    def __init__(self, log_dir: str | os.PathLike[str] = "logs") -> None:
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self._writer_cls = _summary_writer()
        self._writers: dict = {}

    def _writer(self, split: str):
        if split not in self._writers:
            path = os.path.join(self.log_dir, split)
            self._writers[split] = self._writer_cls(logdir=path)
        return self._writers[split]

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        for key, value in (logs or {}).items():
            split = "validation" if key.startswith("val_") else "train"
            name = key.removeprefix("val_")
            self._writer(split).add_scalar(f"epoch_{name}", float(value), global_step=epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs: Logs = None) -> None:
        for w in self._writers.values():
            w.close()
        self._writers = {}
