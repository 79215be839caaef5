"""Pictures: training curves, decision boundaries, computation graphs, trained classifiers.

    gk.viz.plot_history(history, "curves.png")
    gk.viz.plot_decision_boundary(model, x, y, "boundary.png")
    gk.viz.draw_graph(loss, "graph.svg")
    gk.viz.plot_weights(model, weight_history, "weights.png")
    gk.viz.plot_confusion_matrix(y_true, y_pred, path="confusion.png")
    gk.viz.plot_filters(cnn, "filters.png")
    gk.viz.plot_feature_maps(cnn, x_test[0], "feature_maps.png")

matplotlib is an optional extra (`pip install 'gradkit[viz]'`), imported when a picture is
drawn. `curves.py` (curves, boundaries and the shared figure helpers), `graph.py` (the
computation graph), `model.py` (weights, confusion matrix, mistakes), `conv.py` (a CNN's
filters and feature maps).
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from .conv import feature_maps, plot_feature_maps, plot_filters
from .curves import plot_decision_boundary, plot_history, require_matplotlib
from .graph import ComputationGraph, draw_graph
from .model import plot_confusion_matrix, plot_misclassified, plot_weights

__all__ = [
    "plot_history", "plot_decision_boundary", "ComputationGraph", "draw_graph",
    "plot_weights", "plot_confusion_matrix", "plot_misclassified", "require_matplotlib",
    "plot_filters", "plot_feature_maps", "feature_maps",
]


def __getattr__(name: str) -> Any:
    """`gk.viz.WeightHistory`: round one's name of `gk.callbacks.WeightHistory` (deprecated).

    The callback lives with the other callbacks, a layer above viz; this alias looks it up by
    name so that viz never imports the callbacks package."""
    if name == "WeightHistory":
        warnings.warn("gk.viz.WeightHistory moved to gk.callbacks.WeightHistory",
                      DeprecationWarning, stacklevel=2)
        return importlib.import_module("gradkit.callbacks").WeightHistory
    raise AttributeError(f"module 'gradkit.viz' has no attribute {name!r}")
