"""`gk.save` / `gk.load` (architecture + weights) and `save_weights` / `load_weights`.

A model file is ONE safetensors file: the tensors are the model's `state_dict()` under its
own dotted names (so any safetensors reader, PyTorch's included, sees plain weights), and
the header's `__metadata__` holds

    format          "gradkit.model" (or "gradkit.weights" for save_weights files)
    format_version  "1"
    gradkit_version the writer's version
    architecture    JSON: {"model": <node, see config.py>, "training": bool}
"""

from __future__ import annotations

import json
import os

from .._version import __version__
from ..nn.module import IncompatibleKeys, Module, StateDictError
from .config import architecture, build
from .errors import FormatError
from .safe import read_safetensors, write_safetensors

FORMAT_VERSION = 1
MODEL, WEIGHTS, CHECKPOINT = "gradkit.model", "gradkit.weights", "gradkit.checkpoint"
CHECKPOINT_MODEL_PREFIX = "model/"
STATE_DICT = "state_dict"  # `content` of a weights file written by gk.save(a dict)


def _version() -> str:
    return __version__


def header(kind: str, **fields: str) -> dict[str, str]:
    """The `__metadata__` of a gradkit file of `kind`."""
    return {"format": kind, "format_version": str(FORMAT_VERSION),
            "gradkit_version": _version(), **fields}


def file_kind(metadata: dict, where: str) -> str | None:
    """The gradkit format of a file (None for a foreign safetensors file), version-checked."""
    kind = metadata.get("format")
    if kind not in (MODEL, WEIGHTS, CHECKPOINT):
        return None
    version = metadata.get("format_version", "")
    if not version.isdigit():
        raise FormatError(f"{where}: invalid format_version {version!r}")
    if int(version) > FORMAT_VERSION:
        raise FormatError(f"{where}: written by a newer gradkit ({kind} format version "
                          f"{version}; this gradkit reads up to {FORMAT_VERSION}): upgrade "
                          "gradkit to read it")
    return kind


# ---- weights --------------------------------------------------------------------------------
def save_weights(model: Module, path: str | os.PathLike) -> str:
    """Write `model.state_dict()` to `path` as safetensors (atomically); returns the path."""
    return write_safetensors(path, model.state_dict(), header(WEIGHTS))


def load_weights(model: Module, path: str | os.PathLike, strict: bool = True) -> IncompatibleKeys:
    """Load a safetensors file's tensors into `model` in place (keys and shapes checked).

    Reads files from `save_weights`, `gk.save`, `gk.save_checkpoint` (its model part) and
    other tools (e.g. `safetensors.torch.save_file(torch_model.state_dict(), path)`).
    Returns `model.load_state_dict`'s result (missing/unexpected keys when not strict).
    """
    where = os.fspath(path)
    tensors, metadata = read_safetensors(where)
    if file_kind(metadata, where) == CHECKPOINT:
        n = len(CHECKPOINT_MODEL_PREFIX)
        tensors = {k[n:]: v for k, v in tensors.items() if k.startswith(CHECKPOINT_MODEL_PREFIX)}
    return load_tensors(model, tensors, where, strict)


def load_tensors(model: Module, tensors: dict, where: str,
                 strict: bool = True) -> IncompatibleKeys:
    """`model.load_state_dict(tensors, strict)`, refusing integer data for float parameters,
    with the file named in errors (a `StateDictError`, a ValueError)."""
    try:
        own = model._state_tensors()
        for name, arr in tensors.items():
            t = own.get(name)
            if t is not None and t.dtype.kind == "f" and arr.dtype.kind != "f":
                raise StateDictError(
                    f"dtype mismatch for {name!r}: the model holds {t.dtype}, the file has "
                    f"{arr.dtype} (integer data for a floating parameter)", mismatched=[name])
        return model.load_state_dict(tensors, strict=strict)
    except StateDictError as exc:
        raise StateDictError(f"{where}: {exc}", exc.missing, exc.unexpected,
                             exc.mismatched) from None


def _save_state_dict(state: dict, path: str | os.PathLike) -> str:
    arrays = {}
    for name, value in state.items():
        if not isinstance(name, str):
            raise TypeError(f"gk.save: state dict keys must be strings, got {name!r}")
        arr = value.numpy() if hasattr(value, "numpy") else value
        if not hasattr(arr, "dtype") or not hasattr(arr, "shape"):
            raise TypeError(f"gk.save: state dict entry {name!r} is a "
                            f"{type(value).__name__}, not an array or Tensor")
        arrays[name] = arr
    return write_safetensors(path, arrays, header(WEIGHTS, content=STATE_DICT))


# ---- whole models ---------------------------------------------------------------------------
def save(model: Module | dict, path: str | os.PathLike) -> str:
    """Write `model` (architecture as JSON + weights) to one safetensors file, atomically.

    Built-in layers and `Sequential`/`ModuleList` nesting are rebuilt by `gk.load` alone;
    a custom Module class is recorded by name (and `get_config()` if it has one) and
    `gk.load` then needs the class (`custom_objects=`) or the model (`model=`).
    A dict (a `state_dict()`: name -> array or Tensor) is written as a weights file that
    `gk.load` gives back as that dict (PyTorch's `torch.save(model.state_dict(), path)`).
    """
    if isinstance(model, dict):
        return _save_state_dict(model, path)
    if not isinstance(model, Module):
        raise TypeError(f"gk.save: expected a Module or a state dict (name -> array), got "
                        f"{type(model).__name__}")
    arch = json.dumps({"model": architecture(model), "training": bool(model.training)})
    return write_safetensors(path, model.state_dict(), header(MODEL, architecture=arch))


def load(path: str | os.PathLike, model: Module | None = None, *,
         custom_objects: dict | None = None, device: str | None = None,
         strict: bool = True) -> Module:
    """Read a file written by `gk.save` and return the model, weights loaded (for a file
    written by `gk.save(state_dict, path)`: that dict, name -> NumPy array).

    `model`: an instance to load the weights into instead of rebuilding one (needed for
    custom classes without `custom_objects`; works with any safetensors weights file).
    `custom_objects`: class name -> class, for custom Module classes in the file.
    `device`: move the model there. The training/eval mode saved with the model is restored.
    """
    where = os.fspath(path)
    tensors, metadata = read_safetensors(where)
    kind = file_kind(metadata, where)
    if kind == WEIGHTS and metadata.get("content") == STATE_DICT and model is None:
        return tensors  # type: ignore[return-value]  # gk.save(state_dict): the dict back
    if kind == CHECKPOINT:
        raise FormatError(f"{where} is a gradkit checkpoint; read it with "
                          "gk.load_checkpoint(path, model, optimizer), or its weights with "
                          "model.load_weights(path)")
    training = None
    if model is None:
        if kind != MODEL or "architecture" not in metadata:
            raise FormatError(
                f"{where} holds weights only, no architecture (written by save_weights or "
                "another tool): build the model in code and call model.load_weights(path), "
                "or gk.load(path, model=your_model)")
        try:
            arch = json.loads(metadata["architecture"])
            node, training = arch["model"], arch.get("training")
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise FormatError(f"{where}: the architecture in the header is not valid "
                              f"({type(exc).__name__}: {exc})") from None
        max_values = sum(int(a.size) for a in tensors.values())
        model = build(node, custom_objects, max_values=max_values)
    load_tensors(model, tensors, where, strict)
    if device is not None:
        model.to(device)
    if isinstance(training, bool):
        model.train(training)
    return model
