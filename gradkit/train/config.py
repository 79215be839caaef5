"""`compile()`: turn optimizer, loss and metric names into objects and keep them on the model.

String optimizers get Keras's default learning rates (`"sgd"` 0.01, the others 0.001).
A loss is called as `loss(y_pred, y_true)` (PyTorch's order); a metric as
`metric(y_true, y_pred)` (Keras's and scikit-learn's order).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import metrics as gk_metrics
from ..nn import losses as L
from ..optim import SGD, Adagrad, Adam, AdamW, RMSprop
from ..optim.optimizer import Optimizer

OPTIMIZERS: dict[str, tuple[type, float]] = {
    "sgd": (SGD, 0.01), "adam": (Adam, 1e-3), "adamw": (AdamW, 1e-3),
    "rmsprop": (RMSprop, 1e-3), "adagrad": (Adagrad, 1e-3),
}

LOSSES: dict[str, type] = {
    "cross_entropy": L.CrossEntropyLoss, "mse": L.MSELoss, "mae": L.L1Loss, "l1": L.L1Loss,
    "bce": L.BCELoss, "bce_with_logits": L.BCEWithLogitsLoss, "huber": L.HuberLoss,
    "nll": L.NLLLoss,
}

# How fit checks and adapts targets for each kind of loss (None: a custom callable).
_KINDS: dict[type, str] = {
    L.CrossEntropyLoss: "labels", L.NLLLoss: "labels", L.MSELoss: "pointwise",
    L.L1Loss: "pointwise", L.HuberLoss: "pointwise", L.BCELoss: "binary",
    L.BCEWithLogitsLoss: "binary",
}


@dataclass
class TrainConfig:
    """What `compile` resolved: the loss (with its kind and name) and the metrics."""

    loss: Callable | None
    loss_name: str
    loss_kind: str | None
    metrics: list = field(default_factory=list)


def compile_model(model, optimizer="adam", loss=None, metrics=None) -> None:
    """Resolve and attach optimizer (`model.optimizer`), loss and metrics to `model`."""
    opt = resolve_optimizer(model, optimizer)
    loss_fn, loss_name, kind = resolve_loss(loss)
    metric_objs = resolve_metrics(metrics, loss_fn)
    object.__setattr__(model, "optimizer", opt)
    object.__setattr__(model, "_train_config", TrainConfig(loss_fn, loss_name, kind, metric_objs))


def config_of(model, where: str) -> TrainConfig:
    """The model's TrainConfig, or a clear error when compile() was not called."""
    cfg = model.__dict__.get("_train_config")
    if cfg is None or model.__dict__.get("optimizer") is None:
        raise RuntimeError(
            f"{where}: call model.compile(optimizer=..., loss=..., metrics=[...]) before "
            f"{where}(), e.g. model.compile(optimizer='adam', loss='cross_entropy', "
            "metrics=['accuracy'])"
        )
    return cfg


def _trainable(model) -> list:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"compile: {type(model).__name__} has no trainable parameters")
    return params


def resolve_optimizer(model, optimizer) -> Optimizer:
    """An Optimizer from a name, an Optimizer, or a callable taking the parameter list."""
    if isinstance(optimizer, Optimizer):
        owned = {id(p) for p in model.parameters()}
        if not any(id(p) in owned for g in optimizer.param_groups for p in g["params"]):
            raise ValueError("compile: the optimizer holds none of this model's parameters "
                             "(was it built for another model?)")
        return optimizer
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key not in OPTIMIZERS:
            raise ValueError(f"compile: unknown optimizer {optimizer!r}; choose from "
                             f"{sorted(OPTIMIZERS)} or pass an optimizer object")
        cls, lr = OPTIMIZERS[key]
        return cls(_trainable(model), lr=lr)
    if callable(optimizer):
        opt = optimizer(_trainable(model))
        if not isinstance(opt, Optimizer):
            raise TypeError(f"compile: optimizer factory returned {type(opt).__name__}, "
                            "not an Optimizer")
        return opt
    raise TypeError(f"compile: optimizer must be a name, an Optimizer or a callable, "
                    f"got {optimizer!r}")


def resolve_loss(loss) -> tuple[Callable | None, str, str | None]:
    """(loss callable, display name, kind) from a name, a loss module or a callable."""
    if loss is None:
        return None, "loss", None
    if isinstance(loss, str):
        key = loss.lower()
        if key not in LOSSES:
            raise ValueError(f"compile: unknown loss {loss!r}; choose from {sorted(LOSSES)} "
                             "or pass a loss object or a function f(y_pred, y_true)")
        loss = LOSSES[key]()
        return loss, key, _KINDS[type(loss)]
    if callable(loss):
        name = type(loss).__name__ if hasattr(loss, "forward") else getattr(
            loss, "__name__", "loss")
        return loss, name, _KINDS.get(type(loss))
    raise TypeError(f"compile: loss must be a name, a loss module or a callable, got {loss!r}")


def resolve_metrics(metrics, loss_fn) -> list:
    """Metric objects with unique names (string metrics threshold logits at 0 for
    `bce_with_logits`)."""
    if metrics is None:
        return []
    if isinstance(metrics, (str, gk_metrics.Metric)) or not isinstance(metrics, (list, tuple)):
        metrics = [metrics]
    out, seen = [], set()
    for spec in metrics:
        m = gk_metrics.get(spec)
        if isinstance(spec, gk_metrics.Metric):
            m = copy.copy(m)  # our name fix-ups must not touch the caller's object
        if isinstance(spec, str) and isinstance(loss_fn, L.BCEWithLogitsLoss) and hasattr(
                m, "threshold"):
            m.threshold = 0.0
        base, i = m.name, 1
        while m.name in seen:
            i += 1
            m.name = f"{base}_{i}"
        seen.add(m.name)
        out.append(m)
    return out
