"""Reading safetensors safely: every malformed file raises FormatError before any value is
used; files interoperate with the safetensors library both ways."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.io import FormatError, read_safetensors, write_safetensors


def craft(path, header, body: bytes = b"", length: int | None = None):
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    n = len(raw) if length is None else length
    path.write_bytes(struct.pack("<Q", n) + raw + body)
    return path


def f32(*values) -> bytes:
    return np.array(values, "<f4").tobytes()


def entry(dtype="F32", shape=(2,), offsets=(0, 8)) -> dict:
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def test_round_trip_of_every_dtype_and_shape(tmp_path):
    rng = np.random.default_rng(0)
    tensors = {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal(5), "f16": rng.standard_normal(3).astype(np.float16),
        "i64": np.arange(6).reshape(2, 3), "i32": np.arange(3, dtype=np.int32),
        "i16": np.arange(3, dtype=np.int16), "i8": np.arange(-3, 3, dtype=np.int8),
        "u8": np.arange(4, dtype=np.uint8), "u16": np.arange(2, dtype=np.uint16),
        "u32": np.arange(2, dtype=np.uint32), "u64": np.arange(2, dtype=np.uint64),
        "bool": np.array([True, False, True]), "scalar": np.array(7, np.int64),
        "empty": np.zeros((0, 3), np.float32), "fortran": np.asfortranarray(np.eye(3)),
        "big_endian": np.arange(3, dtype=">f4"), "tensor": gk.arange(4.0),
    }
    path = write_safetensors(tmp_path / "t.safetensors", tensors, {"note": "hi"})
    got, meta = read_safetensors(path)
    assert meta == {"note": "hi"}
    assert set(got) == set(tensors)
    for k, v in tensors.items():
        want = v.numpy() if isinstance(v, gk.Tensor) else v
        assert got[k].dtype == want.dtype.newbyteorder("="), k
        assert got[k].shape == want.shape, k
        np.testing.assert_array_equal(got[k], want, err_msg=k)
    with open(path, "rb") as f:  # header padded to 8 bytes, like the safetensors library
        assert int.from_bytes(f.read(8), "little") % 8 == 0


def test_unsupported_dtype_and_metadata_on_write(tmp_path):
    with pytest.raises(TypeError, match="'c' has dtype complex128"):
        write_safetensors(tmp_path / "x.safetensors", {"c": np.zeros(2, complex)})
    with pytest.raises(TypeError, match="metadata must map str to str"):
        write_safetensors(tmp_path / "x.safetensors", {}, {"a": 1})
    assert not list(tmp_path.iterdir())


CASES = [
    ("empty file", lambda p: p.write_bytes(b""), "fewer than the 8-byte header length"),
    ("short", lambda p: p.write_bytes(b"\x01\x02"), "truncated or empty"),
    ("oversized header", lambda p: craft(p, {}, length=2**62), "more than the 100000000-byte"),
    ("header past the end", lambda p: craft(p, {"a": entry()}, f32(1, 2), length=5000),
     "says 5000 bytes but only"),
    ("not utf-8", lambda p: craft(p, b"{\xff\xfe}"), "not UTF-8"),
    ("not json", lambda p: craft(p, b"{this is not json}"), "not valid JSON"),
    ("not an object", lambda p: craft(p, b"[1, 2]"), "not a JSON object"),
    ("json constant", lambda p: craft(p, b'{"a": NaN}'), "holds NaN, which is not JSON"),
    ("deep nesting", lambda p: craft(p, b"{" + b'"a":[' * 100000 + b"]" * 100000 + b"}"),
     "nested too deeply|not valid JSON"),
    ("duplicate keys", lambda p: craft(
        p, b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
           b'"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', f32(1, 2)),
     "has the key 'a' twice"),
    ("unknown dtype", lambda p: craft(p, {"a": entry(dtype="F128")}, f32(1, 2)),
     "'a' has the dtype 'F128', which gradkit does not read"),
    ("object dtype", lambda p: craft(p, {"a": entry(dtype="O")}, f32(1, 2)), "dtype 'O'"),
    ("negative shape", lambda p: craft(p, {"a": entry(shape=(-2,))}, f32(1, 2)),
     "list of integers >= 0"),
    ("float shape", lambda p: craft(p, {"a": entry(shape=(2.0,))}, f32(1, 2)),
     "list of integers >= 0"),
    ("bool shape", lambda p: craft(p, {"a": entry(shape=(True, 2))}, f32(1, 2)),
     "list of integers >= 0"),
    ("missing keys", lambda p: craft(p, {"a": {"dtype": "F32", "shape": [2]}}, f32(1, 2)),
     "exactly the keys dtype, shape and data_offsets"),
    ("extra key", lambda p: craft(p, {"a": {**entry(), "code": "import os"}}, f32(1, 2)),
     "exactly the keys"),
    ("offsets past the end", lambda p: craft(p, {"a": entry(offsets=(0, 8))}, f32(1)),
     r"runs past the end of the data \(4 bytes\)"),
    ("truncated data", lambda p: craft(p, {"a": entry(shape=(4,), offsets=(0, 16))}, f32(1, 2)),
     "truncated or corrupted"),
    ("reversed offsets", lambda p: craft(p, {"a": entry(offsets=(8, 0))}, f32(1, 2)),
     r"0 <= begin <= end"),
    ("size mismatch", lambda p: craft(p, {"a": entry(shape=(3,), offsets=(0, 8))}, f32(1, 2)),
     "needs 12 bytes but its offsets span 8"),
    ("overlap", lambda p: craft(p, {"a": entry(offsets=(0, 8)), "b": entry(offsets=(4, 12))},
                                f32(1, 2, 3)), "overlaps the previous tensor"),
    ("gap", lambda p: craft(p, {"a": entry(shape=(1,), offsets=(4, 8))}, f32(1, 2)),
     "bytes 0..4 before 'a' belong to no tensor"),
    ("trailing bytes", lambda p: craft(p, {"a": entry()}, f32(1, 2, 3)),
     "4 bytes after the last tensor"),
    ("bad metadata", lambda p: craft(p, {"__metadata__": {"a": 1}}), "__metadata__ must map"),
    ("metadata list", lambda p: craft(p, {"__metadata__": []}), "__metadata__ must map"),
]


@pytest.mark.parametrize("make, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_files_raise_format_error(tmp_path, make, message):
    path = tmp_path / "bad.safetensors"
    make(path)
    with pytest.raises(FormatError, match=message) as info:
        read_safetensors(path)
    assert str(path) in str(info.value) and "not a valid safetensors file" in str(info.value)
    assert isinstance(info.value, ValueError)
    model = nn.Linear(1, 2)
    before = model.state_dict()
    with pytest.raises(FormatError):
        model.load_weights(path)
    with pytest.raises(FormatError):
        gk.load(path)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_every_truncation_and_every_flipped_header_byte_is_caught(tmp_path):
    good = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    data = gk.save(good, tmp_path / "good.safetensors")
    raw = (tmp_path / "good.safetensors").read_bytes()
    bad = tmp_path / "bad.safetensors"
    header_end = 8 + int.from_bytes(raw[:8], "little")
    for cut in sorted({0, 3, 7, 8, 9, header_end // 2, header_end, header_end + 1,
                       len(raw) - 1}):
        bad.write_bytes(raw[:cut])
        with pytest.raises(FormatError):
            gk.load(bad)
    for i in range(0, 8):  # the length field
        flipped = bytearray(raw)
        flipped[i] ^= 0xFF
        bad.write_bytes(bytes(flipped))
        with pytest.raises(FormatError):
            gk.load(bad)
    assert gk.load(data) is not None


def test_bf16_is_read_as_float32(tmp_path):
    values = np.array([1.0, -2.5, 3.140625], np.float32)
    words = (values.view(np.uint32) >> 16).astype("<u2")
    path = craft(tmp_path / "bf.safetensors", {"w": entry("BF16", (3,), (0, 6))},
                 words.tobytes())
    got, _ = read_safetensors(path)
    assert got["w"].dtype == np.float32
    np.testing.assert_array_equal(got["w"], values)


def test_files_are_read_by_the_safetensors_library_and_back(tmp_path):
    st = pytest.importorskip("safetensors.numpy", reason="safetensors is not installed "
                                                           "(pip install safetensors)")
    tensors = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array(3, np.int64),
               "b": np.array([True, False]), "e": np.zeros((0,), np.float64)}
    ours = write_safetensors(tmp_path / "ours.safetensors", tensors, {"k": "v"})
    theirs = st.load_file(ours)
    theirs_path = tmp_path / "theirs.safetensors"
    st.save_file(tensors, theirs_path, metadata={"k": "v"})
    back, meta = read_safetensors(theirs_path)
    assert meta == {"k": "v"}
    for k, v in tensors.items():
        np.testing.assert_array_equal(theirs[k], v)
        np.testing.assert_array_equal(back[k], v)
        assert theirs[k].dtype == back[k].dtype == v.dtype
