"""`torch.save` / `torch.load` of tensors, state dicts (model and optimizer) and nested
dicts/lists/tuples of tensors and Python values, with no pickle anywhere.

A file is one safetensors file: every tensor under its own name (a model's state dict under
its keys, so `safetensors.torch.load_file` in real PyTorch reads it as that state dict),
and the structure around them as JSON in the header's metadata (`gradkit.torch`, see
`gradkit.io.tree`). `torch.load` also reads any other safetensors file (a dict of tensors).

A real PyTorch `.pt`/`.pth` file is a pickle (a zip holding `data.pkl`, or the legacy
format); unpickling can run any code, so `torch.load` refuses it and says how to convert it
once in PyTorch.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend.devices import to_device
from ..io.errors import FormatError
from ..io.safe import read_safetensors, write_safetensors
from ..io.tree import pack, unpack
from ..nn.module import Module as _Module
from ..optim.optimizer import Optimizer as _Optimizer
from ..tensor import Tensor as _Native
from .nn._args import device_of
from .tensor import from_array

__all__ = ["save", "load"]

_TREE = "gradkit.torch"  # metadata key: the JSON structure around the tensors
_ORDERED = "gradkit.torch.ordered"  # "1" when the saved object was an OrderedDict
_TAGS = ("__tensor__", "__tuple__", "__scalar__", "__dict__")
_CONVERT = ("convert it once with real PyTorch: `import torch; from safetensors.torch import "
            "save_file; save_file(torch.load(path), 'model.safetensors')` for a state dict "
            "(for a whole model: save_file(model.state_dict(), 'model.safetensors')), then "
            "call torch.load('model.safetensors') here")


def _refuse(obj: Any, where: str) -> None:
    if isinstance(obj, _Module):
        raise TypeError(f"torch.save: {where} is a model ({type(obj).__name__}); PyTorch "
                        "pickles whole models, gradkit never pickles: save "
                        "model.state_dict(), and to load build the model in code and call "
                        "model.load_state_dict(torch.load(path))")
    if isinstance(obj, _Optimizer):
        raise TypeError(f"torch.save: {where} is an optimizer ({type(obj).__name__}); save "
                        "optimizer.state_dict() and restore it with "
                        "optimizer.load_state_dict(torch.load(path))")


def _packed(obj: Any) -> tuple[Any, dict]:
    """(the JSON structure, name -> tensor); a str-keyed dict's tensors keep their keys."""
    tensors: dict = {}
    try:
        if isinstance(obj, dict) and all(isinstance(k, str) and k not in _TAGS for k in obj):
            for k, v in obj.items():
                _refuse(v, repr(k))
            return {k: pack(v, tensors, k) for k, v in obj.items()}, tensors
        _refuse(obj, "the object")
        return pack(obj, tensors, "tensor"), tensors
    except TypeError as exc:
        if str(exc).startswith("torch.save"):
            raise
        raise TypeError(f"torch.save: {exc}".replace("in a checkpoint", "with torch.save")
                        ) from None


def save(obj: Any, f: str | os.PathLike | io.IOBase, pickle_module: Any = None,
         pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Write `obj` (a tensor, a state dict, or dicts/lists/tuples of tensors, numbers,
    strings and None) to the path or binary file `f` (safetensors inside; atomic)."""
    tree, tensors = _packed(obj)
    metadata = {"format": "pt", _TREE: json.dumps(tree, allow_nan=True)}
    if isinstance(obj, OrderedDict):
        metadata[_ORDERED] = "1"
    if isinstance(f, (str, os.PathLike)):
        write_safetensors(f, tensors, metadata)
        return
    if not hasattr(f, "write"):
        raise TypeError(f"torch.save: f must be a path or a binary file, got "
                        f"{type(f).__name__}")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "obj.safetensors")
        write_safetensors(path, tensors, metadata)
        with open(path, "rb") as src:
            f.write(src.read())


def _check_not_pickle(path: str) -> None:
    with open(path, "rb") as fh:
        head = fh.read(9)
    if head[8:9] == b"{":  # an 8-byte header length, then the JSON header: safetensors
        return
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                pickled = any(n.endswith("data.pkl") for n in z.namelist())
        except zipfile.BadZipFile:
            pickled = False
        what = "PyTorch's zip format (with data.pkl, a pickle)" if pickled else "a zip file"
        raise FormatError(f"torch.load: {path} is {what}; gradkit never unpickles (a pickle "
                          f"can run any code). {_CONVERT}")
    if head[:1] == b"\x80":  # a pickle's PROTO opcode
        raise FormatError(f"torch.load: {path} looks like a pickle (PyTorch's legacy "
                          f"format); gradkit never unpickles (a pickle can run any code). "
                          f"{_CONVERT}")


def _mover(map_location: Any) -> Callable[[np.ndarray], Any]:
    """array -> torch.Tensor on the device `map_location` asks for (files hold host data)."""
    if callable(map_location) and not isinstance(map_location, str):
        def moved(arr: np.ndarray) -> Any:
            t = from_array(arr)
            out = map_location(t, "cpu")
            return out if isinstance(out, _Native) else t
        return moved
    if isinstance(map_location, dict):
        map_location = map_location.get("cpu")
    device = device_of(map_location) if map_location is not None else None
    if device is None or device == "cpu":
        return from_array
    return lambda arr: from_array(to_device(arr, device))


def _read(f: Any) -> tuple[dict, dict, str]:
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        _check_not_pickle(path)
        tensors, metadata = read_safetensors(path)
        return tensors, metadata, path
    if not hasattr(f, "read"):
        raise TypeError(f"torch.load: f must be a path or a binary file, got "
                        f"{type(f).__name__}")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "obj.safetensors")
        with open(path, "wb") as dst:
            dst.write(f.read())
        _check_not_pickle(path)
        tensors, metadata = read_safetensors(path)
    return tensors, metadata, getattr(f, "name", "<file>")


def load(f: str | os.PathLike | io.IOBase, map_location: Any = None, pickle_module: Any = None,
         *, weights_only: bool | None = None, mmap: bool | None = None,
         **pickle_load_args: Any) -> Any:
    """Read what `torch.save` wrote (or any safetensors file: a dict of tensors).

    `map_location`: a device ('cpu', 'cuda', torch.device), a dict {'cpu': device} or a
    function (storage, location) -> tensor. `weights_only` is accepted: nothing here can
    run code, whatever its value.
    """
    arrays, metadata, where = _read(f)
    move = _mover(map_location)
    tensors = {name: move(a if a.flags.aligned else a.copy()) for name, a in arrays.items()}
    tree = metadata.get(_TREE)
    if tree is None:  # a plain safetensors file (safetensors.torch.save_file, gk.save, ...)
        return tensors
    try:
        obj = unpack(json.loads(tree), tensors, where)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"torch.load: {where}: the structure in the header is not valid "
                          f"({type(exc).__name__}: {exc})") from None
    if metadata.get(_ORDERED) == "1" and isinstance(obj, dict):
        return OrderedDict(obj)
    return obj
