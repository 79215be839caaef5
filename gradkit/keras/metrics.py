"""`keras.metrics`: Keras's metrics, as gradkit `Metric`s (so `fit` accumulates them on the
device and logs them under the name the user wrote: `"acc"` stays `"acc"`).

Like Keras, a metric averages its per-element values over every element it has seen
(`"accuracy"` picks binary, sparse-categorical or categorical accuracy from the shapes of the
targets and outputs at its first update, as Keras's compile does; binary accuracy
thresholds at 0.5, also for logits, exactly as Keras).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import metrics as gk_metrics
from ..autograd import no_grad
from ..backend.devices import to_numpy, xp_of
from ..tensor import Tensor
from . import losses as L
from ._missing import missing
from .naming import to_snake_case

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError",
           "RootMeanSquaredError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
           "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "Precision", "Recall", "AUC", "get"]


def _raw(a: Any) -> Any:
    return a._data if isinstance(a, Tensor) else a if hasattr(a, "shape") else np.asarray(a)


def _ranks(t: Any, p: Any) -> tuple:
    """Keras's squeeze_or_expand_to_same_rank on raw arrays: an (N,) target meets an (N, 1)
    output as (N, 1)."""
    if t.ndim == p.ndim + 1 and t.shape[-1] == 1:
        if p.ndim == 1:
            p = p[:, None]
        else:
            t = t.reshape(t.shape[:-1])
    elif p.ndim == t.ndim + 1 and p.shape[-1] == 1:
        if t.ndim == 1:
            t = t[:, None]
        else:
            p = p.reshape(p.shape[:-1])
    return t, p


class Metric(gk_metrics.Metric):
    """Base class: a running mean of per-element values (`values(y_true, y_pred)`), with
    Keras's `update_state` / `result` / `reset_state` names."""

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        self.name = name or to_snake_case(type(self).__name__)
        super().__init__()

    def values(self, y_true: Any, y_pred: Any) -> Any:
        raise NotImplementedError

    def update(self, y_true: Any, y_pred: Any) -> None:
        v = self.values(_raw(y_true), _raw(y_pred))
        self._total = self._total + v.sum(dtype=np.float64)
        self._count += int(v.size)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if sample_weight is not None:
            raise NotImplementedError(f"{self.name}: sample_weight is not in gradkit's Keras")
        self.update(y_true, y_pred)

    def reset_state(self) -> None:
        self.reset()

    def result(self) -> Any:
        return float(self._total / self._count) if self._count else 0.0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The mean of the values given to `update_state(values)`."""

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        v = _raw(values)
        v = np.asarray(v) if not hasattr(v, "sum") else v
        self._total = self._total + v.sum(dtype=np.float64)
        self._count += int(np.size(v))


class MeanMetricWrapper(Metric):
    """A metric from a function `fn(y_true, y_pred)` of Tensors giving per-sample values."""

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        self.fn, self.fn_kwargs = fn, kwargs
        super().__init__(name or getattr(fn, "__name__", "metric"))

    def values(self, y_true: Any, y_pred: Any) -> Any:
        with no_grad():
            out = self.fn(Tensor._wrap(y_true), Tensor._wrap(y_pred), **self.fn_kwargs)
        return _raw(out) if hasattr(out, "shape") else np.asarray(out)


class BinaryAccuracy(Metric):
    """How often `y_pred > threshold` equals the 0/1 target."""

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None,
                 threshold: float = 0.5) -> None:
        self.threshold = threshold
        super().__init__(name)

    def values(self, y_true: Any, y_pred: Any) -> Any:
        t, p = _ranks(y_true, y_pred)
        return ((p > self.threshold) == (t > 0.5)).astype(np.float32).mean(axis=-1)


class CategoricalAccuracy(Metric):
    """How often argmax(y_pred) equals argmax(one-hot y_true)."""

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name)

    def values(self, y_true: Any, y_pred: Any) -> Any:
        return (y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)).astype(np.float32)


class SparseCategoricalAccuracy(Metric):
    """How often argmax(y_pred) equals the integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(name)

    def values(self, y_true: Any, y_pred: Any) -> Any:
        t = y_true.reshape(y_true.shape[:-1]) if (
            y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1) else y_true
        return (t.astype(np.int64) == y_pred.argmax(axis=-1)).astype(np.float32)


