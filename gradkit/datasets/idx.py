"""The IDX file format of MNIST-like datasets: a big-endian header, then raw data.

Header: two zero bytes, a type code (0x08 = uint8, ...), the number of dimensions, then one
big-endian uint32 per dimension. So MNIST images start with magic 2051 (0x00000803: uint8,
3-D: count, rows, cols; 16 header bytes) and labels with 2049 (0x00000801: uint8, 1-D; 8).
"""

from __future__ import annotations

import hashlib
import math
import os
import struct

import numpy as np

from .sources import read_payload

__all__ = [
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
    "IdxFormatError",
    "encode_idx",
    "idx_header",
    "idx_sha256",
    "parse_idx",
    "read_idx",
]

IMAGES_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: uint8, 1 dimension

# type code -> big-endian dtype
_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in _TYPES.items()}
_MAX_READ = 1 << 32


class IdxFormatError(ValueError):
    """Data that is not a well-formed IDX file (bad magic, truncated, wrong size)."""


def _describe_magic(magic: int) -> str:
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(magic, "")
    dtype = _TYPES[code].name if code in _TYPES else f"unknown type 0x{code:02x}"
    return f"{magic} (0x{magic:08x}: {dtype}, {ndim}-D{', ' + kind if kind else ''})"


def parse_idx(
    data: bytes | bytearray | memoryview, *, expected_magic: int | None = None, name: str = "IDX"
) -> np.ndarray:
    """Parse an uncompressed IDX buffer into an array (native byte order).

    Raises `IdxFormatError` naming ``name`` when the magic number is wrong (or differs from
    ``expected_magic``), the header is cut short, or the data size does not match the header.
    The result shares memory with ``data`` (read-only for ``bytes``).
    """
    data = memoryview(data).cast("B")
    if len(data) < 4:
        raise IdxFormatError(f"{name}: only {len(data)} bytes, too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise IdxFormatError(
            f"{name}: wrong magic number {magic} (0x{magic:08x}); expected "
            f"{_describe_magic(expected_magic)}. Not the right IDX file, or corrupt."
        )
    code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or code not in _TYPES or ndim == 0:
        raise IdxFormatError(
            f"{name}: bad magic number 0x{magic:08x}; not an IDX file (a gzip file must start "
            "with 1f 8b and is unpacked automatically)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxFormatError(
            f"{name}: truncated header ({len(data)} bytes, a {ndim}-D IDX header has {header})"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _TYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    got = len(data) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise IdxFormatError(
            f"{name}: {what}: header says shape {tuple(shape)} of {dtype.name} = {expected} "
            f"data bytes, but {got} follow the {header}-byte header"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("=")) if dtype.byteorder == ">" else arr


def read_idx(
    path: str | os.PathLike[str], *, expected_magic: int | None = None, max_bytes: int = _MAX_READ
) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw (detected from its content), into a new
    writable array. See `parse_idx` for the checks."""
    payload = read_payload(path, max_bytes)
    if len(payload) > max_bytes:
        raise IdxFormatError(f"{os.fspath(path)}: more than {max_bytes} bytes")
    return parse_idx(payload, expected_magic=expected_magic, name=os.fspath(path)).copy()


def idx_header(shape: tuple[int, ...], dtype: np.dtype | type = np.uint8) -> bytes:
    """The IDX header for an array of ``shape`` and ``dtype``."""
    dt = np.dtype(dtype).newbyteorder("=")
    if dt not in _CODES:
        raise TypeError(f"IDX cannot store dtype {dt}")
    return bytes([0, 0, _CODES[dt], len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def encode_idx(arr: np.ndarray) -> bytes:
    """The IDX bytes (uncompressed) of an array."""
    arr = np.asarray(arr)
    big = arr.astype(arr.dtype.newbyteorder(">"), copy=False) if arr.dtype.itemsize > 1 else arr
    return idx_header(arr.shape, arr.dtype) + np.ascontiguousarray(big).tobytes()


def idx_sha256(arr: np.ndarray) -> str:
    """SHA-256 of the IDX encoding of a uint8 array, without building the bytes: lets an
    array (from a cache or a conversion) be checked against a pinned IDX file hash."""
    if arr.dtype != np.uint8:
        return hashlib.sha256(encode_idx(arr)).hexdigest()
    h = hashlib.sha256(idx_header(arr.shape, arr.dtype))
    h.update(np.ascontiguousarray(arr).data)
    return h.hexdigest()
