"""The safetensors format, read and written with NumPy alone (no pickle, no code run).

A file is an 8-byte little-endian header length N, N bytes of JSON header, then the raw
little-endian bytes of every tensor. The header maps each tensor name to
`{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}` (offsets into the data
part) and may hold `"__metadata__"`: a str -> str dict. Reading validates the whole header
against the file's size before any value is used or anything is allocated: truncated,
corrupted or hand-crafted files raise `FormatError`. Every dtype is one of `_DTYPES`; every
shape has at most `MAX_NDIM` dimensions, each an integer >= 0, and NumPy must be able to
hold it; every tensor's bytes lie inside the file, match its shape and dtype exactly, and
the tensors tile the data part with no gap or overlap. So reading never allocates more than
the file's own size (plus a header of at most `MAX_HEADER_BYTES`).

Files are written atomically (see `atomic.py`) in the layout the `safetensors` library
writes (header padded to 8 bytes, tensors by dtype then name), so PyTorch
(`safetensors.torch.load_file`) and other tools read them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import BinaryIO

import numpy as np

from ..backend.devices import to_numpy
from ..tensor import Tensor
from .atomic import atomic_write
from .errors import FormatError

MAX_HEADER_BYTES = 100_000_000  # the safetensors library's own limit
MAX_NDIM = 32  # what NumPy 1.x holds (NumPy 2: 64); no model tensor comes close
_MAX_NBYTES = 2**63 - 1  # the largest array NumPy can describe, in bytes

_DTYPES = {
    "BOOL": np.dtype(bool), "U8": np.dtype("u1"), "I8": np.dtype("i1"),
    "U16": np.dtype("<u2"), "I16": np.dtype("<i2"), "F16": np.dtype("<f2"),
    "U32": np.dtype("<u4"), "I32": np.dtype("<i4"), "F32": np.dtype("<f4"),
    "U64": np.dtype("<u8"), "I64": np.dtype("<i8"), "F64": np.dtype("<f8"),
    "BF16": np.dtype("<u2"),  # read as raw 16-bit words, widened to float32 (exact)
}
_NAMES = {dt.newbyteorder("="): name for name, dt in _DTYPES.items() if name != "BF16"}
# the safetensors library writes tensors by this dtype order (descending), then by name
_RANK = {name: i for i, name in enumerate(
    ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"])}
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}


def _fail(where: str, detail: str) -> FormatError:
    return FormatError(f"{where}: not a valid safetensors file: {detail}")


# ---- reading -----------------------------------------------------------------------------
def read_safetensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """`(tensors, metadata)` of a safetensors file, every byte checked first.

    Tensors are NumPy arrays in the file's order; BF16 tensors come back as float32.
    Raises `FormatError` for anything that is not a well-formed file.
    """
    where = os.fspath(path)
    with open(where, "rb") as f:
        entries, metadata, body_len = _read_header(f, where)
        body = bytearray(body_len)
        if f.readinto(body) != body_len:
            raise _fail(where, "the file shrank while it was read")
    return {name: _array(body, *info) for name, info in entries.items()}, metadata


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The `__metadata__` of a safetensors file (its header fully validated)."""
    where = os.fspath(path)
    with open(where, "rb") as f:
        return _read_header(f, where)[1]


def _read_header(f: BinaryIO, where: str) -> tuple[dict, dict[str, str], int]:
    size = os.fstat(f.fileno()).st_size
    if size < 8:
        raise _fail(where, f"it has {size} bytes, fewer than the 8-byte header length "
                           "(the file is truncated or empty)")
    n = int.from_bytes(f.read(8), "little")
    if n > MAX_HEADER_BYTES:
        raise _fail(where, f"the header length field says {n} bytes, more than the "
                           f"{MAX_HEADER_BYTES}-byte limit (corrupted or not safetensors)")
    if n > size - 8:
        raise _fail(where, f"the header length field says {n} bytes but only {size - 8} "
                           "follow (the file is truncated or corrupted)")
    raw = f.read(n)
    if len(raw) != n:
        raise _fail(where, "the file shrank while it was read")
    body_len = size - 8 - n
    entries, metadata = parse_header(raw, body_len, where)
    return entries, metadata, body_len


