"""`predict` without its machinery where that changes nothing: small in-memory inputs.

`fit.predict` builds a DataLoader, a CallbackList and a compiled-step lookup, and walks the
module tree twice to set eval mode; for one small batch that costs more than the forward.
`predict` here gives the same result directly when nothing of that is needed: a float32
NumPy array (or a Tensor of one) on the CPU, no callbacks, no progress bar, a model on the
CPU that neither overrides `predict_step` nor compiles it nor asks for mixed precision. The
batches are the same read-only views the loader makes, the model runs in eval mode under
no_grad (each module's mode restored afterwards), and the outputs are concatenated as
`fit.predict` does.
Anything else: None, and `fit.predict` takes its normal path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn.module import Module
from ..tensor import Tensor
from .steps import overrides


def modules(model: Module) -> list[Module]:
    """`model` and every sub-module, each once (what `Module.modules()` yields, cheaper)."""
    out, seen, stack = [], set(), [model]
    while stack:
        m = stack.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        out.append(m)
        stack.extend(c for c in reversed(m._modules.values()) if c is not None)
    return out


class EvalMode:
    """Context manager: eval mode on every module (`mods`: `modules(model)`), each module's
    own mode back afterwards."""

    def __init__(self, model: Module, mods: list[Module] | None = None) -> None:
        self.model, self.mods = model, mods

    def __enter__(self) -> EvalMode:
        self.saved = [(m, m.training) for m in self.mods or modules(self.model)]
        if type(self.model).train is not Module.train:
            self.model.train(False)  # a model with its own train(): call it, as fit does
        else:
            for m, _ in self.saved:
                object.__setattr__(m, "training", False)
        return self

    def __exit__(self, *exc: Any) -> None:
        for m, mode in self.saved:
            object.__setattr__(m, "training", mode)


def _applies(model: Module, arr: Any, verbose: int, callbacks: Any,
             mods: list[Module]) -> bool:
    if callbacks or verbose or type(arr) is not np.ndarray or arr.dtype != np.float32:
        return False
    if arr.ndim == 0 or not len(arr) or overrides(model, "predict_step"):
        return False
    cfg = model.__dict__.get("_train_config")
    if cfg is not None and (getattr(cfg, "jit_compile", False)
                            or getattr(cfg, "autocast_dtype", None) is not None):
        return False  # compiled or mixed-precision steps: fit.predict's path
    return all(type(p._data) is np.ndarray for m in mods for p in m._parameters.values()
               if p is not None)


def predict(model: Module, x: Any, batch_size: int, verbose: int = 0,
            callbacks: Any = None) -> np.ndarray | None:
    """The outputs `fit.predict(model, x, batch_size)` gives, or None where this path does
    not apply (see the module's docstring)."""
    arr = x._data if isinstance(x, Tensor) else x
    if type(arr) is not np.ndarray:
        return None
    mods = modules(model)
    if not _applies(model, arr, verbose, callbacks, mods):
        return None
    arr = np.ascontiguousarray(arr)  # as TensorDataset stores it
    outs = []
    with EvalMode(model, mods), no_grad():
        for start in range(0, len(arr), batch_size):
            view = arr[start:start + batch_size]
            view.flags.writeable = False  # the loader's read-only views
            out = model(Tensor._wrap(view))
            if not isinstance(out, Tensor) or type(out._data) is not np.ndarray:
                if start == 0:
                    return None  # tuples, dicts, ...: fit.predict's path
                raise TypeError(f"predict: the model returned {type(out).__name__} for a "
                                "batch after returning a Tensor for the first")
            outs.append(out._data)
    return np.concatenate(outs, axis=0)  # a new array, as fit.predict returns
