"""fit/evaluate/predict on compiled steps: `model.compile(..., jit_compile=True)`.

The loop stays the eager loop (callbacks, metrics, progress bar, running sums); only the
work of one batch is a compiled function (`gk.compile`, docs/compile.md):
- training: zero_grad, the step (forward and loss), backward, gradient clipping and the
  optimizer update, in one function marked `updates = True` (the loop leaves them to it);
- evaluation and prediction: the test / predict step (the loop runs them in eval mode
  under no_grad).
Each signature (the batch's shapes and dtypes, the modules' modes) runs eagerly once, is
traced on its next call and replayed after that: the last, partial batch of an epoch is
eager in the first epoch, traced in the second and replayed from the third. The loop
updates the metrics from the step's outputs (copies of the plan's buffers), so they see
the eager values. The data checks inside layers and losses (NaN inputs, labels out of
range) are guards of the plan: a bad batch runs eagerly and raises the eager error. The
compiled functions are kept on the model's TrainConfig, so a second fit() replays the
plans of the first; compile() again starts afresh. Models on a GPU run eagerly (with a
warning) until gk.compile traces CuPy arrays.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..jit import CompiledFunction, CompileWarning, TraceError
from ..jit import compile as jit_compile
from ..nn.module import Module
from .backward import backward
from .config import TrainConfig


def _on_cpu(model: Module) -> bool:
    return all(type(p._data) is np.ndarray for p in model.parameters())


def _eager_on_gpu(model: Module, cfg: TrainConfig) -> bool:
    """True (once with a warning) when the model's parameters are not NumPy arrays."""
    if _on_cpu(model):
        return False
    if not cfg.jit_steps.get("warned"):
        cfg.jit_steps["warned"] = True
        warnings.warn("compile(jit_compile=True): the model is on a GPU, where gk.compile "
                      "does not trace yet; fit/evaluate/predict run eagerly", CompileWarning,
                      stacklevel=4)
    return True


def _state(model: Module, cfg: TrainConfig, *more: Any) -> list:
    """What the steps touch besides their batch: the model, a loss module, `more`."""
    return [model, *([cfg.loss] if isinstance(cfg.loss, Module) else []), *more]


def _hinted(fn: CompiledFunction) -> Callable:
    """`fn` whose TraceError says how to train without compiling."""
    def call(batch: Any) -> Any:
        try:
            return fn(batch)
        except TraceError as exc:
            raise TraceError(f"{exc} (or compile the model with jit_compile=False)") from None

    call.compiled = fn  # type: ignore[attr-defined]  # its plans and traces (tests read them)
    return call


def train_step(model: Module, cfg: TrainConfig, step: Callable) -> Callable:
    """The whole training step of one batch, compiled: `(loss, y, y_pred, extras)`."""
    if _eager_on_gpu(model, cfg):
        return step
    opt = model.optimizer
    key = ("train", id(opt))
    found = cfg.jit_steps.get(key)
    if found is not None:
        return found
    params = [p for g in opt.param_groups for p in g["params"]]
    clip = cfg.clip

    def train_batch(batch: Any) -> tuple:
        opt.zero_grad()
        loss, y, y_pred, extras = step(batch)
        backward(loss)
        if clip is not None:
            clip(params)
        opt.step()
        return loss, y, y_pred, extras

    fn = _hinted(jit_compile(train_batch, state=_state(model, cfg, opt)))
    fn.updates = True  # type: ignore[attr-defined]  # the loop does not zero/backward/step
    cfg.jit_steps[key] = fn
    return fn


def eval_step(model: Module, cfg: TrainConfig | None, step: Callable, kind: str) -> Callable:
    """The test or predict step (`kind`) of one batch, compiled (kept under `kind`)."""
    if cfg is None or not cfg.jit_compile or _eager_on_gpu(model, cfg):
        return step
    found = cfg.jit_steps.get(kind)
    if found is None:
        def run(batch: Any) -> Any:
            return step(batch)

        run.__name__ = f"{kind}_batch"
        found = cfg.jit_steps[kind] = _hinted(jit_compile(run, state=_state(model, cfg)))
    return found
