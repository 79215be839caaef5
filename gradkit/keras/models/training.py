"""Keras's training methods (`compile`, `fit`, `evaluate`, `predict`, `*_on_batch`) for
Keras models, running gradkit's own loop (`gradkit.train`) underneath.

`compile` resolves Keras's names now and hands gradkit's `compile` the result once the
model is built (a `Sequential` without an input shape is built by `fit` from the data, as
Keras does): a `CompiledLoss` in Keras's argument order, Keras's metrics under the names the
user wrote, and a `keras.optimizers` object (Keras's update rules).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ...autograd import no_grad
from ...nn.training import TrainingMixin
from .. import callbacks as keras_callbacks
from .. import metrics as keras_metrics
from .. import optimizers, tree
from ..engine import Layer, as_tensor
from . import compile_utils, data
from .summary import print_summary


@dataclass
class _Spec:
    optimizer: Any
    loss: Any
    loss_weights: Any
    metrics: Any
    jit_compile: bool = False


def _looks_like_metrics(value: Any) -> bool:
    items = value if isinstance(value, (list, tuple)) else [value]
    return any(isinstance(v, (str, keras_metrics.Metric)) or callable(v)
               or isinstance(v, (list, tuple)) for v in items)


@contextmanager
def _mode(model: Any, training: bool) -> Iterator[None]:
    """Every layer in training (or inference) mode; each one's own mode back afterwards."""
    saved = [(m, m.training) for m in model.modules()]
    model.train(training)
    try:
        yield
    finally:
        for m, mode in saved:
            object.__setattr__(m, "training", mode)


def _verbose(verbose: Any) -> int:
    return 1 if verbose == "auto" else int(verbose)


