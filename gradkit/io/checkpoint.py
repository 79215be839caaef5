"""Training checkpoints: everything a run needs to continue bit for bit after a crash.

One safetensors file, written atomically. Tensors: the model's weights as "model/<name>",
and every array of the other states under its path ("optimizer/state/0/exp_avg"). The
header's `__metadata__["state"]` is JSON (see tree.py) holding the epoch, the optimizer's
options and step counts, the scheduler's state, the DataLoader's position and sampler
generator, gradkit's global generator (init and dropout draw from it) and the `extra`
values. Restoring all of them and continuing the same loop gives the weights an
uninterrupted run would have.

Loading validates the counters before anything changes (`FormatError` naming the field): the
epoch, each optimizer step, the scheduler's counters and the loader's position (an integer,
not negative, and for the loader's `batches_done` inside the epoch of the loader given).

Every checkpoint also holds a run fingerprint (fingerprint.py): the model's structure, the
identity of the loader's data and the `fingerprint=` given. Loading with `fingerprint=`, or
into a loader over other data, refuses a checkpoint of another run (`RunMismatchError`).

`fit` and the checkpoint cooperate without a loader being passed: while `model.fit` runs
(and after it), `save_checkpoint(path, model, ...)` also stores the state of fit's training
loader (its shuffling generator and position) as "fit"; `load_checkpoint(path, model, ...)`
hands it to the model's next `fit(..., initial_epoch=k)`, which then shuffles exactly as the
interrupted run would have.
"""

from __future__ import annotations

import json
import os
from typing import Any, Protocol

import numpy as np

from ..backend import random as gkrandom
from ..nn.module import Module
from .errors import FormatError
from .fingerprint import RunMismatchError, data_identity, differences, model_structure
from .safe import read_safetensors, write_safetensors
from .serialize import (
    CHECKPOINT,
    CHECKPOINT_MODEL_PREFIX,
    MODEL,
    WEIGHTS,
    file_kind,
    header,
    load_tensors,
)
from .tree import pack, unpack

_RESERVED = ("epoch", "extra")
FIT_ATTR = "_gk_fit_loader"  # on a model: its running (or last) fit's training loader
RESUME_ATTR = "_gk_resume"  # on a model: the "fit" part of the checkpoint loaded into it
MAX_STATE_DEPTH = 64  # nesting levels of a checkpoint's state (real ones use a handful)


class Stateful(Protocol):
    """What a checkpoint saves besides the model: an optimizer, an lr scheduler, a
    DataLoader (anything with `state_dict()` and `load_state_dict(state)`)."""

    def state_dict(self) -> dict: ...
    def load_state_dict(self, state: dict, /) -> Any: ...


def save_checkpoint(path: str | os.PathLike, model: Module, optimizer: Stateful | None = None,
                    epoch: int | None = None, scheduler: Stateful | None = None,
                    loader: Stateful | None = None, fingerprint: dict | None = None,
                    scaler: Stateful | None = None, **extra: Any) -> str:
    """Write a checkpoint of `model`, `optimizer`, `scheduler`, `loader`, the random state,
    `epoch` and any `extra` values (numbers, strings, lists, dicts, arrays) to `path`.

    `scaler`: a `gk.GradScaler` (without it, that of `compile(precision="16-mixed")`).

    The write is atomic: a crash during it leaves the previous file at `path` intact.
    `fingerprint`: what identifies the run (`fingerprint.run_fingerprint`, e.g. its
    settings), stored beside the model's structure and the loader's data identity. Without
    `loader`, the training loader of the model's `fit` is saved (see the module docstring).
    """
    bad = [k for k in extra if k in _RESERVED]
    if bad:
        raise ValueError(f"save_checkpoint: {bad[0]!r} is reserved; use another name")
    tensors = {CHECKPOINT_MODEL_PREFIX + k: v for k, v in model.state_dict().items()}
    fit = _fit_part(model) if loader is None else None
    state = {
        "epoch": epoch,
        "optimizer": _part(optimizer),
        "scheduler": _part(scheduler),
        "scaler": _part(scaler if scaler is not None else compiled_scaler(model)),
        "loader": loader.state_dict() if loader is not None else None,
        "rng": gkrandom.get_rng_state(),
        "fingerprint": _fingerprint(model, loader, fit, fingerprint),
        "fit": fit,
        "extra": extra,
    }
    arrays: dict = {}
    packed = {k: pack(v, arrays, k) for k, v in state.items()}
    tensors.update(arrays)
    text = json.dumps(packed, allow_nan=True)
    return write_safetensors(path, tensors, header(CHECKPOINT, state=text))


