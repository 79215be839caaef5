"""How `fit` resumes exactly from a checkpoint: its training loader's state goes in and out.

While `fit` runs, the model holds a `FitLoader` (`model._gk_fit_loader`): what
`save_checkpoint(path, model, ...)` stores, without a loader being passed, as the checkpoint's
"fit" part (the loader's position and shuffling generator, its sampler's class, the batch size
and the data's identity). `load_checkpoint(path, model, ...)` leaves that part on the model;
the next `fit(..., initial_epoch=k)` takes it: it builds its shuffling loader with the saved
seed (so it draws nothing from gradkit's generator, which the checkpoint restored) and puts
the loader where the interrupted run's was. Other data or another batch size is warned about
and starts a fresh order.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

from ..data import DataLoader
from ..io.checkpoint import FIT_ATTR, RESUME_ATTR
from ..io.fingerprint import data_identity, differences
from ..nn.module import Module


class FitLoader:
    """The training loader of a model's running fit (weakly held), then its final state."""

    def __init__(self, loader: DataLoader) -> None:
        self._ref: Any = weakref.ref(loader)
        self._final: dict | None = None
        self.sampler = type(loader.sampler).__name__
        self.batch_size = loader.batch_size
        self.data = data_identity(loader.dataset)

    def state_dict(self) -> dict:
        loader = self._ref() if self._ref is not None else None
        state = _position(loader) if loader is not None else self._final
        return {"loader": state, "sampler": self.sampler, "batch_size": self.batch_size,
                "data": self.data}

    def freeze(self) -> None:
        """Keep the loader's last state and let the loader (and its data) go."""
        self._final = self.state_dict()["loader"]
        self._ref = None


def _position(loader: DataLoader) -> dict | None:
    """The loader's state_dict, or None for a loader-like object that keeps no position
    (e.g. the Keras dialect's stream of ready batches)."""
    try:
        return loader.state_dict()
    except (AttributeError, TypeError):
        return None


def attach(model: Module, loader: DataLoader) -> FitLoader:
    """Give `model` its fit's loader (for save_checkpoint); the checkpoint's part is used up."""
    handle = FitLoader(loader)
    object.__setattr__(model, FIT_ATTR, handle)
    object.__setattr__(model, RESUME_ATTR, None)
    return handle


def take(model: Module, initial_epoch: int) -> dict | None:
    """The checkpoint's "fit" part left on `model` by load_checkpoint, or None; a fit from
    epoch 0 starts afresh (`attach` then drops it)."""
    saved = model.__dict__.get(RESUME_ATTR)
    if not isinstance(saved, dict) or initial_epoch == 0 or not isinstance(
            saved.get("loader"), dict):
        return None
    return saved


def seed_of(saved: dict | None) -> int | None:
    """The shuffling seed of the saved loader (None when it did not shuffle)."""
    if saved is None or saved.get("sampler") != "RandomSampler":
        return None
    sampler = saved["loader"].get("sampler")
    seed = sampler.get("seed") if isinstance(sampler, dict) else None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def restore(loader: DataLoader, saved: dict) -> bool:
    """Put `loader` where the saved one was; False (with a warning when the data or batch
    size differ) when it cannot be the same run's loader."""
    if saved.get("sampler") != type(loader.sampler).__name__:
        return False  # shuffle on one side only: not a continuation of that order
    if loader.epoch != 0 or loader.state_dict()["batches_done"]:
        return False  # the caller positioned this loader already
    found = differences({"data": saved.get("data")}, {"data": data_identity(loader.dataset)})
    if saved.get("batch_size") != loader.batch_size:
        found.append(f"batch size {saved.get('batch_size')} in the checkpoint, "
                     f"{loader.batch_size} here")
    if found:
        warnings.warn(f"fit: the checkpoint loaded into this model was trained on other data "
                      f"({found[0]}), so its shuffling order is not continued; this fit "
                      "starts a new order", stacklevel=3)
        return False
    loader.load_state_dict(saved["loader"])
    return True
