"""What Keras's `compile` resolves: the optimizer, the loss of each output (with weights and
the layers' regularization penalties) and the metrics, named as Keras names them."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ... import metrics as gk_metrics
from ...autograd import no_grad
from ...tensor import Tensor
from .. import losses as keras_losses
from .. import metrics as keras_metrics
from .. import tree


class CompiledLoss:
    """`loss(y_pred, y_true)` as gradkit's fit calls it: Keras's loss of each output (in
    Keras's argument order), weighted and summed, plus every regularization penalty and
    loss added by the layers (`model.losses`)."""

    def __init__(self, model: Any, losses: list, weights: list[float], multi: bool) -> None:
        self.model, self.losses, self.weights, self.multi = model, losses, weights, multi
        layers = [m for m in model.modules() if hasattr(m, "_regularizers")]
        self.penalised = [(m, n, reg) for m in layers for n, reg in m._regularizers]
        self.layers = layers
        self.__name__ = "loss"

    def __call__(self, y_pred: Any, y_true: Any) -> Tensor:
        if not self.multi:
            total = self.losses[0](y_true, y_pred)
        else:
            preds, trues = tree.flatten(y_pred), list(y_true) if isinstance(
                y_true, (list, tuple)) else [y_true]
            if len(trues) != len(preds):
                raise ValueError(f"the model has {len(preds)} outputs but got {len(trues)} "
                                 "targets; pass one y per output (a list or a dict by name)")
            total = None
            for fn, w, t, p in zip(self.losses, self.weights, trues, preds):
                if fn is None:
                    continue
                term = fn(t, p) * w if w != 1.0 else fn(t, p)
                total = term if total is None else total + term
        for m, n, reg in self.penalised:
            total = total + reg(getattr(m, n))
        for m in self.layers:
            if m._call_losses:
                for extra in m._call_losses:
                    total = total + extra
                m._call_losses.clear()
        return total


class OutputMetric(gk_metrics.Metric):
    """A metric on one output of a multi-output model (logged as "<output>_<metric>")."""

    def __init__(self, inner: gk_metrics.Metric, index: int, name: str) -> None:
        self.inner, self.index = inner, index
        super().__init__()
        self.name = name

    def reset(self) -> None:
        if hasattr(self, "inner"):
            self.inner.reset()

    def update(self, y_true: Any, y_pred: Any) -> None:
        self.inner.update(y_true[self.index], tree.flatten(y_pred)[self.index])

    def result(self) -> Any:
        return self.inner.result()


class OutputLoss(gk_metrics.Metric):
    """The (unweighted) loss of one output, as a running mean over samples."""

    def __init__(self, loss: Any, index: int, name: str) -> None:
        self.loss, self.index = loss, index
        super().__init__()
        self.name = name

    def update(self, y_true: Any, y_pred: Any) -> None:
        t, p = y_true[self.index], tree.flatten(y_pred)[self.index]
        with no_grad():
            value = self.loss(t, p)
        n = len(p)
        self._total = self._total + value._data * n
        self._count += n


def _per_output(spec: Any, names: list[str], what: str) -> list:
    """One entry per output from a single value, a list or a dict keyed by output name."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"compile: {what} names {sorted(unknown)}, not outputs of the "
                             f"model {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)) and len(names) > 1:
        if len(spec) != len(names):
            raise ValueError(f"compile: {len(spec)} {what} for {len(names)} outputs {names}")
        return list(spec)
    return [spec] * len(names)


def resolve_losses(loss: Any, loss_weights: Any, names: list[str]) -> tuple[list, list]:
    """(Loss objects, weights), one per output."""
    if loss is None:
        raise ValueError("compile: loss is missing; e.g. loss='binary_crossentropy', "
                         "'sparse_categorical_crossentropy' or 'mse'")
    specs = _per_output(loss, names, "losses")
    objs = [None if s is None else keras_losses.as_loss_object(s) for s in specs]
    weights = [1.0 if w is None else float(w) for w in _per_output(loss_weights, names,
                                                                  "loss_weights")] \
        if loss_weights is not None else [1.0] * len(names)
    return objs, weights


def resolve_metrics(metrics: Any, names: list[str]) -> list:
    """Metric objects named as Keras logs them (per output: "<output>_<name>")."""
    if metrics is None:
        return []
    multi = len(names) > 1
    if not multi:
        items = metrics if isinstance(metrics, (list, tuple)) else [metrics]
        if isinstance(metrics, dict):
            items = tree.flatten(list(metrics.values()))
        return [keras_metrics.get(m) for m in items]
    if isinstance(metrics, dict):
        per = _per_output(metrics, names, "metrics")
    elif isinstance(metrics, (list, tuple)) and len(metrics) == len(names) and all(
            isinstance(m, (list, tuple)) or m is None for m in metrics):
        per = list(metrics)
    else:
        raise ValueError(f"compile: for a model with outputs {names}, give metrics per output: "
                         "a list of lists, or a dict by output name")
    out = []
    for i, (name, specs) in enumerate(zip(names, per)):
        for spec in ([] if specs is None else specs if isinstance(specs, (list, tuple))
                     else [specs]):
            m = keras_metrics.get(spec)
            out.append(OutputMetric(m, i, f"{name}_{m.name}"))
    return out


_PROBABILITY = {"binary_crossentropy": "BinaryCrossentropy",
                "categorical_crossentropy": "CategoricalCrossentropy",
                "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy"}


def warn_activation_mismatch(loss: Any, last: Any) -> None:
    """Keras's silent trap, said out loud: a softmax/sigmoid output with `from_logits=True`,
    or a linear output with a loss that expects probabilities."""
    fn = getattr(loss, "fn", None)
    act = getattr(last, "activation", None)
    if fn is None or act is None or getattr(fn, "__name__", "") not in _PROBABILITY:
        return
    act_name = getattr(act, "__name__", "")
    layer = f"the last layer {last.name!r}"
    if loss.from_logits and act_name in ("softmax", "sigmoid"):
        warnings.warn(f"compile: {layer} applies {act_name}, but the loss {fn.__name__} was "
                      "given from_logits=True, so it applies its own softmax/sigmoid again; "
                      "drop from_logits=True (or use a linear last layer)", stacklevel=4)
    elif not loss.from_logits and act_name == "linear" and getattr(last, "units", 0):
        warnings.warn(f"compile: {layer} has no activation, so it outputs logits, but the loss "
                      f"{fn.__name__} expects probabilities; pass loss=keras.losses."
                      f"{_PROBABILITY[fn.__name__]}(from_logits=True) or give the layer "
                      "activation='sigmoid' / 'softmax'",
                      stacklevel=4)


def batch_values(metrics: list, y_true: Any, y_pred: Any) -> list[float]:
    """Each metric on one batch alone (train_on_batch / test_on_batch)."""
    out = []
    for m in metrics:
        m.reset()
        m.update(y_true, y_pred)
        v = m.result()
        out.append(float(v) if np.ndim(v) == 0 else v)
        m.reset()
    return out
