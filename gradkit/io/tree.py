"""Nested Python state <-> JSON text + named arrays (for checkpoints; never pickle).

`pack` turns dicts, lists, tuples, numbers, strings, NumPy scalars and arrays (NumPy, CuPy
or gradkit Tensors) into JSON, moving every array into a dict of tensors under a name made
from its path ("optimizer/state/0/exp_avg"); `unpack` reverses it exactly (floats through
JSON round-trip bit for bit; inf and nan included). Tagged objects:
`{"__tensor__": name}`, `{"__tuple__": [...]}`, `{"__scalar__": dtype, "value": v}`, and
`{"__dict__": [[key, value], ...]}` for dicts whose keys are not plain strings.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..tensor import Tensor
from .errors import FormatError

_TAGS = ("__tensor__", "__tuple__", "__scalar__", "__dict__")


def pack(value: Any, tensors: dict, path: str) -> Any:
    """JSON-able form of `value`; arrays are added to `tensors` (name -> array)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{path}: cannot store a NumPy {value.dtype} scalar")
        return {"__scalar__": value.dtype.str, "value": value.item()}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Tensor) or hasattr(value, "__array_interface__") \
            or hasattr(value, "__cuda_array_interface__"):
        name = path
        while name in tensors:
            name += "'"
        tensors[name] = value
        return {"__tensor__": name}
    if isinstance(value, tuple):
        return {"__tuple__": [pack(v, tensors, f"{path}/{i}") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [pack(v, tensors, f"{path}/{i}") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) and k not in _TAGS for k in value):
            return {k: pack(v, tensors, f"{path}/{k}") for k, v in value.items()}
        return {"__dict__": [[_key(k, path), pack(v, tensors, f"{path}/{k}")]
                             for k, v in value.items()]}
    raise TypeError(f"{path}: cannot store a {type(value).__name__} in a checkpoint (it holds "
                    "numbers, strings, None, lists, tuples, dicts and arrays; no pickle)")


def _key(k, path: str):
    if isinstance(k, (str, bool)) or k is None:
        return k
    if isinstance(k, numbers.Integral):
        return int(k)
    if isinstance(k, numbers.Real):
        return float(k)
    raise TypeError(f"{path}: cannot store a dict key of type {type(k).__name__}")


def unpack(value: Any, tensors: dict, where: str) -> Any:
    """Reverse `pack` (raises FormatError for a malformed tree or a missing tensor)."""
    if isinstance(value, list):
        return [unpack(v, tensors, where) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        name = value["__tensor__"]
        if not isinstance(name, str) or name not in tensors:
            raise FormatError(f"{where}: the state refers to a tensor {name!r} the file lacks")
        return tensors[name]
    if "__tuple__" in value:
        return tuple(unpack(_list(value["__tuple__"], where), tensors, where))
    if "__scalar__" in value:
        return _scalar(value, where)
    if "__dict__" in value:
        pairs = _list(value["__dict__"], where)
        if not all(isinstance(p, list) and len(p) == 2
                   and (p[0] is None or isinstance(p[0], (str, int, float))) for p in pairs):
            raise FormatError(f"{where}: invalid dict entry in the state")
        return {k: unpack(v, tensors, where) for k, v in pairs}
    return {k: unpack(v, tensors, where) for k, v in value.items()}


def _scalar(value: dict, where: str) -> np.generic:
    """A NumPy scalar from `{"__scalar__": dtype string, "value": number}`: a plain numeric
    dtype (bool, int, uint, float of at most 16 bytes) and a plain number, nothing else (a
    dtype like "V1000000000" or a list as the value would allocate what the file asks)."""
    name, number = value.get("__scalar__"), value.get("value")
    try:
        if not isinstance(name, str) or len(name) > 16 \
                or not isinstance(number, (bool, int, float)):
            raise TypeError(name)
        dtype = np.dtype(name)
        if dtype.kind not in "biuf" or dtype.itemsize > 16 or dtype.shape != ():
            raise TypeError(dtype)
        return dtype.type(number)
    except (TypeError, ValueError, KeyError, OverflowError):
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:80] + "..."
        raise FormatError(f"{where}: invalid scalar {shown} in the state (a numeric dtype "
                          "and a number)") from None


def _list(value, where: str) -> list:
    if not isinstance(value, list):
        raise FormatError(f"{where}: expected a list in the state, got {type(value).__name__}")
    return value
