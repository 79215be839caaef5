"""`keras.losses`: Keras's losses with Keras's semantics, on gradkit Tensors.

Called as `loss(y_true, y_pred)` (Keras's order). Cross-entropies take probabilities
unless `from_logits=True`: probabilities are clipped to [1e-7, 1 - 1e-7] first, as Keras
does (so a saturated wrong prediction costs 16.1, not gradkit's -100 log floor). Every
function returns one value per sample (the mean over the last axis); the classes reduce
them (`"sum_over_batch_size"` = the mean, `"sum"`, or `None`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops
from ..nn import functional as F
from ..tensor import Tensor
from ._missing import missing
from .naming import to_snake_case

__all__ = ["EPSILON", "Loss", "LossFunctionWrapper", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy", "mean_squared_error",
           "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "huber", "log_cosh", "hinge", "squared_hinge",
           "categorical_hinge", "kl_divergence", "poisson", "cosine_similarity",
           "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
           "MeanSquaredLogarithmicError", "Huber", "LogCosh", "Hinge", "SquaredHinge",
           "CategoricalHinge", "KLDivergence", "Poisson", "CosineSimilarity", "get",
           "mse", "mae", "mape", "msle", "kld"]

EPSILON = 1e-7  # keras.backend.epsilon()


def _tensor(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "__cuda_array_interface__"):  # a CuPy array: wrapped where it is
        return Tensor._wrap(x.astype(np.float32) if x.dtype == np.float64 else x)
    arr = np.asarray(x)
    return Tensor(arr, dtype=np.float32 if arr.dtype == np.float64 else arr.dtype)


def _float_like(y_true: Any, y_pred: Tensor) -> Tensor:
    t = _tensor(y_true)
    return t if t.dtype == y_pred.dtype else ops.astype(t, y_pred.dtype)


def same_rank(y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
    """Keras's squeeze_or_expand_to_same_rank: an (N,) target meets an (N, 1) output."""
    rt, rp = y_true.ndim, y_pred.ndim
    if rt == rp + 1 and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, -1) if rp != 1 else y_true
        y_pred = ops.expand_dims(y_pred, -1) if rp == 1 else y_pred
    elif rp == rt + 1 and y_pred.shape[-1] == 1:
        if rt == 1:
            y_true = ops.expand_dims(y_true, -1)
        else:
            y_pred = ops.squeeze(y_pred, -1)
    return y_true, y_pred


