"""`compile()`: turn optimizer, loss and metric names into objects and keep them on the model.

Names come from the registries: optimizers from `gradkit.optim.registry` (with Keras's
default learning rates: `"sgd"` 0.01, the others 0.001), losses from `gradkit.nn.registry`.
A loss is called as `loss(y_pred, y_true)` (PyTorch's order); a metric as
`metric(y_true, y_pred)` (Keras's and scikit-learn's order).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import metrics as gk_metrics
from ..nn import losses as L
from ..nn import registry
from ..nn.containers import Sequential
from ..nn.layers import Linear, LogSoftmax, Sigmoid, Softmax
from ..nn.module import Module
from ..nn.utils import clip_grad_norm_, clip_grad_value_
from ..optim import registry as optimizers
from ..optim.grad_scaler import GradScaler
from ..optim.optimizer import Optimizer
from .keras_losses import KERAS_LOSS_KINDS, KERAS_LOSSES, ProbabilityCrossEntropyLoss


@dataclass
class TrainConfig:
    """What `compile` resolved: the loss (with its kind and name) and the metrics."""

    loss: Callable | None
    loss_name: str
    loss_kind: str | None
    metrics: list = field(default_factory=list)
    clip: Callable[[list], None] | None = None  # applied to the parameters before each step
    jit_compile: bool = False  # fit/evaluate/predict replay traced steps (train/compiled.py)
    jit_steps: dict = field(default_factory=dict)  # those steps, kept across fit() calls
    precision: str = "32"  # "32", "16-mixed" or "bf16-mixed" (Lightning's names)
    scaler: GradScaler | None = None  # 16-mixed: the loss scaling of fit's updates

    @property
    def autocast_dtype(self) -> str | None:
        """The dtype the steps run under autocast in (None: no autocast)."""
        return {"16-mixed": "float16", "bf16-mixed": "bfloat16"}.get(self.precision)


#: What compile() takes as the optimizer: a name, an Optimizer, or f(params) -> Optimizer.
OptimizerSpec = str | Optimizer | Callable[[list], Optimizer]
#: ... and as the loss: a name, a loss module or f(y_pred, y_true) -> Tensor, or None.
LossSpec = str | Callable | None


def compile_model(model: Module, optimizer: OptimizerSpec = "adam", loss: LossSpec = None,
                  metrics: Any = None, jit_compile: bool = False, precision: Any = "32",
                  **clipping: float | None) -> None:
    """Resolve and attach optimizer (`model.optimizer`), loss and metrics to `model`;
    `clipping`: Keras's `clipnorm`, `global_clipnorm`, `clipvalue` (see `resolve_clipping`);
    `jit_compile`: fit/evaluate/predict run compiled steps (`gk.compile`, docs/compile.md);
    `precision`: see `resolve_precision` (docs/precision.md)."""
    if not isinstance(jit_compile, bool):
        raise TypeError(f"compile: jit_compile must be True or False, got {jit_compile!r}")
    precision = resolve_precision(precision)
    if jit_compile and precision != "32":
        raise ValueError(f"compile: jit_compile=True with precision={precision!r} is not "
                         "supported (compiled steps do not replay autocast or loss scaling "
                         "yet); use precision='32' with jit_compile, or jit_compile=False")
    clip = resolve_clipping(**clipping)
    opt = resolve_optimizer(model, optimizer)
    loss_fn, loss_name, kind = resolve_loss(loss)
    warn_output_activation(model, loss_fn)
    metric_objs = resolve_metrics(metrics, loss_fn)
    object.__setattr__(model, "optimizer", opt)
    scaler = GradScaler() if precision == "16-mixed" else None
    object.__setattr__(model, "_train_config",
                       TrainConfig(loss_fn, loss_name, kind, metric_objs, clip, jit_compile,
                                   precision=precision, scaler=scaler))


PRECISIONS = ("32", "16-mixed", "bf16-mixed")
_PRECISION_ALIASES = {"32": "32", "32-true": "32", "16-mixed": "16-mixed", "16": "16-mixed",
                      "bf16-mixed": "bf16-mixed", "bf16": "bf16-mixed"}


def resolve_precision(precision: Any) -> str:
    """Lightning's name for `precision`: "32" (also 32, "32-true"), "16-mixed" (float16
    autocast and a GradScaler; also 16, "16") or "bf16-mixed" (bfloat16 autocast, a GPU;
    also "bf16"); anything else is a ValueError naming the accepted values."""
    key = str(precision) if isinstance(precision, int) and not isinstance(
        precision, bool) else precision
    name = _PRECISION_ALIASES.get(key) if isinstance(key, str) else None
    if name is None:
        raise ValueError(f"compile: precision must be one of {PRECISIONS} (or 32, 16, '16', "
                         f"'bf16', '32-true'), got {precision!r}")
    return name


def _last_layer(model: Module) -> Module | None:
    """The module a Sequential (nested or not) ends with; None for other models."""
    last: Module | None = None
    while isinstance(model, Sequential) and len(model):
        last = model = model[len(model) - 1]
    return last


def warn_output_activation(model: Module, loss_fn: Callable | None) -> None:
    """Say it when the last layer and the loss disagree about logits and probabilities: a
    Softmax/Sigmoid before a loss that applies its own, or logits into a loss on
    probabilities. (Training would run, to a worse loss, without a word.)"""
    last = _last_layer(model)
    if last is None or loss_fn is None:
        return
    layer, loss = type(last).__name__, type(loss_fn).__name__
    if isinstance(last, Softmax) and not isinstance(last, LogSoftmax) and isinstance(
            loss_fn, (L.CrossEntropyLoss, L.NLLLoss)) and not isinstance(
            loss_fn, ProbabilityCrossEntropyLoss):
        fix = ("remove the final Softmax (cross_entropy applies softmax itself; take "
               "softmax(model(x)) for probabilities), or use "
               "loss='sparse_categorical_crossentropy' (Keras's, on probabilities)"
               if isinstance(loss_fn, L.CrossEntropyLoss) else
               "use nn.LogSoftmax as the last layer (NLLLoss takes log-probabilities)")
        warnings.warn(f"compile: the model ends with {layer} but the loss {loss} expects "
                      f"logits; {fix}", UserWarning, stacklevel=4)
    elif isinstance(last, Sigmoid) and isinstance(loss_fn, L.BCEWithLogitsLoss):
        warnings.warn(f"compile: the model ends with {layer} but the loss {loss} applies the "
                      "sigmoid itself; remove the final Sigmoid, or use loss='bce' "
                      "(binary_crossentropy, on probabilities)", UserWarning, stacklevel=4)
    elif isinstance(last, Linear) and type(loss_fn) in KERAS_LOSS_KINDS:
        warnings.warn(f"compile: the model ends with {layer} (logits, not probabilities) but "
                      f"the loss {loss} expects probabilities; add a Softmax/Sigmoid layer, or "
                      "use loss='cross_entropy' / 'bce_with_logits' on the logits",
                      UserWarning, stacklevel=4)


def resolve_clipping(clipnorm: float | None = None, global_clipnorm: float | None = None,
                     clipvalue: float | None = None) -> Callable[[list], None] | None:
    """Gradient clipping before each optimizer step, with Keras's option names: `clipnorm`
    caps each parameter's gradient norm, `global_clipnorm` the norm of all of them together
    (`clip_grad_norm_`), `clipvalue` each element (`clip_grad_value_`); None: no clipping."""
    for name, v in (("clipnorm", clipnorm), ("global_clipnorm", global_clipnorm),
                    ("clipvalue", clipvalue)):
        if v is not None and not (isinstance(v, (int, float)) and v > 0):
            raise ValueError(f"compile: {name} must be a number > 0 (or None), got {v!r}")
    if clipnorm is not None and global_clipnorm is not None:
        raise ValueError("compile: pass clipnorm (per parameter) or global_clipnorm, not both")
    if clipnorm is None and global_clipnorm is None and clipvalue is None:
        return None

    def clip(params: list) -> None:
        if clipvalue is not None:
            clip_grad_value_(params, clipvalue)
        if global_clipnorm is not None:
            clip_grad_norm_(params, global_clipnorm)
        if clipnorm is not None:
            for p in params:
                clip_grad_norm_(p, clipnorm)

    return clip


def config_of(model: Module, where: str) -> TrainConfig:
    """The model's TrainConfig, or a clear error when compile() was not called."""
    cfg = model.__dict__.get("_train_config")
    if cfg is None or model.__dict__.get("optimizer") is None:
        raise RuntimeError(
            f"{where}: call model.compile(optimizer=..., loss=..., metrics=[...]) before "
            f"{where}(), e.g. model.compile(optimizer='adam', loss='cross_entropy', "
            "metrics=['accuracy'])"
        )
    return cfg


