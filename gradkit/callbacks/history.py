"""`History`: the per-epoch logs of `fit`, kept across resumed runs, and their curves."""

from __future__ import annotations

import os
from typing import Any

from ..viz.curves import plot_history
from .base import Callback, Logs


class History(Callback):
    """Records every epoch's logs: `history` (name -> list, incl. "lr"), `epoch` (the epoch
    numbers, from 0), `params` (fit's settings) and `overfit_epoch` (the epoch of the best
    validation loss when overfitting was detected, else None).

    `fit(..., initial_epoch=k)` continues the same lists from epoch k (entries from epoch k
    on are replaced), so a resumed run extends the history of the run it resumes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []
        self.overfit_epoch: int | None = None

    def on_train_begin(self, logs: Logs = None) -> None:
        start = self.params.get("initial_epoch", 0)
        keep = sum(1 for e in self.epoch if e < start)
        self.epoch = self.epoch[:keep]
        self.history = {k: v[:keep] for k, v in self.history.items()}
        if self.overfit_epoch is not None and self.overfit_epoch >= start:
            self.overfit_epoch = None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def plot(self, path: str | os.PathLike[str] | None = None) -> Any:
        """Training vs validation curves, one panel per quantity (loss, each metric).

        Needs matplotlib (`pip install matplotlib`); saves a PNG when `path` is given and
        returns the matplotlib Figure.
        """
        return plot_history(self, path)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"
