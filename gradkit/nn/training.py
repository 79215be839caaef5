"""The one hook through which Keras-style training reaches every `Module`.

`Module` inherits from `TrainingMixin`, so `compile`, `fit`, `evaluate`, `predict`,
`train_step`, `test_step`, `save_weights` and `load_weights` exist on every model (a
`Sequential` and a hand-written subclass alike). Their work lives in layers above `nn`
(`gradkit.train`, `gradkit.io`): `gradkit.train` installs a `Trainer` here when it is imported
(`install_trainer`). `nn` never imports the layers above it; the first training call loads
`gradkit.train` by name (`importlib`), so that `import gradkit` stays fast. Nothing here may
touch the call path (`Module.__call__` / `forward`): calling a model must stay as cheap as
calling a function.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any, Protocol


class Trainer(Protocol):
    """What `gradkit.train` provides to the Module methods below (one object, installed once)."""

    def compile(self, model: Any, optimizer: Any, loss: Any, metrics: Any,
                **options: Any) -> None: ...
    def fit(self, model: Any, x: Any, y: Any, **options: Any) -> Any: ...
    def evaluate(self, model: Any, x: Any, y: Any, **options: Any) -> dict: ...
    def predict(self, model: Any, x: Any, **options: Any) -> Any: ...
    def step(self, model: Any, batch: Any, where: str) -> Any: ...
    def save_weights(self, model: Any, path: Any) -> str: ...
    def load_weights(self, model: Any, path: Any, strict: bool) -> Any: ...


_TRAINER: list[Trainer] = []


def install_trainer(trainer: Trainer) -> None:
    """Make `trainer` do the work of `Module.compile/fit/...` (called by gradkit.train)."""
    _TRAINER[:] = [trainer]


def _trainer() -> Trainer:
    if not _TRAINER:  # first use: load the layer that installs it (kept out of `import gradkit`)
        importlib.import_module("gradkit.train")
    return _TRAINER[0]


class TrainingMixin:
    """Keras-style training methods shared by every Module (the work is in gradkit.train)."""

    __slots__ = ()

    stop_training = False  # set True (e.g. from a callback) to end fit after this batch
    automatic_optimization = True  # False: train_step does backward/step itself
    optimizer: Any  # set by compile()
    history: Any  # the History of the last fit()

    if TYPE_CHECKING:  # Module defines it; declared here for the type checker only
        def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

    def compile(self, optimizer: Any = "adam", loss: Any = None, metrics: Any = None,
                clipnorm: float | None = None, global_clipnorm: float | None = None,
                clipvalue: float | None = None, jit_compile: bool = False,
                precision: str | int = "32") -> None:
        """Choose the optimizer, loss and metrics that `fit`/`evaluate` use.

        optimizer: "sgd", "adam", "adamw", "rmsprop", "adagrad" (the names of
        `gradkit.optim.registry`, with Keras's default learning rates: 0.01 for SGD, 0.001
        for the others), an Optimizer, or a callable `f(params) -> Optimizer`; it becomes
        `model.optimizer`.
        loss: "cross_entropy", "mse", "mae", "bce", "bce_with_logits", "huber", "nll" (the
        names of `gradkit.nn.registry.LOSSES`), a loss module, or a callable
        `f(y_pred, y_true) -> Tensor`.
        metrics: names ("accuracy", "mae", "f1", ...), `gradkit.metrics.Metric` objects or
        functions `f(y_true, y_pred) -> float`.
        clipnorm / global_clipnorm / clipvalue: gradient clipping before each optimizer step
        (Keras's names): each parameter's gradient norm, the norm of all of them together,
        or each element (`gk.nn.utils.clip_grad_norm_` / `clip_grad_value_`).
        jit_compile: `fit`/`evaluate`/`predict` replay traced steps (`gk.compile`, the same
        numbers; docs/compile.md).
        precision: "32" (default), "16-mixed" (forward and loss under
        `gk.autocast("float16")`, updates through a `gk.GradScaler`) or "bf16-mixed"
        (bfloat16 autocast, no scaler; needs a GPU), Lightning's names (also 32, 16, "16",
        "bf16"); parameters stay float32 (docs/precision.md).
        """
        _trainer().compile(self, optimizer, loss, metrics, clipnorm=clipnorm,
                           global_clipnorm=global_clipnorm, clipvalue=clipvalue,
                           jit_compile=jit_compile, precision=precision)

    def fit(self, x: Any = None, y: Any = None, epochs: int = 1, batch_size: int = 32,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
            callbacks: list | None = None, verbose: int = 1, initial_epoch: int = 0,
            distributed: Any = False) -> Any:
        """Train for `epochs` epochs; returns a `History` (also kept as `model.history`).

        x, y: NumPy arrays or Tensors, or a DataLoader / Dataset of (x, y) batches as x (then
        y=None). validation_split: the last fraction of x/y (taken before shuffling) is held
        out; or validation_data=(x_val, y_val) or a DataLoader. shuffle: a new order each
        epoch from a loader seeded by gradkit's generator (`gk.manual_seed` reproduces runs;
        a DataLoader given as x keeps its own order and state).
        callbacks: `gradkit.callbacks` objects. verbose: 0 silent, 1 a progress bar per epoch
        (one line per epoch when stdout is not a terminal), 2 one line per epoch.
        initial_epoch: resume from this epoch; the model's History continues (pass the old
        History in callbacks when resuming in a new process).
        distributed: True (or a `gradkit.distributed.DataParallel` of this model) trains
        data-parallel over the ranks of an `mpiexec` job: `batch_size` is the global batch,
        each rank takes `batch_size // world_size` of it; logs are means over all ranks; only
        rank 0 prints and writes files (docs/distributed.md).

        Checked before training: x/y lengths, empty or NaN/inf data, the labels' dtype and
        range for the loss. For element-wise losses (mse, mae, huber, bce, bce_with_logits)
        an (N,) target meets an (N, 1) output as (N, 1), and integer targets become float.
        A warning is printed once (verbose > 0) when validation loss starts rising while
        training loss keeps falling (`history.overfit_epoch`).
        """
        return _trainer().fit(self, x, y, epochs=epochs, batch_size=batch_size,
                   validation_split=validation_split, validation_data=validation_data,
                   shuffle=shuffle, callbacks=callbacks, verbose=verbose,
                   initial_epoch=initial_epoch, distributed=distributed)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int = 256, verbose: int = 0,
                 callbacks: list | None = None) -> dict:
        """Loss and metrics over (x, y) or a DataLoader, e.g. {"loss": ..., "accuracy": ...}
        (eval mode, no gradients)."""
        return _trainer().evaluate(self, x, y, batch_size=batch_size, verbose=verbose,
                        callbacks=callbacks)

    def predict(self, x: Any, batch_size: int = 256, verbose: int = 0,
                callbacks: list | None = None) -> Any:
        """The model's outputs for x (array, Tensor or DataLoader) as a NumPy array (eval mode,
        no gradients)."""
        return _trainer().predict(self, x, batch_size=batch_size, verbose=verbose,
                                  callbacks=callbacks)

    def train_step(self, batch: Any) -> Any:
        """One training step's loss; override to customise (Lightning's training_step).

        Return the loss Tensor, or a dict with "loss" and optionally "y_pred" (to update the
        compiled metrics against the batch's y, or against "y_true" when given) and other
        scalars (logged as epoch means).
        The loop then runs backward and the optimizer step (unless
        `automatic_optimization` is False), callbacks and progress as usual. The default
        runs `loss(self(x), y)` on an (x, y) batch.
        """
        return _trainer().step(self, batch, "train_step")

    def test_step(self, batch: Any) -> Any:
        """One evaluation step (under no_grad, eval mode); same return forms as train_step."""
        return _trainer().step(self, batch, "test_step")

    def predict_step(self, batch: Any) -> Any:
        """One prediction step: the model applied to the batch's inputs (its first item)."""
        return self(batch[0] if isinstance(batch, (tuple, list)) else batch)

    # ---- saving (the work is in gradkit.io) ----------------------------------------------
    def save_weights(self, path: str | os.PathLike[str]) -> str:
        """Write this model's `state_dict()` to `path` as safetensors (atomically)."""
        return _trainer().save_weights(self, path)

    def load_weights(self, path: str | os.PathLike[str], strict: bool = True) -> Any:
        """Load weights from a safetensors file in place (keys and shapes checked); also
        reads `gk.save` files, checkpoints and PyTorch's `safetensors.torch.save_file`."""
        return _trainer().load_weights(self, path, strict)