class KerasTrainer(Layer):
    """The training side of `keras.Model`: Keras's signatures over gradkit's training."""

    optimizer: Any

    def _input_names(self) -> list[str]:
        raise NotImplementedError

    def _output_names(self) -> list[str]:
        raise NotImplementedError

    def _output_layers(self) -> list:
        raise NotImplementedError

    def compile(  # type: ignore[override]
            self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None,
                metrics: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto",
                auto_scale_loss: bool = True, **kwargs: Any) -> None:
        """Keras's compile; `compile(optimizer, loss, metrics)` given positionally (Keras 2)
        works too."""
        if kwargs:
            raise TypeError(f"compile: unexpected argument(s) {sorted(kwargs)}")
        if weighted_metrics is not None:
            raise NotImplementedError("compile(weighted_metrics=) is not in gradkit's Keras "
                                      "(there is no sample_weight); use metrics=")
        if loss_weights is not None and metrics is None and _looks_like_metrics(loss_weights):
            loss_weights, metrics = None, loss_weights  # Keras 2's positional order
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"compile: jit_compile must be True, False or 'auto', got "
                             f"{jit_compile!r}")
        opt = optimizers.get(optimizer)
        d = self.__dict__
        d["optimizer"], d["_native_ready"] = opt, False
        # jit_compile=True: gk.compile's traced steps; "auto" stays eager (as Keras on torch)
        d["_compile_spec"] = _Spec(opt, loss, loss_weights, metrics, jit_compile is True)
        if self.built:
            self._finish_compile()

    @property
    def compiled(self) -> bool:
        return self.__dict__.get("_compile_spec") is not None

    def _finish_compile(self) -> None:
        spec = self.__dict__["_compile_spec"]
        names = self._output_names()
        losses, weights = compile_utils.resolve_losses(spec.loss, spec.loss_weights, names)
        metrics = compile_utils.resolve_metrics(spec.metrics, names)
        multi = len(names) > 1
        if multi:
            metrics = [compile_utils.OutputLoss(fn, i, f"{n}_loss") for i, (fn, n) in
                       enumerate(zip(losses, names)) if fn is not None] + metrics
        for fn, layer in zip(losses, self._output_layers()):
            compile_utils.warn_activation_mismatch(fn, layer)
        spec.optimizer.build(self.trainable_weights)
        if not spec.optimizer.param_groups:
            raise ValueError(f"compile: model {self.name!r} has no trainable weights")
        TrainingMixin.compile(self, optimizer=spec.optimizer,
                              loss=compile_utils.CompiledLoss(self, losses, weights, multi),
                              metrics=metrics, jit_compile=spec.jit_compile)
        self.__dict__["_native_ready"] = True

    def _ready(self, x: Any, where: str) -> None:
        if not self.built:
            self._build_from_data(x)
        if not self.compiled:
            raise RuntimeError(f"{where}: call model.compile(optimizer=..., loss=..., "
                               f"metrics=[...]) before {where}()")
        if not self.__dict__.get("_native_ready"):
            self._finish_compile()

    def _build_from_data(self, x: Any) -> None:
        device = self._device  # where .to() put the model (its layers build there)
        sample = tree.map_structure(lambda t: t.to(device) if t.device != device else t,
                                    as_tensor(data.first_inputs(x)))
        with _mode(self, False), no_grad():
            self(sample)

    def fit(  # type: ignore[override]
            self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: Any = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1) -> Any:
        """Keras's fit over gradkit's loop; returns the History (`history.history["acc"]`)."""
        if class_weight is not None or sample_weight is not None:
            raise NotImplementedError("fit(class_weight=/sample_weight=) is not in gradkit's "
                                      "Keras; resample the data or write the weighting into "
                                      "a custom loss")
        if steps_per_epoch is not None or validation_freq != 1:
            raise NotImplementedError("fit(steps_per_epoch=, validation_freq=) are not in "
                                      "gradkit's Keras (pass a smaller x, or a DataLoader)")
        batch_size = batch_size or 32
        x, y, nested = data.prepare(self, x, y)
        self._ready(x if nested is None else nested, "fit")
        if nested is not None:
            if validation_split and validation_data is None:
                nested, val = nested.split(validation_split)
                validation_data, validation_split = data.loader(val, batch_size, False, self), 0.0
            x, y = data.loader(nested, batch_size, shuffle, self), None
        if validation_data is not None:
            validation_data = self._validation(validation_data, validation_batch_size or
                                               batch_size)
        cbs = keras_callbacks.for_fit(callbacks)
        initial_epoch = keras_callbacks.restore_backups(cbs, self, initial_epoch)
        return TrainingMixin.fit(self, x, y, epochs=epochs, batch_size=batch_size,
                                 validation_split=validation_split,
                                 validation_data=validation_data, shuffle=shuffle,
                                 callbacks=cbs, verbose=_verbose(verbose),
                                 initial_epoch=initial_epoch)

    def _validation(self, validation_data: Any, batch_size: int) -> Any:
        if data.is_stream(validation_data):
            return data.BatchStream(validation_data)
        if not isinstance(validation_data, (tuple, list)):
            return validation_data
        if len(validation_data) == 3:
            raise NotImplementedError("validation_data with sample weights is not in "
                                      "gradkit's Keras; pass (x_val, y_val)")
        vx, vy, nested = data.prepare(self, *validation_data)
        return (vx, vy) if nested is None else data.loader(nested, batch_size, False, self)

    def evaluate(  # type: ignore[override]
            self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: list | None = None, return_dict: bool = False) -> Any:
        """The loss and metrics: a float when there are no metrics, else [loss, *metrics]
        (or a dict with `return_dict=True`)."""
        if sample_weight is not None:
            raise NotImplementedError("evaluate(sample_weight=) is not in gradkit's Keras")
        x, y, nested = data.prepare(self, x, y)
        self._ready(x if nested is None else nested, "evaluate")
        if nested is not None:
            x, y = data.loader(nested, batch_size or 32, False, self), None
        logs = TrainingMixin.evaluate(self, x, y, batch_size=batch_size or 32,
                                      verbose=_verbose(verbose),
                                      callbacks=keras_callbacks.convert(callbacks))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(  # type: ignore[override]
            self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: list | None = None) -> Any:
        """The outputs as NumPy arrays (a list for several outputs)."""
        x, _, nested = data.prepare(self, x, None)
        if not self.built:
            self._build_from_data(x if nested is None else nested)
        if nested is not None:
            x = data.loader(nested, batch_size or 32, False, self)
        out = TrainingMixin.predict(self, x, batch_size=batch_size or 32, verbose=0,
                                    callbacks=keras_callbacks.convert(callbacks))
        return list(out) if isinstance(out, tuple) else out

    def _batch(self, x: Any, y: Any) -> tuple:
        x, y, nested = data.prepare(self, x, y)
        if nested is not None:
            batch = nested.__getitems__(slice(None))
            x, y = batch[0], batch[1] if len(batch) > 1 else None
        device = data.device_of(self)

        def moved(v: Any) -> Any:
            t = as_tensor(v)
            return tree.map_structure(lambda a: a.to(device) if a.device != device else a, t)

        return moved(x), (None if y is None else moved(y))

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       class_weight: Any = None, return_dict: bool = False) -> Any:
        """One optimizer step on (x, y); returns the loss (and metrics) of that batch."""
        xb, yb = self._batch(x, y)
        self._ready(xb, "train_on_batch")
        cfg = self.__dict__["_train_config"]
        with _mode(self, True):
            self.optimizer.zero_grad()
            y_pred = self(xb)
            loss = cfg.loss(y_pred, yb)
            loss.backward()
            self.optimizer.step()
        return self._batch_logs(cfg, float(loss.item()), yb, y_pred, return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """The loss (and metrics) of one batch, in inference mode."""
        xb, yb = self._batch(x, y)
        self._ready(xb, "test_on_batch")
        cfg = self.__dict__["_train_config"]
        with _mode(self, False), no_grad():
            y_pred = self(xb)
            loss = cfg.loss(y_pred, yb)
        return self._batch_logs(cfg, float(loss.item()), yb, y_pred, return_dict)

    def _batch_logs(self, cfg: Any, loss: float, y: Any, y_pred: Any, as_dict: bool) -> Any:
        with no_grad():
            values = compile_utils.batch_values(cfg.metrics, y, y_pred)
        if as_dict:
            return {"loss": loss, **{m.name: v for m, v in zip(cfg.metrics, values)}}
        return loss if not values else [loss, *values]

    def predict_on_batch(self, x: Any) -> Any:
        """The outputs for one batch as NumPy arrays."""
        xb, _ = self._batch(x, None)
        with _mode(self, False), no_grad():
            out = self(xb)
        return tree.map_structure(lambda t: t.numpy(), out)

    @property
    def metrics_names(self) -> list[str]:
        cfg = self.__dict__.get("_train_config")
        return ["loss"] + ([m.name for m in cfg.metrics] if cfg is not None else [])

    def summary(  # type: ignore[override]
            self, line_length: int | None = None, positions: list | None = None,
                print_fn: Any = None, expand_nested: bool = False, show_trainable: bool = False,
                layer_range: Any = None) -> str:
        """Print Keras's summary table (and return its text)."""
        return print_summary(self, line_length, positions, print_fn, expand_nested,
                             show_trainable, layer_range)
