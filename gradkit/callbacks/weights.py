"""`WeightHistory`: a callback that records how each layer's weights grow during `fit`.

    rec = gk.callbacks.WeightHistory()
    model.fit(x, y, epochs=10, callbacks=[rec])
    gk.viz.plot_weights(model, rec, "weights.png")
"""

from __future__ import annotations

from ..nn import Module
from ..viz.model import linear_weights
from .base import Callback, Logs


class WeightHistory(Callback):
    """A `fit` callback recording, for each Linear layer's weight, the largest |W| and the
    mean |W| before training and after every epoch (lesson 1's "watch the weights grow").

    `max_abs` / `mean_abs`: name -> list (index 0 = before training); `epochs` the matching
    epoch numbers (0 = before training, k = after epoch k).
    """

    def __init__(self) -> None:
        super().__init__()
        self.max_abs: dict[str, list[float]] = {}
        self.mean_abs: dict[str, list[float]] = {}
        self.epochs: list[int] = []

    def record(self, model: Module, epoch: int) -> None:
        """Add one row of statistics for `model` as it is now (also usable without fit)."""
        for name, p in linear_weights(model):
            a = abs(p._data)
            self.max_abs.setdefault(name, []).append(float(a.max()))
            self.mean_abs.setdefault(name, []).append(float(a.mean()))
        self.epochs.append(int(epoch))

    def on_train_begin(self, logs: Logs = None) -> None:
        if not self.epochs:
            self.record(self.model, self.params.get("initial_epoch", 0))

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        self.record(self.model, epoch + 1)

    def __repr__(self) -> str:
        return f"WeightHistory({len(self.max_abs)} layers, {len(self.epochs)} rows)"
