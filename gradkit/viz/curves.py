"""Pictures of training: loss/metric curves and 2-D decision boundaries (matplotlib).

matplotlib is an optional extra (`pip install matplotlib` or `pip install 'gradkit[viz]'`),
imported only when a function here is called. With `path`, the figure is drawn off-screen
(Agg) and saved as a PNG without touching pyplot's state; without it, pyplot makes the figure
so that notebooks and `plt.show()` display it. Each function returns the Figure.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # matplotlib is an optional extra
    from matplotlib.figure import Figure

    from ..nn import Module

#: Where a picture is saved: a file name or path (PNG unless the function says otherwise).
PathArg = str | os.PathLike[str]


def require_matplotlib() -> ModuleType:
    """The matplotlib module, or an ImportError naming the extra that installs it."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib "
                          "(or pip install 'gradkit[viz]')") from None
    return matplotlib


def _figure(path, ncols: int, size=(4.5, 3.6)):
    """(fig, axes): an Agg figure when saving to `path`, a pyplot one otherwise."""
    require_matplotlib()
    figsize = (size[0] * ncols, size[1])
    if path is not None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, ncols, squeeze=False)[0]
    else:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, ncols, figsize=figsize, squeeze=False)
        axes = axes[0]
    return fig, axes


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100, format="png")
    return fig


def plot_history(history: Any, path: PathArg | None = None) -> Figure:
    """Training vs validation curves, one panel per quantity (loss first, then metrics).

    `history` is a `History` or its `.history` dict. The loss panel marks the epoch of the
    best validation loss when overfitting was detected (`history.overfit_epoch`).
    """
    logs = history.history if hasattr(history, "history") else dict(history)
    names = [k for k in logs if not k.startswith("val_") and k != "lr"]
    names += [k[4:] for k in logs if k.startswith("val_") and k[4:] not in logs]
    names.sort(key=lambda k: k != "loss")
    if not names:
        raise ValueError("plot_history: the history is empty (run fit first)")
    epochs = list(getattr(history, "epoch", []))
    fig, axes = _figure(path, len(names))
    for ax, name in zip(axes, names):
        for key, label in ((name, "training"), ("val_" + name, "validation")):
            if key in logs:
                values = logs[key]
                xs = [e + 1 for e in epochs] if len(epochs) == len(values) else range(
                    1, len(values) + 1)
                ax.plot(xs, values, marker="o", markersize=3, label=label)
        best = getattr(history, "overfit_epoch", None)
        if name == "loss" and best is not None:
            ax.axvline(best + 1, color="gray", linestyle="--",
                       label="best val_loss when overfitting was detected")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(_integer_ticks())  # no "epoch 2.5" on short runs
        ax.grid(alpha=0.3)
        ax.legend()
    return _finish(fig, path)


def _integer_ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _threshold(model) -> float:
    cfg = model.__dict__.get("_train_config")
    return 0.0 if cfg is not None and cfg.loss_name == "bce_with_logits" else 0.5


def plot_decision_boundary(model: Module, x: Any, y: Any, path: PathArg | None = None,
                           resolution: int = 200) -> Figure:
    """Colour the plane by the model's predicted class and scatter the 2-D points (x, y).

    Outputs (N, C) are classes by argmax; (N,) or (N, 1) scores are thresholded at 0.5
    (at 0 when the model was compiled with 'bce_with_logits'). y may be labels or one-hot.
    """
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float32)
    y = np.asarray(y.numpy() if hasattr(y, "numpy") else y)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: x must have shape (N, 2), got {x.shape}")
    labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-6)
    g0, g1 = (np.linspace(lo[i] - pad[i], hi[i] + pad[i], resolution) for i in range(2))
    xx, yy = np.meshgrid(g0, g1)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    out = np.asarray(model.predict(grid, batch_size=4096))
    if out.ndim == 2 and out.shape[1] > 1:
        zz = out.argmax(axis=1)
    else:
        zz = (out.reshape(-1) > _threshold(model)).astype(np.int64)
    fig, (ax,) = _figure(path, 1, size=(5.0, 4.5))
    ax.contourf(xx, yy, zz.reshape(xx.shape), alpha=0.3, cmap="coolwarm",
                levels=np.arange(max(zz.max(), labels.max()) + 2) - 0.5)
    ax.scatter(x[:, 0], x[:, 1], c=labels, cmap="coolwarm", edgecolors="k", s=20)
    ax.set_title("decision boundary")
    return _finish(fig, path)