class Accuracy(Metric):
    """How often y_pred equals y_true exactly (Keras's `Accuracy` class)."""

    def values(self, y_true: Any, y_pred: Any) -> Any:
        t, p = _ranks(y_true, y_pred)
        return (t == p).astype(np.float32)


class _AutoAccuracy(Metric):
    """`"accuracy"` / `"acc"`: binary, sparse-categorical or categorical accuracy, chosen
    from the shapes at the first update (Keras's compile rule)."""

    def __init__(self, name: str = "accuracy") -> None:
        self.chosen: Metric | None = None
        super().__init__(name)

    def values(self, y_true: Any, y_pred: Any) -> Any:
        if self.chosen is None:
            binary = y_pred.shape[-1] == 1
            sparse = y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and not binary)
            self.chosen = (BinaryAccuracy() if binary else SparseCategoricalAccuracy()
                           if sparse else CategoricalAccuracy())
        return self.chosen.values(y_true, y_pred)


def _top_k(scores: Any, labels: Any, k: int) -> Any:
    xp = xp_of(scores)
    k = min(k, scores.shape[-1])
    top = xp.argpartition(-scores, k - 1, axis=-1)[..., :k]
    return (top == labels[..., None]).any(axis=-1).astype(np.float32)


class TopKCategoricalAccuracy(Metric):
    """How often the one-hot target's class is among the k highest scores."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        self.k = k
        super().__init__(name)

    def values(self, y_true: Any, y_pred: Any) -> Any:
        return _top_k(y_pred, y_true.argmax(axis=-1), self.k)


class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    """How often the integer label is among the k highest scores."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy",
                 dtype: Any = None) -> None:
        super().__init__(k, name)

    def values(self, y_true: Any, y_pred: Any) -> Any:
        t = y_true.reshape(y_pred.shape[:-1]).astype(np.int64)
        return _top_k(y_pred, t, self.k)


def _loss_metric(cls_name: str, fn: Callable, default: str, **defaults: Any) -> type:
    def __init__(self, name: str = default, dtype: Any = None, **kwargs: Any) -> None:
        MeanMetricWrapper.__init__(self, fn, name, **{**defaults, **kwargs})

    def values(self, y_true: Any, y_pred: Any) -> Any:
        with no_grad():
            t, p = L.same_rank(Tensor._wrap(y_true), Tensor._wrap(y_pred))
            return self.fn(t, p, **self.fn_kwargs)._data

    return type(cls_name, (MeanMetricWrapper,), {
        "__init__": __init__, "values": values,
        "__doc__": f"The mean of keras.losses.{fn.__name__} over the samples."})


