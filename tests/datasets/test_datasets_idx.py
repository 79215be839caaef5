"""The IDX parser: round trips (gz and raw) and clear errors on bad files."""

from __future__ import annotations

import gzip
import hashlib
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradkit.datasets.idx import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    IdxFormatError,
    encode_idx,
    idx_header,
    idx_sha256,
    parse_idx,
    read_idx,
)


def test_header_layout_matches_mnist() -> None:
    images = np.zeros((2, 28, 28), np.uint8)
    labels = np.zeros(2, np.uint8)
    assert idx_header(images.shape) == struct.pack(">IIII", IMAGES_MAGIC, 2, 28, 28)
    assert idx_header(labels.shape) == struct.pack(">II", LABELS_MAGIC, 2)
    assert len(encode_idx(images)) == 16 + 2 * 784


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip_file(tmp_path, gz, suffix) -> None:
    # compression is detected from the content, whatever the file name says
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    data = encode_idx(arr)
    path = tmp_path / f"x-idx3-ubyte{suffix}"
    path.write_bytes(gzip.compress(data) if gz else data)
    out = read_idx(path, expected_magic=IMAGES_MAGIC)
    np.testing.assert_array_equal(out, arr)
    assert out.dtype == np.uint8 and out.flags.writeable


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
def test_round_trip_dtypes(dtype) -> None:
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    out = parse_idx(encode_idx(arr))
    assert out.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(out, arr)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_round_trip_property(shape, seed) -> None:
    arr = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    data = encode_idx(arr)
    np.testing.assert_array_equal(parse_idx(data), arr)
    assert idx_sha256(arr) == hashlib.sha256(data).hexdigest()
    np.testing.assert_array_equal(parse_idx(gzip.decompress(gzip.compress(data))), arr)


def test_wrong_magic_names_both_numbers(tmp_path) -> None:
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(encode_idx(np.zeros(4, np.uint8))))
    with pytest.raises(IdxFormatError, match=r"wrong magic number 2049.*expected 2051") as e:
        read_idx(path, expected_magic=IMAGES_MAGIC)
    assert str(path) in str(e.value)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "too short"),
        (b"\x00\x00", "too short"),
        (b"PK\x03\x04 not idx at all", "not an IDX file"),
        (b"\x00\x00\x07\x01" + b"\x00" * 8, "not an IDX file"),  # unknown type code
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated header"),
    ],
)
def test_garbage_is_rejected(data, message) -> None:
    with pytest.raises(IdxFormatError, match=message):
        parse_idx(data, name="thing")


def test_truncated_data(tmp_path) -> None:
    data = encode_idx(np.ones((10, 28, 28), np.uint8))
    path = tmp_path / "t.gz"
    path.write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(IdxFormatError, match=r"truncated.*\(10, 28, 28\).*7840 data bytes"):
        read_idx(path)


def test_trailing_bytes() -> None:
    with pytest.raises(IdxFormatError, match="trailing bytes"):
        parse_idx(encode_idx(np.ones(3, np.uint8)) + b"\x00")


def test_truncated_gzip_stream(tmp_path) -> None:
    blob = gzip.compress(encode_idx(np.ones((50, 28, 28), np.uint8)))
    path = tmp_path / "cut.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="corrupt gzip"):
        read_idx(path)


def test_read_cap(tmp_path) -> None:
    path = tmp_path / "big"
    path.write_bytes(encode_idx(np.ones(1000, np.uint8)))
    with pytest.raises(IdxFormatError, match="more than 100 bytes"):
        read_idx(path, max_bytes=100)
