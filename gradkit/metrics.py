"""Metrics: functions for one-off use and stateful classes that `fit` accumulates.

Each metric takes `(y_true, y_pred)` as NumPy/CuPy arrays or Tensors. `y_pred` may be class
scores (N, C) (argmax is taken), binary scores (N,) or (N, 1) (thresholded), or labels.
The classes keep running sums on the data's device, so `fit` never waits on the GPU per
batch; `result()` reads them once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .backend.devices import to_numpy, xp_of
from .tensor import Tensor


def _raw(a):
    return a._data if isinstance(a, Tensor) else a if hasattr(a, "shape") else np.asarray(a)


def _check_rows(y_true: Any, y_pred: Any, name: str) -> None:
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(f"{name}: {y_pred.shape[0]} predictions for {y_true.shape[0]} targets")


def predicted_labels(y_pred: Any, threshold: float = 0.5) -> Any:
    """Class labels from scores: argmax over classes, or `> threshold` for binary scores."""
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        return y_pred.argmax(axis=1)
    flat = y_pred.reshape(-1)
    if flat.dtype.kind in "iub":
        return flat.astype(np.int64)
    return (flat > threshold).astype(np.int64)


class Metric:
    """A metric accumulated over batches: `update`, then `result`, then `reset`."""

    name = "metric"

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._total = 0.0
        self._count = 0

    def update(self, y_true: Any, y_pred: Any) -> None:
        y_true, y_pred = _raw(y_true), _raw(y_pred)
        _check_rows(y_true, y_pred, self.name)
        self._total = self._total + self._batch_sum(y_true, y_pred)
        self._count += y_true.shape[0]

    def _batch_sum(self, y_true: Any, y_pred: Any):
        raise NotImplementedError

    def result(self) -> Any:
        """The value so far: a float (an array for per-class results)."""
        return float(self._total / self._count) if self._count else float("nan")

    def __call__(self, y_true: Any, y_pred: Any) -> Any:
        self.reset()
        self.update(y_true, y_pred)
        out = self.result()
        self.reset()
        return out


class Accuracy(Metric):
    """Fraction of correct class predictions (argmax for (N, C) scores)."""

    name = "accuracy"

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        super().__init__()

    def _batch_sum(self, y_true: Any, y_pred: Any):
        labels = predicted_labels(y_pred, self.threshold)
        if y_true.ndim == 2 and y_true.shape[1] > 1:  # one-hot or probability targets
            y_true = y_true.argmax(axis=1)
        return (labels == y_true.reshape(-1).astype(labels.dtype)).sum()


class TopKAccuracy(Metric):
    """Fraction of rows whose true class is among the k highest scores."""

    name = "top_k_accuracy"

    def __init__(self, k: int = 5) -> None:
        self.k = k
        super().__init__()

    def _batch_sum(self, y_true: Any, y_pred: Any):
        if y_pred.ndim != 2:
            raise ValueError(f"top_k_accuracy: needs (N, C) scores, got shape {y_pred.shape}")
        xp = xp_of(y_pred)
        k = min(self.k, y_pred.shape[1])
        top = xp.argpartition(-y_pred, k - 1, axis=1)[:, :k]
        return (top == y_true.reshape(-1, 1)).any(axis=1).sum()


class MeanAbsoluteError(Metric):
    name = "mae"

    def _batch_sum(self, y_true: Any, y_pred: Any):
        _same_shape(y_true, y_pred, self.name)
        d = xp_of(y_pred).abs(y_pred - y_true)
        return d.reshape(d.shape[0], -1).mean(axis=1).sum()


class MeanSquaredError(Metric):
    name = "mse"

    def _batch_sum(self, y_true: Any, y_pred: Any):
        _same_shape(y_true, y_pred, self.name)
        d = (y_pred - y_true) ** 2
        return d.reshape(d.shape[0], -1).mean(axis=1).sum()


def _same_shape(y_true: Any, y_pred: Any, name):
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{name}: prediction shape {y_pred.shape} != target shape "
                         f"{y_true.shape} (reshape one of them; nothing is broadcast)")


class R2Score(Metric):
    """Coefficient of determination, 1 - SS_res / SS_tot (over all outputs)."""

    name = "r2"

    def reset(self) -> None:
        self._sums = None
        self._count = 0

    def update(self, y_true: Any, y_pred: Any) -> None:
        y_true, y_pred = _raw(y_true), _raw(y_pred)
        _same_shape(y_true, y_pred, self.name)
        xp = xp_of(y_pred)
        batch = xp.stack([((y_true - y_pred) ** 2).sum(), y_true.sum(), (y_true**2).sum()])
        self._sums = batch if self._sums is None else self._sums + batch
        self._count += y_true.size

    def result(self) -> float:
        if not self._count:
            return float("nan")
        ss_res, s, s2 = (float(v) for v in to_numpy(self._sums))
        ss_tot = s2 - s * s / self._count
        return 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


class ConfusionMatrix(Metric):
    """Counts (true class, predicted class); rows are true classes."""

    name = "confusion_matrix"

    def __init__(self, num_classes: int | None = None, threshold: float = 0.5) -> None:
        self.num_classes, self.threshold = num_classes, threshold
        super().__init__()

    def reset(self) -> None:
        self._pairs: list[tuple] = []

    def update(self, y_true: Any, y_pred: Any) -> None:
        y_true, y_pred = _raw(y_true), _raw(y_pred)
        _check_rows(y_true, y_pred, self.name)
        labels = predicted_labels(y_pred, self.threshold)
        self._pairs.append((y_true.reshape(-1), labels, y_pred))

    def matrix(self) -> np.ndarray:
        if not self._pairs:
            return np.zeros((self.num_classes or 0,) * 2, dtype=np.int64)
        t = np.concatenate([to_numpy(a).astype(np.int64) for a, _, _ in self._pairs])
        p = np.concatenate([to_numpy(b) for _, b, _ in self._pairs])
        n = self.num_classes
        if n is None:
            scores = self._pairs[0][2]
            n = scores.shape[1] if scores.ndim == 2 and scores.shape[1] > 1 else 2
            n = max(n, int(t.max()) + 1, int(p.max()) + 1)
        if t.size and (t.min() < 0 or t.max() >= n):
            raise ValueError(f"confusion_matrix: labels must lie in [0, {n}), "
                             f"got {t.min()}..{t.max()}")
        return np.bincount(t * n + p, minlength=n * n).reshape(n, n)

    def result(self) -> np.ndarray:
        return self.matrix()


class _FromConfusion(ConfusionMatrix):
    """Precision/recall/F1 from the accumulated confusion matrix."""

    def __init__(self, average: str | None = "macro", num_classes: int | None = None,
                 threshold: float = 0.5) -> None:
        if average not in ("macro", "micro", "weighted", "binary", None):
            raise ValueError(f"{self.name}: average must be 'macro', 'micro', 'weighted', "
                             f"'binary' or None, got {average!r}")
        self.average = average
        super().__init__(num_classes, threshold)

    def result(self):
        cm = self.matrix().astype(np.float64)
        tp = np.diag(cm)
        pred, true = cm.sum(axis=0), cm.sum(axis=1)
        if self.average == "micro":
            tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)
        per_class = self._score(tp, pred, true)
        if self.average == "binary":
            return float(per_class[-1])
        if self.average is None:
            return per_class
        if self.average == "weighted":
            return float((per_class * true).sum() / max(true.sum(), 1))
        return float(per_class.mean())

    @staticmethod
    def _ratio(a, b):
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


class Precision(_FromConfusion):
    name = "precision"

    def _score(self, tp, pred, true):
        return self._ratio(tp, pred)


class Recall(_FromConfusion):
    name = "recall"

    def _score(self, tp, pred, true):
        return self._ratio(tp, true)


class F1Score(_FromConfusion):
    name = "f1"

    def _score(self, tp, pred, true):
        p, r = self._ratio(tp, pred), self._ratio(tp, true)
        return self._ratio(2 * p * r, p + r)


def accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> float:
    """Fraction of correct predictions."""
    return Accuracy(threshold)(y_true, y_pred)


def top_k_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> float:
    """Fraction of rows whose true class is among the top-k scores."""
    return TopKAccuracy(k)(y_true, y_pred)


def precision(y_true: Any, y_pred: Any, average: str | None = "macro",
              num_classes: int | None = None) -> float | np.ndarray:
    """Precision, averaged over classes ('macro', 'micro', 'weighted', 'binary' or None)."""
    return Precision(average, num_classes)(y_true, y_pred)


def recall(y_true: Any, y_pred: Any, average: str | None = "macro",
           num_classes: int | None = None) -> float | np.ndarray:
    """Recall, averaged over classes ('macro', 'micro', 'weighted', 'binary' or None)."""
    return Recall(average, num_classes)(y_true, y_pred)


def f1(y_true: Any, y_pred: Any, average: str | None = "macro",
       num_classes: int | None = None) -> float | np.ndarray:
    """F1 score, averaged over classes ('macro', 'micro', 'weighted', 'binary' or None)."""
    return F1Score(average, num_classes)(y_true, y_pred)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """(C, C) int64 counts; rows are true classes, columns predicted ones."""
    return ConfusionMatrix(num_classes)(y_true, y_pred)


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error."""
    return MeanAbsoluteError()(y_true, y_pred)


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error."""
    return MeanSquaredError()(y_true, y_pred)


def r2(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination."""
    return R2Score()(y_true, y_pred)


METRICS = {
    "accuracy": Accuracy, "acc": Accuracy, "top_k_accuracy": TopKAccuracy,
    "precision": Precision, "recall": Recall, "f1": F1Score, "mae": MeanAbsoluteError,
    "mse": MeanSquaredError, "r2": R2Score,
}


def get(metric: str | Metric | Callable[[Any, Any], float]) -> Metric:
    """A Metric object from a name ('accuracy', 'mae', ...), a Metric, or a function."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        if metric.lower() not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; choose from {sorted(METRICS)}")
        return METRICS[metric.lower()]()
    if callable(metric):
        return _FunctionMetric(metric)
    raise TypeError(f"a metric must be a name, a Metric or a function, got {metric!r}")


class _FunctionMetric(Metric):
    """Wrap f(y_true, y_pred) -> float (a batch mean) as a batch-size-weighted running mean."""

    def __init__(self, fn: Callable[[Any, Any], float]) -> None:
        self.fn = fn
        self.name = getattr(fn, "__name__", "metric")
        super().__init__()

    def _batch_sum(self, y_true: Any, y_pred: Any):
        return float(self.fn(y_true, y_pred)) * y_true.shape[0]
