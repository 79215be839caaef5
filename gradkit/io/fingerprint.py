"""Run fingerprints: what a checkpoint was taken from, so that a resume can refuse another run.

A fingerprint is a JSON-able dict with up to three parts:

    "model"     every state entry's name, shape and dtype (and the total size)
    "data"      the number of samples, each array's per-sample shape and dtype, and a cheap
                digest of evenly spaced rows (at most about 1 MiB read per array)
    "settings"  whatever the caller gives (learning rate, batch size, seed, ...)

`save_checkpoint` stores one in every checkpoint (the model, the data of the loader it saves,
and the `fingerprint=` given); `load_checkpoint(..., fingerprint=...)` compares the parts both
sides have and raises `RunMismatchError` saying what differs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from ..backend.devices import to_numpy
from ..data import DataLoader, Dataset, TensorDataset
from ..nn.module import Module
from ..tensor import Tensor

__all__ = ["RunMismatchError", "data_identity", "differences", "model_structure",
           "run_fingerprint"]

SAMPLE_BYTES = 1 << 20  # bytes of evenly spaced rows hashed per array


class RunMismatchError(ValueError):
    """A checkpoint taken from another run (other settings, data or model) than the one that
    tries to continue from it; the message says what differs."""


def run_fingerprint(model: Module | None = None, data: Any = None,
                    settings: dict | None = None) -> dict:
    """The fingerprint of a run: its `model`'s structure, its training `data` (a DataLoader,
    Dataset, array or tuple of arrays) and its `settings` (a JSON-able dict); parts left
    None are left out (and not compared)."""
    out: dict = {}
    if model is not None:
        out["model"] = model_structure(model)
    if data is not None:
        out["data"] = data_identity(data)
    if settings is not None:
        out["settings"] = json.loads(json.dumps(settings, default=str))
    return out


def model_structure(model: Module) -> dict:
    """{"tensors": [[name, shape, dtype], ...], "values": total number of values}."""
    entries = []
    total = 0
    for name, tensor in model._state_tensors().items():  # no copies
        shape = [int(d) for d in tensor._data.shape]
        entries.append([name, shape, str(tensor._data.dtype)])
        total += int(np.prod(shape, dtype=np.int64))
    return {"tensors": entries, "values": total}


def _arrays_of(data: Any) -> tuple[int, list] | None:
    """(number of samples, arrays) of array-like training data, or None."""
    if isinstance(data, DataLoader):
        data = data.dataset
    if isinstance(data, TensorDataset):
        return len(data), list(data.arrays)
    if isinstance(data, Tensor):
        data = (data,)
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        data = (data,)
    if isinstance(data, (tuple, list)) and data and all(
            isinstance(a, (np.ndarray, Tensor)) or hasattr(a, "__cuda_array_interface__")
            for a in data):
        arrays = [a._data if isinstance(a, Tensor) else a for a in data]
        return len(arrays[0]), arrays
    return None


def data_identity(data: Any) -> dict:
    """{"samples": n, "arrays": [[per-sample shape, dtype], ...], "digest": hex} for arrays
    (a digest of evenly spaced rows); {"samples": n, "kind": class name} for other datasets."""
    found = _arrays_of(data)
    if found is None:
        dataset = data.dataset if isinstance(data, DataLoader) else data
        n = len(dataset) if isinstance(dataset, Dataset) or hasattr(dataset, "__len__") else None
        return {"samples": n, "kind": type(dataset).__name__}
    n, arrays = found
    h = hashlib.blake2b(digest_size=8)
    described = []
    for a in arrays:
        described.append([[int(d) for d in a.shape[1:]], str(a.dtype)])
        h.update(repr((tuple(a.shape), str(a.dtype))).encode())
        h.update(_sample_rows(a))
    return {"samples": int(n), "arrays": described, "digest": h.hexdigest()}


def _sample_rows(a: Any) -> bytes:
    n = int(a.shape[0]) if a.ndim else 0
    if n == 0:
        return b""
    row = max(1, a.nbytes // n)
    k = min(n, max(2, SAMPLE_BYTES // row))
    idx = np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))
    return np.ascontiguousarray(to_numpy(a[idx])).tobytes()


# ---- comparing ------------------------------------------------------------------------------
def differences(saved: dict, current: dict, limit: int = 3) -> list[str]:
    """What differs between the parts of two fingerprints that both have, as short phrases
    ('settings lr: 0.01 in the checkpoint, 0.1 here'); at most `limit` of them."""
    found: list[str] = []
    if isinstance(saved.get("settings"), dict) and isinstance(current.get("settings"), dict):
        found += _settings(saved["settings"], current["settings"])
    if isinstance(saved.get("data"), dict) and isinstance(current.get("data"), dict):
        found += _data(saved["data"], current["data"])
    if isinstance(saved.get("model"), dict) and isinstance(current.get("model"), dict):
        found += _model(saved["model"], current["model"])
    return found[:limit]


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "none"
    return str(value)


def _settings(saved: dict, current: dict) -> list[str]:
    keys = [k for k in current if k in saved] + [k for k in saved if k not in current]
    keys += [k for k in current if k not in saved]
    return [f"setting {k}: {_show(saved.get(k, '(unset)'))} in the checkpoint, "
            f"{_show(current.get(k, '(unset)'))} here"
            for k in dict.fromkeys(keys) if saved.get(k) != current.get(k)]


def _data(saved: dict, current: dict) -> list[str]:
    if saved.get("samples") != current.get("samples"):
        return [f"training data: {saved.get('samples')} samples in the checkpoint, "
                f"{current.get('samples')} here"]
    for key in ("arrays", "kind"):
        if saved.get(key) != current.get(key):
            return [f"training data: {_describe(saved.get(key))} in the checkpoint, "
                    f"{_describe(current.get(key))} here"]
    if saved.get("digest") != current.get("digest"):
        return [f"training data: the same sizes but other values (digest "
                f"{saved.get('digest')} in the checkpoint, {current.get('digest')} here)"]
    return []


def _describe(arrays: Any) -> str:
    if not isinstance(arrays, list):
        return str(arrays)
    return " and ".join(f"{dtype} samples of shape {tuple(shape)}" for shape, dtype in arrays
                        if isinstance(shape, list))


def _model(saved: dict, current: dict) -> list[str]:
    a = {e[0]: e[1:] for e in saved.get("tensors") or [] if isinstance(e, list) and e}
    b = {e[0]: e[1:] for e in current.get("tensors") or [] if isinstance(e, list) and e}
    for name in a:
        if name not in b:
            return [f"model: {name!r} is in the checkpoint but not in this model"]
        if a[name] != b[name]:
            (sa, da), (sb, db) = a[name], b[name]
            return [f"model: {name!r} is {tuple(sa)} {da} in the checkpoint, "
                    f"{tuple(sb)} {db} here"]
    for name in b:
        if name not in a:
            return [f"model: {name!r} is in this model but not in the checkpoint"]
    return []