MeanSquaredError = _loss_metric("MeanSquaredError", L.mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _loss_metric("MeanAbsoluteError", L.mean_absolute_error,
                                 "mean_absolute_error")
MeanAbsolutePercentageError = _loss_metric(
    "MeanAbsolutePercentageError", L.mean_absolute_percentage_error,
    "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _loss_metric(
    "MeanSquaredLogarithmicError", L.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error")
BinaryCrossentropy = _loss_metric("BinaryCrossentropy", L.binary_crossentropy,
                                  "binary_crossentropy", from_logits=False, label_smoothing=0.0)
CategoricalCrossentropy = _loss_metric("CategoricalCrossentropy", L.categorical_crossentropy,
                                       "categorical_crossentropy", from_logits=False,
                                       label_smoothing=0.0)
SparseCategoricalCrossentropy = _loss_metric(
    "SparseCategoricalCrossentropy", L.sparse_categorical_crossentropy,
    "sparse_categorical_crossentropy", from_logits=False)


class RootMeanSquaredError(MeanSquaredError):  # type: ignore[misc, valid-type]
    """sqrt of the mean squared error over all elements seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


class _Counts(Metric):
    """True/false positives/negatives of `y_pred > threshold` over every element."""

    def __init__(self, thresholds: float | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        if top_k is not None or isinstance(thresholds, (list, tuple)):
            raise NotImplementedError(f"{type(self).__name__}: top_k and several thresholds "
                                      "are not in gradkit's Keras")
        self.threshold = 0.5 if thresholds is None else float(thresholds)
        self.class_id = class_id
        super().__init__(name)

    def reset(self) -> None:
        self._sums: Any = None
        self._count = 0

    def update(self, y_true: Any, y_pred: Any) -> None:
        t, p = _ranks(_raw(y_true), _raw(y_pred))
        if self.class_id is not None:
            t, p = t[..., self.class_id], p[..., self.class_id]
        xp = xp_of(p)
        pos, true = p > self.threshold, t > 0.5
        batch = xp.stack([(pos & true).sum(), (pos & ~true).sum(), (~pos & true).sum()])
        self._sums = batch if self._sums is None else self._sums + batch
        self._count += int(p.size)

    def _tp_fp_fn(self) -> tuple[float, float, float]:
        if self._sums is None:
            return 0.0, 0.0, 0.0
        tp, fp, fn = (float(v) for v in to_numpy(self._sums))
        return tp, fp, fn


class Precision(_Counts):
    """tp / (tp + fp) of `y_pred > threshold` (0.5) against 0/1 targets."""

    def result(self) -> float:
        tp, fp, _ = self._tp_fp_fn()
        return tp / (tp + fp) if tp + fp else 0.0


class Recall(_Counts):
    """tp / (tp + fn) of `y_pred > threshold` (0.5) against 0/1 targets."""

    def result(self) -> float:
        tp, _, fn = self._tp_fp_fn()
        return tp / (tp + fn) if tp + fn else 0.0


class AUC(Metric):
    """Area under the ROC curve from `num_thresholds` thresholds, with Keras's trapezoids."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: str | None = None,
                 dtype: Any = None, thresholds: Any = None, multi_label: bool = False,
                 num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False) -> None:
        if curve != "ROC" or summation_method != "interpolation" or multi_label:
            raise NotImplementedError("AUC: only curve='ROC', summation_method="
                                      "'interpolation', multi_label=False in gradkit's Keras")
        eps = 1e-7
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = np.array([-eps, *inner, 1.0 + eps])
        self.from_logits = from_logits
        super().__init__(name or "auc")

    def reset(self) -> None:
        n = len(getattr(self, "thresholds", ()))
        self._pos, self._neg = np.zeros(n + 1), np.zeros(n + 1)
        self._count = 0

    def update(self, y_true: Any, y_pred: Any) -> None:
        t, p = _ranks(to_numpy(_raw(y_true)), to_numpy(_raw(y_pred)))
        p = p.reshape(-1).astype(np.float64)
        if self.from_logits:
            p = 1.0 / (1.0 + np.exp(-p))
        bins = np.searchsorted(self.thresholds, p, side="left")  # thresholds below p
        true = t.reshape(-1) > 0.5
        self._pos += np.bincount(bins[true], minlength=len(self._pos))
        self._neg += np.bincount(bins[~true], minlength=len(self._neg))
        self._count += p.size

    def result(self) -> float:
        # predictions above threshold i: those whose bin is > i
        tp = self._pos[::-1].cumsum()[::-1][1:]
        fp = self._neg[::-1].cumsum()[::-1][1:]
        pos, neg = self._pos.sum(), self._neg.sum()
        tpr = tp / pos if pos else np.zeros_like(tp)
        fpr = fp / neg if neg else np.zeros_like(fp)
        return float(((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2).sum())


_CLASSES: dict[str, type] = {c.__name__: c for c in (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, RootMeanSquaredError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Precision, Recall, AUC, Mean)}
_NAMES: dict[str, type] = {to_snake_case(k): c for k, c in _CLASSES.items()}
_NAMES.update(mse=MeanSquaredError, mae=MeanAbsoluteError, mape=MeanAbsolutePercentageError,
              msle=MeanSquaredLogarithmicError, bce=BinaryCrossentropy,
              rmse=RootMeanSquaredError, auc=AUC)


def get(identifier: Any) -> Metric:
    """A fresh metric for a name (kept as its name: `"acc"` logs as `"acc"`), a Metric (kept)
    or a function `f(y_true, y_pred)` of Tensors."""
    if isinstance(identifier, gk_metrics.Metric):
        return identifier  # type: ignore[return-value]
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _AutoAccuracy(identifier)
        cls = _CLASSES.get(identifier) or _NAMES.get(identifier.lower())
        if cls is None:
            raise ValueError(f"keras.metrics: unknown metric {identifier!r}; choose from "
                             f"{sorted({'accuracy', 'acc', *_NAMES})} or pass a function "
                             "f(y_true, y_pred)")
        m = cls()
        m.name = identifier
        return m
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"keras.metrics: a metric is a name, a Metric or a function, got "
                    f"{identifier!r}")


def __getattr__(name: str) -> Any:
    raise missing("metrics", name, __all__)
