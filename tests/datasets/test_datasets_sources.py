"""Cache location, atomic writes, the verifying downloader, DatasetUnavailable."""

from __future__ import annotations

import os
import stat
import urllib.error
from pathlib import Path

import pytest

from gradkit.datasets import DatasetUnavailable
from gradkit.datasets.sources import (
    ChecksumError,
    atomic_write,
    cache_dir,
    check_sha256,
    download,
    offline,
    sha256_bytes,
)


def test_cache_dir_precedence(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert cache_dir() == tmp_path / "h" / ".cache" / "gradkit"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # XDG says: must be absolute
    assert cache_dir() == tmp_path / "h" / ".cache" / "gradkit"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "gradkit"
    monkeypatch.setenv("GRADKIT_DATA", str(tmp_path / "data"))
    assert cache_dir() == tmp_path / "data"


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("0", False), ("", False)])
def test_offline_flag(monkeypatch, value, expected) -> None:
    monkeypatch.setenv("GRADKIT_OFFLINE", value)
    assert offline() is expected


def test_atomic_write_creates_and_replaces(tmp_path) -> None:
    target = tmp_path / "sub" / "f.bin"
    with atomic_write(target) as f:
        f.write(b"one")
    assert target.read_bytes() == b"one"
    with atomic_write(target) as f:
        f.write(b"two")
        assert target.read_bytes() == b"one"  # nothing visible until the write is complete
    assert target.read_bytes() == b"two"
    assert list(target.parent.iterdir()) == [target]  # no temp file left
    mode = stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_atomic_write_failure_keeps_old_file(tmp_path) -> None:
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write(b"partial")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]


def test_check_sha256() -> None:
    check_sha256(b"abc", sha256_bytes(b"abc"), "x")
    with pytest.raises(ChecksumError, match="x: SHA-256 mismatch"):
        check_sha256(b"abd", sha256_bytes(b"abc"), "x")


def test_download_verifies_before_placing(tmp_path, fake_network) -> None:
    body = b"payload" * 100
    fake_network({"https://m/x": body})

    def verify(path: Path) -> None:
        check_sha256(path.read_bytes(), sha256_bytes(body), str(path))

    dest = download("https://m/x", tmp_path / "d" / "x.gz", verify, max_bytes=10_000)
    assert dest.read_bytes() == body

    def refuse(path: Path) -> None:
        raise ChecksumError("nope")

    with pytest.raises(ChecksumError):
        download("https://m/x", tmp_path / "e" / "x.gz", refuse, max_bytes=10_000)
    assert not (tmp_path / "e").exists()  # nothing left behind, not even the folder
    with pytest.raises(ValueError, match="more than 10 bytes"):
        download("https://m/x", tmp_path / "f" / "x.gz", verify, max_bytes=10)
    with pytest.raises(urllib.error.URLError):
        download("https://other/x", tmp_path / "g" / "x.gz", verify, max_bytes=10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_dataset_unavailable_message() -> None:
    err = DatasetUnavailable("Thing", [("place A", "missing"), ("place B", "bad hash")],
                             ["pip install thing", "set GRADKIT_DATA"])
    text = str(err)
    assert isinstance(err, RuntimeError)
    assert "1. place A: missing" in text and "2. place B: bad hash" in text
    assert "- pip install thing" in text and "- set GRADKIT_DATA" in text
    assert err.attempts == [("place A", "missing"), ("place B", "bad hash")]
