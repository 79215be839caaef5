"""Pictures of a trained classifier (gradkit.viz): weights, confusion matrix, mistakes.

    rec = gk.callbacks.WeightHistory()                 # a callback: max |W| per layer per epoch
    model.fit(x, y, epochs=10, callbacks=[rec])
    gk.viz.plot_weights(model, rec, "weights.png")     # histograms + max |W| per epoch
    gk.viz.plot_confusion_matrix(y_test, model.predict(x_test), path="confusion.png")
    gk.viz.plot_misclassified(model, x_test, y_test, n=25, path="mistakes.png")

matplotlib is imported only when a function draws (pip install 'gradkit[viz]').
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import metrics
from ..nn import Flatten, Linear, Module, Parameter
from .curves import PathArg, _figure, _finish

if TYPE_CHECKING:  # matplotlib is an optional extra
    from matplotlib.figure import Figure

__all__ = ["plot_weights", "plot_confusion_matrix", "plot_misclassified"]


def _host(a) -> np.ndarray:
    if hasattr(a, "numpy"):
        return a.numpy()
    if hasattr(a, "get") and not isinstance(a, np.ndarray):
        return a.get()  # CuPy
    return np.asarray(a)


def linear_weights(model: Module) -> list[tuple[str, Parameter]]:
    """(name, Parameter) of every 2-D weight (Linear layers), in model order."""
    return [(n, p) for n, p in model.named_parameters() if n.endswith("weight") and p.ndim == 2]


def _per_epoch(history) -> tuple[list[int], dict[str, list[float]]]:
    """(epochs, name -> max |W| list) from a WeightHistory, a dict of lists, or the MNIST lab
    example's rows ([{"max_w": [...]}, ...])."""
    if hasattr(history, "max_abs") and hasattr(history, "epochs"):  # a WeightHistory
        return list(history.epochs), dict(history.max_abs)
    if isinstance(history, dict):
        series = {str(k): list(v) for k, v in history.items()}
        n = max((len(v) for v in series.values()), default=0)
        return list(range(n)), series
    rows = list(history) if isinstance(history, (list, tuple)) else []
    if rows and isinstance(rows[0], dict) and "max_w" in rows[0]:
        k = len(rows[0]["max_w"])
        return (list(range(1, len(rows) + 1)),
                {f"layer {i + 1}": [r["max_w"][i] for r in rows] for i in range(k)})
    raise TypeError("plot_weights: history must be a WeightHistory, a dict name -> list of "
                    f"max |W| values, or rows with 'max_w'; got {type(history).__name__}")