def _fingerprint(model: Module, loader, fit: dict | None, given: dict | None) -> dict:
    """The model's structure, the saved loader's data identity, then what was `given`."""
    out: dict = {"model": model_structure(model)}
    dataset = getattr(loader, "dataset", None)
    if dataset is not None:
        out["data"] = data_identity(dataset)
    elif fit is not None and isinstance(fit.get("data"), dict):
        out["data"] = fit["data"]
    if given is not None:
        if not isinstance(given, dict):
            raise TypeError("save_checkpoint: fingerprint must be a dict (see gradkit.io."
                            f"fingerprint.run_fingerprint), got {type(given).__name__}")
        out.update(given)
    return out


def compiled_scaler(model: Module) -> Stateful | None:
    """The GradScaler that `model.compile(precision="16-mixed")` made for `fit`, or None."""
    return getattr(model.__dict__.get("_train_config"), "scaler", None)


def _fit_part(model: Module) -> dict | None:
    handle = model.__dict__.get(FIT_ATTR)
    return handle.state_dict() if handle is not None else None


def _part(obj: Stateful | None) -> dict | None:
    if obj is None:
        return None
    return {"class": type(obj).__name__, "state": obj.state_dict()}


def load_checkpoint(path: str | os.PathLike, model: Module, optimizer: Stateful | None = None,
                    scheduler: Stateful | None = None, loader: Stateful | None = None, *,
                    strict: bool = True, restore_rng: bool = True,
                    fingerprint: dict | None = None, scaler: Stateful | None = None) -> dict:
    """Restore a checkpoint into `model` (and the optimizer, scheduler and loader given).

    `scaler`: a `gk.GradScaler` (without it, that of `compile(precision="16-mixed")`, when
    the checkpoint holds a scaler's state).

    Also restores gradkit's global random state (unless `restore_rng=False`). Everything is
    checked first; if any part fails to load, the objects are put back as they were.
    `fingerprint`: the run that continues; a checkpoint whose stored fingerprint differs in
    a part both have raises `RunMismatchError` (as does a `loader` over other data).
    Returns `{"epoch": ..., "extra": {...}, "fingerprint": {...}, **extra}`.
    """
    where = os.fspath(path)
    tensors, state = _read_state(where)
    check_fields(state, where, loader)
    check_run(state, where, fingerprint, loader)
    n = len(CHECKPOINT_MODEL_PREFIX)
    weights = {k[n:]: v for k, v in tensors.items() if k.startswith(CHECKPOINT_MODEL_PREFIX)}
    if scaler is None and isinstance(state.get("scaler"), dict):
        scaler = compiled_scaler(model)
    parts = [(obj, _saved(state, key, obj, where)) for key, obj in (
        ("optimizer", optimizer), ("scheduler", scheduler), ("scaler", scaler))]
    if restore_rng:
        _check_rng(state["rng"], where)
    if loader is not None and not isinstance(state.get("loader"), dict):
        raise ValueError(f"{where}: the checkpoint holds no DataLoader state")

    undo: list[tuple[Stateful, dict]] = [(model, model.state_dict())]
    undo += [(obj, obj.state_dict()) for obj, _ in parts if obj is not None]
    if loader is not None:
        undo.append((loader, loader.state_dict()))
    try:
        load_tensors(model, weights, where, strict)
        for obj, saved in parts:
            if obj is not None:
                obj.load_state_dict(saved)
        if loader is not None:
            loader.load_state_dict(state["loader"])
    except BaseException:
        for obj, before in undo:
            obj.load_state_dict(before)
        raise
    if restore_rng:
        gkrandom.set_rng_state(state["rng"])
    fit = state.get("fit")
    object.__setattr__(model, RESUME_ATTR, fit if loader is None and isinstance(fit, dict)
                       else None)
    extra = state["extra"] if isinstance(state["extra"], dict) else {}
    return {"epoch": state["epoch"], "extra": extra, "fingerprint": state.get("fingerprint"),
            **extra}


def _read_state(where: str) -> tuple[dict, dict]:
    """(tensors, the unpacked state) of the checkpoint file `where`, or a FormatError."""
    tensors, metadata = read_safetensors(where)
    kind = file_kind(metadata, where)
    if kind != CHECKPOINT:
        what = {MODEL: "a gradkit model file (use gk.load)",
                WEIGHTS: "a gradkit weights file (use model.load_weights)"}.get(
                    kind or "", "not a gradkit checkpoint")
        raise FormatError(f"{where} is {what}")
    try:
        raw = json.loads(metadata["state"])
    except RecursionError:
        raise FormatError(f"{where}: the checkpoint state is nested too deeply") from None
    except (KeyError, ValueError) as exc:
        raise FormatError(f"{where}: the checkpoint state in the header is not valid JSON "
                          f"({type(exc).__name__}: {exc})") from None
    if not isinstance(raw, dict) or not {"epoch", "rng", "extra"} <= set(raw):
        raise FormatError(f"{where}: the checkpoint state lacks epoch, rng or extra")
    if _too_deep(raw, MAX_STATE_DEPTH):
        raise FormatError(f"{where}: the checkpoint state is nested too deeply (more than "
                          f"{MAX_STATE_DEPTH} levels)")
    try:
        return tensors, {k: unpack(v, tensors, where) for k, v in raw.items()}
    except RecursionError:
        raise FormatError(f"{where}: the checkpoint state is nested too deeply") from None