def parse_header(raw: bytes, body_len: int, where: str = "<bytes>") -> tuple[dict, dict]:
    """Validate a header against a data part of `body_len` bytes.

    Returns `({name: (dtype_name, shape, begin, end)}, metadata)` sorted by offset.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(where, f"the header is not UTF-8 text ({exc.reason} at byte "
                           f"{exc.start})") from None
    if not text.startswith("{"):
        raise _fail(where, "the header is not a JSON object (it does not start with '{')")
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicates,
                            parse_constant=_no_constants)
    except FormatError as exc:
        raise _fail(where, f"the header {exc}") from None
    except RecursionError:
        raise _fail(where, "the header JSON is nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError
        raise _fail(where, f"the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise _fail(where, "the header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise _fail(where, "__metadata__ must map strings to strings")
    entries = {name: _entry(name, e, body_len, where) for name, e in header.items()}
    ordered = dict(sorted(entries.items(), key=lambda kv: (kv[1][2], kv[1][3])))
    pos = 0
    for name, (_, _, begin, end) in ordered.items():
        if begin < pos:
            raise _fail(where, f"the data of {name!r} (bytes {begin}..{end}) overlaps the "
                               "previous tensor's")
        if begin > pos:
            raise _fail(where, f"bytes {pos}..{begin} before {name!r} belong to no tensor")
        pos = end
    if pos != body_len:
        raise _fail(where, f"{body_len - pos} bytes after the last tensor belong to no tensor")
    return ordered, metadata


def _no_duplicates(pairs: list) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise FormatError(f"has the key {key!r} twice")
        out[key] = value
    return out


def _no_constants(name: str):
    raise FormatError(f"holds {name}, which is not JSON")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _entry(name: str, e, body_len: int, where: str) -> tuple:
    if not isinstance(e, dict) or set(e) != _ENTRY_KEYS:
        got = sorted(e) if isinstance(e, dict) else type(e).__name__
        raise _fail(where, f"the entry of {name!r} must have exactly the keys dtype, shape "
                           f"and data_offsets (it has {got})")
    dtype, shape, offsets = e["dtype"], e["shape"], e["data_offsets"]
    if dtype not in _DTYPES:
        raise _fail(where, f"{name!r} has the dtype {dtype!r}, which gradkit does not read "
                           f"(it reads {', '.join(_DTYPES)})")
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise _fail(where, f"the shape of {name!r} must be a list of integers >= 0, got "
                           f"{_short(shape)}")
    if len(shape) > MAX_NDIM:
        raise _fail(where, f"the shape of {name!r} has {len(shape)} dimensions, more than the "
                           f"{MAX_NDIM} gradkit reads")
    if math.prod(max(d, 1) for d in shape) * _DTYPES[dtype].itemsize > _MAX_NBYTES:
        raise _fail(where, f"the shape of {name!r}, {_short(shape)}, is larger than any array "
                           "can be (even an empty one must be describable)")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(_is_int(o) and o >= 0 for o in offsets) or offsets[0] > offsets[1]):
        raise _fail(where, f"data_offsets of {name!r} must be [begin, end] with "
                           f"0 <= begin <= end, got {offsets!r}")
    begin, end = offsets
    if end > body_len:
        raise _fail(where, f"the data of {name!r} (bytes {begin}..{end}) runs past the end "
                           f"of the data ({body_len} bytes): the file is truncated or corrupted")
    nbytes = math.prod(shape) * _DTYPES[dtype].itemsize
    if nbytes != end - begin:
        raise _fail(where, f"{name!r} of shape {tuple(shape)} and dtype {dtype} needs "
                           f"{nbytes} bytes but its offsets span {end - begin}")
    return dtype, tuple(shape), begin, end


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _array(body: bytearray, dtype: str, shape: tuple, begin: int, end: int) -> np.ndarray:
    dt = _DTYPES[dtype]
    arr = np.frombuffer(body, dtype=dt, count=math.prod(shape), offset=begin).reshape(shape)
    if dtype == "BF16":
        return (arr.astype(np.uint32) << 16).view(np.float32)
    if not dt.isnative:  # pragma: no cover - big-endian hosts
        arr = arr.astype(dt.newbyteorder("="))
    return arr


# ---- writing -----------------------------------------------------------------------------
def write_safetensors(path: str | os.PathLike, tensors: Mapping,
                      metadata: Mapping[str, str] | None = None) -> str:
    """Write `tensors` (name -> array or Tensor) and `metadata` (str -> str) atomically."""
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"safetensors: invalid tensor name {name!r}")
        arrays[name] = _host_array(name, value)
    meta = dict(metadata or {})
    for k, v in meta.items():
        if not (isinstance(k, str) and isinstance(v, str)):
            raise TypeError(f"safetensors: metadata must map str to str, got {k!r}: "
                            f"{type(v).__name__}")
    kinds = {n: _NAMES[a.dtype.newbyteorder("=")] for n, a in arrays.items()}
    order = sorted(arrays, key=lambda n: (-_RANK[kinds[n]], n))
    header: dict = {"__metadata__": meta} if meta else {}
    pos = 0
    for name in order:
        arr = arrays[name]
        header[name] = {"dtype": kinds[name], "shape": list(arr.shape),
                        "data_offsets": [pos, pos + arr.nbytes]}
        pos += arr.nbytes
    raw = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    return atomic_write(path, lambda f: _write_stream(f, raw, [arrays[n] for n in order]))


def _host_array(name: str, value) -> np.ndarray:
    data = value._data if isinstance(value, Tensor) else value
    arr = to_numpy(data) if hasattr(data, "__cuda_array_interface__") else np.asarray(data)
    if arr.dtype.newbyteorder("=") not in _NAMES:
        raise TypeError(f"safetensors: {name!r} has dtype {arr.dtype}, which safetensors "
                        f"cannot hold (use one of {', '.join(sorted(set(_NAMES.values())))})")
    return np.asarray(arr, dtype=arr.dtype.newbyteorder("<"), order="C")


def _write_stream(f: BinaryIO, header: bytes, arrays: list[np.ndarray]) -> None:
    f.write(len(header).to_bytes(8, "little"))
    f.write(header)
    for arr in arrays:
        if arr.size:
            f.write(arr.reshape(-1).view(np.uint8).data)
