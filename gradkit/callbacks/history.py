"""`History`: the per-epoch logs of `fit`, kept across resumed runs, and their curves.

In Jupyter a `History` shows as a small table (the last epoch and each quantity's best), and
`plot()` shows its figure once, whether or not the figure is the cell's value.
"""

from __future__ import annotations

import html
import math
import numbers
import os
import sys
from typing import Any

from ..viz.curves import plot_history
from .base import Callback, Logs

#: Names (after "val_") whose best value is the highest, as MonitorCallback's mode="auto".
_MAX_NAMES = ("acc", "auc", "f1", "precision", "recall", "r2")


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
        returns the matplotlib Figure. In Jupyter the figure shows once (see `show_once`).
        """
        fig = plot_history(self, path)
        if path is None:
            show_once(fig)
        return fig

    def best(self, key: str) -> tuple[int, Any] | None:
        """(epoch, value) of the best value logged under `key` (the highest for names
        with acc/auc/f1/precision/recall/r2 as EarlyStopping's mode="auto" decides, else the
        lowest), or None when nothing numeric was logged."""
        values = [(v, i) for i, v in enumerate(self.history.get(key, []))
                  if isinstance(v, numbers.Real) and not math.isnan(v)]
        if not values:
            return None
        pick = max if any(k in key.removeprefix("val_").lower() for k in _MAX_NAMES) else min
        value, i = pick(values, key=lambda vi: vi[0])
        return (self.epoch[i] if i < len(self.epoch) else i), value

    def _repr_html_(self) -> str:
        """The table Jupyter shows: each quantity's last value and best value (with its
        epoch, counted from 1 as fit prints them)."""
        if not self.epoch:
            return "<p><b>History</b>: no epochs yet</p>"
        keys = list(self.history)
        bests = {k: None if k == "lr" else self.best(k) for k in keys}
        cells = [[f"last (epoch {self.epoch[-1] + 1})"]
                 + [_cell(v[-1], k) if v else "" for k, v in self.history.items()],
                 ["best"] + [_cell(b[1]) if b else "" for b in bests.values()],
                 ["at epoch"] + [str(b[0] + 1) if b else "" for b in bests.values()]]
        head = "".join(f"<th>{html.escape(k)}</th>" for k in ["", *keys])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in cells)
        note = ""
        if self.overfit_epoch is not None:
            note = (f"<p>overfitting detected: val_loss was lowest at epoch "
                    f"{self.overfit_epoch + 1}</p>")
        return (f"<div><p><b>History</b>: {len(self.epoch)} epochs</p><table>"
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}</div>")

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


def _cell(value: Any, key: str = "") -> str:
    """A value as fit prints it (4 decimals; the lr to 4 significant digits)."""
    if not isinstance(value, numbers.Real) or isinstance(value, numbers.Integral):
        return str(value)
    return f"{value:.4g}" if key == "lr" else f"{value:.4f}"


def show_once(fig: Any) -> None:
    """Have Jupyter show `fig` once. Its inline backend shows each pyplot figure at
    `plt.show()` or when the cell ends, and a figure that is the cell's value shows too.
    Whichever comes first shows it (so `plot(); plt.show()` keeps its order among other
    figures) and takes it out of pyplot, so the other does not show it again. Outside
    Jupyter's inline backend this does nothing: `plt.show()` shows the figure as usual."""
    plt = sys.modules.get("matplotlib.pyplot")
    ipython = sys.modules.get("IPython")
    if plt is None or ipython is None or "inline" not in str(plt.get_backend()).lower():
        return
    if ipython.get_ipython() is None:
        return

    def display_now() -> None:  # IPython's display protocol: the object shows itself
        plt.close(fig)  # pyplot no longer shows it at plt.show() or the cell's end
        del fig._ipython_display_  # IPython's usual figure display from now on
        from IPython.display import display

        display(fig)

    fig._ipython_display_ = display_now