def _trainable(model: Module) -> list:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"compile: {type(model).__name__} has no trainable parameters")
    return params


def resolve_optimizer(model: Module, optimizer: OptimizerSpec) -> Optimizer:
    """An Optimizer from a name, an Optimizer, or a callable taking the parameter list."""
    if isinstance(optimizer, Optimizer):
        owned = {id(p) for p in model.parameters()}
        if not any(id(p) in owned for g in optimizer.param_groups for p in g["params"]):
            raise ValueError("compile: the optimizer holds none of this model's parameters "
                             "(was it built for another model?)")
        return optimizer
    if isinstance(optimizer, str):
        optimizers.get_optimizer(optimizer, "compile", " or pass an optimizer object")
        return optimizers.create(optimizer, _trainable(model))
    if callable(optimizer):
        opt = optimizer(_trainable(model))
        if not isinstance(opt, Optimizer):
            raise TypeError(f"compile: optimizer factory returned {type(opt).__name__}, "
                            "not an Optimizer")
        return opt
    raise TypeError(f"compile: optimizer must be a name, an Optimizer or a callable, "
                    f"got {optimizer!r}")


def resolve_loss(loss: LossSpec) -> tuple[Callable | None, str, str | None]:
    """(loss callable, display name, kind) from a name, a loss module or a callable."""
    if loss is None:
        return None, "loss", None
    if isinstance(loss, str):
        keras = KERAS_LOSSES.get(loss.lower())
        if keras is not None:  # Keras's names: on probabilities, as in Keras
            return keras(), loss.lower(), KERAS_LOSS_KINDS[keras]
        cls = registry.get_loss(loss, "compile",
                                " or pass a loss object or a function f(y_pred, y_true), or a "
                                f"Keras name {sorted(KERAS_LOSSES)}")
        return cls(), loss.lower(), registry.LOSS_KINDS[cls]
    if callable(loss):
        name = type(loss).__name__ if hasattr(loss, "forward") else getattr(
            loss, "__name__", "loss")
        return loss, name, registry.LOSS_KINDS.get(type(loss), KERAS_LOSS_KINDS.get(type(loss)))
    raise TypeError(f"compile: loss must be a name, a loss module or a callable, got {loss!r}")


def resolve_metrics(metrics: Any, loss_fn: Callable | None) -> list:
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