def _check_same(y_true: Tensor, y_pred: Tensor, name: str, hint: str = "") -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{name}: y_true has shape {y_true.shape} but y_pred has shape "
                         f"{y_pred.shape}; they must match{hint}")


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Mean over `axis` of -(y log p + (1 - y) log(1 - p)), p clipped to [1e-7, 1 - 1e-7]."""
    y_pred = _tensor(y_pred)
    y_true = _float_like(y_true, y_pred)
    _check_same(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        per = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        per = F.binary_cross_entropy(ops.clip(y_pred, EPSILON, 1.0 - EPSILON), y_true,
                                     reduction="none")
    return ops.mean(per, axis=axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """-sum(y * log p) over `axis` for one-hot (or probability) targets; p normalised to sum
    to 1 and clipped, unless `from_logits`."""
    y_pred = _tensor(y_pred)
    y_true = _float_like(y_true, y_pred)
    _check_same(y_true, y_pred, "categorical_crossentropy",
                " (one-hot targets; for integer labels use "
                "'sparse_categorical_crossentropy')")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    if from_logits:
        log_prob = ops.log_softmax(y_pred, axis)
    else:
        p = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
        log_prob = ops.log(ops.clip(p, EPSILON, 1.0 - EPSILON))
    return -ops.sum(y_true * log_prob, axis=axis)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> Tensor:
    """-log p[label] for integer labels (N,) (or (N, 1)) and (N, ..., classes) outputs."""
    if ignore_class is not None:
        raise NotImplementedError("sparse_categorical_crossentropy(ignore_class=) is not in "
                                  "gradkit's Keras")
    y_pred = _tensor(y_pred)
    labels = _tensor(y_true)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = ops.squeeze(labels, -1)
    if labels.dtype.kind != "i":
        labels = ops.astype(labels, np.int64)
    if axis not in (-1, y_pred.ndim - 1):
        raise NotImplementedError("sparse_categorical_crossentropy: only axis=-1")
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(f"sparse_categorical_crossentropy: labels of shape {labels.shape} "
                         f"for outputs of shape {y_pred.shape}; the labels must have the "
                         "outputs' shape without the class axis (for one-hot targets use "
                         "'categorical_crossentropy')")
    c = y_pred.shape[-1]
    flat = ops.reshape(y_pred, (-1, c)) if y_pred.ndim != 2 else y_pred
    flat_labels = ops.reshape(labels, (-1,)) if labels.ndim != 1 else labels
    if from_logits:
        per = F.cross_entropy(flat, flat_labels, reduction="none")
    else:
        p = flat / ops.sum(flat, axis=1, keepdims=True)
        per = F.nll_loss(ops.log(ops.clip(p, EPSILON, 1.0 - EPSILON)), flat_labels,
                         reduction="none")
    return ops.reshape(per, labels.shape) if labels.ndim != 1 else per


def _pair(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    y_pred = _tensor(y_pred)
    return _float_like(y_true, y_pred), y_pred


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean((y_pred - y_true) ** 2) over the last axis."""
    t, p = _pair(y_true, y_pred)
    d = p - t
    return ops.mean(d * d, axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean(|y_pred - y_true|) over the last axis."""
    t, p = _pair(y_true, y_pred)
    return ops.mean(ops.abs(p - t), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    """100 * mean(|(y_true - y_pred) / y_true|) (the divisor at least 1e-7)."""
    t, p = _pair(y_true, y_pred)
    return 100.0 * ops.mean(ops.abs((t - p) / ops.maximum(ops.abs(t), EPSILON)), axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    """mean((log(1 + y_pred) - log(1 + y_true)) ** 2), both floored at 1e-7."""
    t, p = _pair(y_true, y_pred)
    d = ops.log(ops.maximum(p, EPSILON) + 1.0) - ops.log(ops.maximum(t, EPSILON) + 1.0)
    return ops.mean(d * d, axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Quadratic for |error| <= delta, linear beyond (mean over the last axis)."""
    t, p = _pair(y_true, y_pred)
    a = ops.abs(p - t)
    return ops.mean(ops.where(a <= delta, 0.5 * a * a, delta * a - 0.5 * delta * delta),
                    axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    """mean(log(cosh(y_pred - y_true))), computed stably."""
    t, p = _pair(y_true, y_pred)
    x = p - t
    return ops.mean(x + ops.softplus(-2.0 * x) - math.log(2.0), axis=-1)


def _signed(t: Tensor) -> Tensor:
    """0/1 targets as -1/1 (Keras's hinge losses)."""
    if t.size and bool(((t._data == 0) | (t._data == 1)).all()):
        return 2.0 * t - 1.0
    return t


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0)); 0/1 targets become -1/1."""
    t, p = _pair(y_true, y_pred)
    return ops.mean(ops.relu(1.0 - _signed(t) * p), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """mean(max(1 - y_true * y_pred, 0) ** 2)."""
    t, p = _pair(y_true, y_pred)
    h = ops.relu(1.0 - _signed(t) * p)
    return ops.mean(h * h, axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    """max(0, 1 + max((1 - y) * p) - sum(y * p))."""
    t, p = _pair(y_true, y_pred)
    pos = ops.sum(t * p, axis=-1)
    neg = ops.max((1.0 - t) * p, axis=-1)
    return ops.relu(neg - pos + 1.0)


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    """sum(y_true * log(y_true / y_pred)), both clipped to [1e-7, 1]."""
    t, p = _pair(y_true, y_pred)
    t, p = ops.clip(t, EPSILON, 1.0), ops.clip(p, EPSILON, 1.0)
    return ops.sum(t * ops.log(t / p), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    """mean(y_pred - y_true * log(y_pred + 1e-7))."""
    t, p = _pair(y_true, y_pred)
    return ops.mean(p - t * ops.log(p + EPSILON), axis=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    """-sum(normalize(y_true) * normalize(y_pred)) along `axis`."""
    t, p = _pair(y_true, y_pred)

    def unit(x: Tensor) -> Tensor:
        return x / ops.sqrt(ops.maximum(ops.sum(x * x, axis=axis, keepdims=True), 1e-12))

    return -ops.sum(unit(t) * unit(p), axis=axis)


mse, mae, mape, msle, kld = (mean_squared_error, mean_absolute_error,
                             mean_absolute_percentage_error, mean_squared_logarithmic_error,
                             kl_divergence)
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", None, "none")


class Loss:
    """Base class: write `call(y_true, y_pred)` returning per-sample values; `__call__`
    reduces them (`reduction`) after matching the ranks (an (N,) target, an (N, 1) output)."""

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None) -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, "
                             f"got {reduction!r}")
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        y_pred = _tensor(y_pred)
        y_true, y_pred = same_rank(_tensor(y_true), y_pred)
        values = self.call(y_true, y_pred)
        if sample_weight is not None:
            w = _float_like(sample_weight, values)
            w, values = same_rank(w, values)
            values = values * w
        if self.reduction in (None, "none") or values.ndim == 0:
            return values
        total = ops.sum(values)
        return total if self.reduction == "sum" else total / max(values.size, 1)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}


class LossFunctionWrapper(Loss):
    """A loss class around a loss function and its keyword arguments."""

    def __init__(self, fn: Callable, reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn, self.fn_kwargs = fn, kwargs

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    @property
    def from_logits(self) -> bool:
        return bool(self.fn_kwargs.get("from_logits", False))

    def get_config(self) -> dict:
        return {**super().get_config(), **self.fn_kwargs}


def _wrapper(cls_name: str, fn: Callable, **defaults: Any) -> type:
    def __init__(self, *args: Any, reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, **kwargs: Any) -> None:
        options = dict(defaults)
        for key, value in zip(defaults, args):
            options[key] = value
        unknown = set(kwargs) - set(defaults) - {"dtype"}
        if unknown:
            raise TypeError(f"{cls_name}: unexpected argument(s) {sorted(unknown)}")
        options.update({k: v for k, v in kwargs.items() if k != "dtype"})
        LossFunctionWrapper.__init__(self, fn, reduction, name or to_snake_case(cls_name),
                                     **options)

    args = ", ".join(f"{k}={v!r}" for k, v in defaults.items())
    return type(cls_name, (LossFunctionWrapper,), {
        "__init__": __init__, "__doc__": f"{cls_name}({args}): `{fn.__name__}` as a class."})


BinaryCrossentropy = _wrapper("BinaryCrossentropy", binary_crossentropy, from_logits=False,
                              label_smoothing=0.0, axis=-1)
CategoricalCrossentropy = _wrapper("CategoricalCrossentropy", categorical_crossentropy,
                                   from_logits=False, label_smoothing=0.0, axis=-1)
SparseCategoricalCrossentropy = _wrapper("SparseCategoricalCrossentropy",
                                         sparse_categorical_crossentropy, from_logits=False,
                                         ignore_class=None, axis=-1)
MeanSquaredError = _wrapper("MeanSquaredError", mean_squared_error)
MeanAbsoluteError = _wrapper("MeanAbsoluteError", mean_absolute_error)
MeanAbsolutePercentageError = _wrapper("MeanAbsolutePercentageError",
                                       mean_absolute_percentage_error)
MeanSquaredLogarithmicError = _wrapper("MeanSquaredLogarithmicError",
                                       mean_squared_logarithmic_error)
Huber = _wrapper("Huber", huber, delta=1.0)
LogCosh = _wrapper("LogCosh", log_cosh)
Hinge = _wrapper("Hinge", hinge)
SquaredHinge = _wrapper("SquaredHinge", squared_hinge)
CategoricalHinge = _wrapper("CategoricalHinge", categorical_hinge)
KLDivergence = _wrapper("KLDivergence", kl_divergence)
Poisson = _wrapper("Poisson", poisson)
CosineSimilarity = _wrapper("CosineSimilarity", cosine_similarity, axis=-1)

_FUNCTIONS: dict[str, Callable] = {f.__name__: f for f in (
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, huber, log_cosh, hinge, squared_hinge, categorical_hinge,
    kl_divergence, poisson, cosine_similarity)}
_FUNCTIONS.update(mse=mean_squared_error, mae=mean_absolute_error,
                  mape=mean_absolute_percentage_error, msle=mean_squared_logarithmic_error,
                  kld=kl_divergence, kullback_leibler_divergence=kl_divergence,
                  logcosh=log_cosh, huber_loss=huber)
_CLASSES: dict[str, type] = {c.__name__: c for c in (
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, CosineSimilarity)}


def get(identifier: Any) -> Any:
    """The loss for a name (a function name such as "binary_crossentropy", "mse", or a class
    name such as "BinaryCrossentropy"), a Loss object or a function (kept)."""
    if isinstance(identifier, str):
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        fn = _FUNCTIONS.get(identifier.lower())
        if fn is None:
            raise ValueError(f"keras.losses: unknown loss {identifier!r}; choose from "
                             f"{sorted(_FUNCTIONS)} (or a class such as 'BinaryCrossentropy', "
                             "or a function f(y_true, y_pred))")
        return fn
    if isinstance(identifier, dict):
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"keras.losses: a loss is a name, a Loss or a function, got {identifier!r}")


def as_loss_object(identifier: Any) -> Loss:
    """A `Loss` for what compile() was given (functions are wrapped, reducing to the mean)."""
    loss = get(identifier)
    if isinstance(loss, Loss):
        return loss
    return LossFunctionWrapper(loss, name=getattr(loss, "__name__", "loss"))


def __getattr__(name: str) -> Any:
    raise missing("losses", name, __all__)