def plot_weights(model_or_history: Any, history: Any = None, path: PathArg | None = None,
                 bins: int = 60) -> Figure:
    """Weight pictures for the MNIST lab.

    plot_weights(model): a histogram of each Linear layer's weights.
    plot_weights(model, history): that, and the largest |W| of each layer per epoch.
    plot_weights(history): the per-epoch panel only. `history` is a `WeightHistory` (pass it
    to fit as a callback), or a dict layer -> list of max |W|. Saves a PNG with `path`;
    returns the Figure.
    """
    model = model_or_history if isinstance(model_or_history, Module) else None
    if model is None:
        history, model_or_history = model_or_history, None
    panels = (model is not None) + (history is not None)
    if panels == 0:
        raise ValueError("plot_weights: give a model, a weight history, or both")
    fig, axes = _figure(path, panels)
    axes = list(axes)
    if model is not None:
        ax = axes.pop(0)
        weights = linear_weights(model)
        if not weights:
            raise ValueError(f"plot_weights: {type(model).__name__} has no 2-D weights")
        values = [_host(p._data).ravel() for _, p in weights]
        lim = max(float(np.abs(v).max()) for v in values) or 1.0
        edges = np.linspace(-lim, lim, bins + 1)
        for (name, _), v in zip(weights, values):
            ax.hist(v, bins=edges, histtype="step", density=True, lw=1.4,
                    label=f"{name} ({v.size:,})")
        ax.set_yscale("log")
        ax.set_title("weight histograms")
        ax.set_xlabel("weight value")
        ax.set_ylabel("density (log)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if history is not None:
        ax = axes.pop(0)
        epochs, series = _per_epoch(history)
        for name, vals in series.items():
            xs = epochs[:len(vals)] if len(epochs) >= len(vals) else range(len(vals))
            ax.plot(xs, vals, marker="o", markersize=3, label=name)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title("largest |W| per layer")
        ax.set_xlabel("epoch")
        ax.set_ylabel("max |W|")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return _finish(fig, path)


def _labels(y) -> np.ndarray:
    y = _host(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    if y.ndim == 2:
        return (y.reshape(-1) > 0.5).astype(np.int64)
    return y.astype(np.int64)


def plot_confusion_matrix(y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None,
                          path: PathArg | None = None, normalize: bool = False,
                          title: str = "confusion matrix") -> Figure:
    """Counts of (true class, predicted class): rows true, columns predicted.

    y_pred may be labels or scores/probabilities (N, C) (argmax is taken). With
    `normalize`, each row is divided by its total (per-class recall on the diagonal).
    Saves a PNG with `path`; returns the Figure.
    """
    t, p = _labels(y_true), _labels(y_pred)
    n = int(max(t.max(initial=0), p.max(initial=0))) + 1
    if class_names is not None:
        n = max(n, len(class_names))
    cm = np.asarray(metrics.confusion_matrix(t, p, num_classes=n))
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    side = min(max(3.8, 0.5 * n + 1.5), 12)
    fig, (ax,) = _figure(path, 1, size=(side + 0.8, side))
    im = ax.imshow(shown, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), labels=names, rotation=45 if max(map(len, names)) > 2 else 0,
                  ha="right" if max(map(len, names)) > 2 else "center")
    ax.set_yticks(range(n), labels=names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(f"{title} (accuracy {accuracy:.4f})")
    if n <= 20:
        top = shown.max() or 1
        for i in range(n):
            for j in range(n):
                text = f"{shown[i, j]:.2f}" if normalize else str(int(cm[i, j]))
                ax.text(j, i, text, ha="center", va="center", fontsize=8 if n > 10 else 9,
                        color="white" if shown[i, j] > 0.6 * top else "black")
    return _finish(fig, path)


def _image_shape(x: np.ndarray, image_shape) -> tuple[int, ...]:
    if image_shape is not None:
        return tuple(image_shape)
    if x.ndim >= 3:
        return tuple(x.shape[1:])
    side = math.isqrt(x.shape[1])
    if side * side != x.shape[1]:
        raise ValueError(f"plot_misclassified: rows of {x.shape[1]} values are not square "
                         "images; pass image_shape=(H, W)")
    return side, side


def plot_misclassified(model: Module, x: Any, y: Any, n: int = 25, path: PathArg | None = None,
                       class_names: Sequence[str] | None = None,
                       image_shape: Sequence[int] | None = None,
                       batch_size: int = 1024) -> Figure:
    """A grid of the first `n` samples of (x, y) that `model` gets wrong, each titled
    'true → predicted (probability)'.

    x: images (N, H, W) or flattened rows (N, H*W) (square unless `image_shape` says);
    y: int labels. Saves a PNG with `path`; returns the Figure.
    """
    xs = _host(x)
    labels = _labels(y)
    shape = _image_shape(xs, image_shape)
    out = np.asarray(model.predict(xs.reshape(len(xs), -1) if xs.ndim > 2 and
                             _first_linear_flat(model) else xs, batch_size=batch_size))
    z = out - out.max(axis=1, keepdims=True)
    prob = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    pred = prob.argmax(axis=1)
    wrong = np.flatnonzero(pred != labels)[:n]
    names = list(class_names) if class_names is not None else None
    cols = max(1, min(len(wrong), math.ceil(math.sqrt(max(n, 1)))))
    rows = max(1, math.ceil(len(wrong) / cols))
    fig, (ax0,) = _figure(path, 1, size=(1.35 * cols + 0.3, 1.5 * rows + 0.5))
    ax0.axis("off")
    if len(wrong) == 0:
        ax0.text(0.5, 0.5, "no misclassified samples", ha="center", va="center")
        return _finish(fig, path)
    fig.suptitle(f"{len(wrong)} of {int((pred != labels).sum())} misclassified "
                 f"(out of {len(labels):,})", fontsize=10)
    grid = fig.add_gridspec(rows, cols)
    for k, i in enumerate(wrong):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        ax.imshow(xs[i].reshape(shape), cmap="gray")
        t, p = int(labels[i]), int(pred[i])
        tn, pn = (names[t], names[p]) if names else (str(t), str(p))
        ax.set_title(f"{tn} → {pn} ({prob[i, p]:.2f})", fontsize=8, color="#b00020")
        ax.set_xticks([])
        ax.set_yticks([])
    return _finish(fig, path)


def _first_linear_flat(model) -> bool:
    """True when the model starts with a Linear layer (it wants flattened rows)."""
    for m in model.modules():
        if isinstance(m, Flatten):
            return False
        if isinstance(m, Linear):
            return True
    return False