def _too_deep(value: Any, limit: int) -> bool:
    """Whether lists/dicts in `value` nest more than `limit` levels (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, (list, dict)):
            if depth > limit:
                return True
            stack.extend((c, depth + 1) for c in (v.values() if isinstance(v, dict) else v))
    return False


def check_run(state: dict, where: str, fingerprint: dict | None,
              loader: Stateful | None) -> None:
    """`RunMismatchError` when the checkpoint's fingerprint differs from `fingerprint`, or
    its data from the data of the `loader` it is to be loaded into."""
    saved = state.get("fingerprint")
    if not isinstance(saved, dict):
        return  # written before fingerprints: nothing to compare
    current = dict(fingerprint or {})
    dataset = getattr(loader, "dataset", None)
    if dataset is not None and "data" not in current:
        current["data"] = data_identity(dataset)
    found = differences(saved, current)
    if found:
        raise RunMismatchError(f"{where} is a checkpoint of another run ({'; '.join(found)})")


def _saved(state: dict, key: str, obj, where: str):
    if obj is None:
        return None
    part = state.get(key)
    if not isinstance(part, dict) or "state" not in part:
        raise ValueError(f"{where}: the checkpoint holds no {key} state, but a "
                         f"{type(obj).__name__} was given")
    if part.get("class") != type(obj).__name__:
        raise ValueError(f"{where}: the checkpoint holds the state of a {part.get('class')} "
                         f"{key}, not of a {type(obj).__name__}")
    return part["state"]


def _check_rng(rng, where: str) -> None:
    try:
        np.random.default_rng().bit_generator.state = rng["cpu"]
    except (TypeError, ValueError, KeyError) as exc:
        raise FormatError(f"{where}: invalid random state in the checkpoint ({exc})") from None


# ---- field checks -------------------------------------------------------------------------
def _count(value, field: str, where: str, low: int = 0) -> int | None:
    """`value` as an int >= `low` (None stays None), else a FormatError naming `field`."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise FormatError(f"{where}: the checkpoint field {field} must be an integer >= {low}, "
                          f"got {value!r} ({type(value).__name__})")
    if value < low:
        raise FormatError(f"{where}: the checkpoint field {field} must be an integer >= {low}, "
                          f"got {value}")
    return int(value)


def check_fields(state: dict, where: str, loader: Stateful | None = None) -> None:
    """Refuse a checkpoint whose counters no run could have written (an epoch "three", an
    optimizer step -3, a loader 1e9 batches into its epoch...): `FormatError` naming the
    field. `loader`: the DataLoader it will be loaded into (bounds `batches_done`)."""
    _count(state.get("epoch"), "epoch", where)
    optimizer = state.get("optimizer")
    if isinstance(optimizer, dict) and isinstance(optimizer.get("state"), dict):
        per_param = optimizer["state"].get("state")
        if isinstance(per_param, dict):
            for index, entry in per_param.items():
                if isinstance(entry, dict) and "step" in entry:
                    _count(entry["step"], f"optimizer.state.{index}.step", where)
    scheduler = state.get("scheduler")
    if isinstance(scheduler, dict) and isinstance(scheduler.get("state"), dict):
        sched = scheduler["state"]
        _count(sched.get("last_epoch"), "scheduler.last_epoch", where, low=-1)
        _count(sched.get("_step_count"), "scheduler._step_count", where)
    scaler = state.get("scaler")
    if isinstance(scaler, dict) and isinstance(scaler.get("state"), dict):
        _count(scaler["state"].get("_growth_tracker"), "scaler._growth_tracker", where)
    if isinstance(state.get("loader"), dict):
        _check_loader(state["loader"], where, loader)
    fit = state.get("fit")
    if isinstance(fit, dict) and isinstance(fit.get("loader"), dict):
        _check_loader(fit["loader"], where, None, "fit.loader")


def _check_loader(saved: dict, where: str, loader: Stateful | None,
                  field: str = "loader") -> None:
    _count(saved.get("epoch"), f"{field}.epoch", where)
    done = _count(saved.get("batches_done", 0), f"{field}.batches_done", where)
    sampler = saved.get("sampler")
    if isinstance(sampler, dict):
        _count(sampler.get("epoch"), f"{field}.sampler.epoch", where)
        seed = sampler.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise FormatError(f"{where}: the checkpoint field {field}.sampler.seed must be an "
                              f"integer, got {seed!r}")
    size = _batches(loader)
    if done and size is not None and done >= size:
        raise FormatError(f"{where}: the checkpoint field loader.batches_done is {done}, but "
                          f"the DataLoader given has {size} batches per epoch: the checkpoint "
                          "belongs to other data or another batch size")


def _batches(loader) -> int | None:
    try:
        return len(loader) if loader is not None else None
    except TypeError:
        return None
