"""Corrupt caches: an MNIST cache that fails verification (not a zip, torn, a flipped byte,
a header asking for a gigabyte, other content) is moved aside as `*.corrupt-<time>` with a
warning, the next source is used and the cache rebuilt; a torn earlier download is moved
aside before it is fetched again; `gradkit train` says so in one `note:` line."""

from __future__ import annotations

import gzip
import hashlib
import io
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gradkit.datasets import DatasetUnavailable, mnist, sources
from gradkit.datasets.idx import encode_idx
from gradkit.datasets.specs import KEYS, IdxDataset, IdxFile

from .test_resume import cli, one_line

NAMES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
         "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def tiny(tmp_path: Path, n_train=60, n_test=20, mirrors=()):
    """A small MNIST-like spec named "mnist" (28x28 images), its arrays, and a system
    directory holding its IDX files (the next source after the cache)."""
    rng = np.random.default_rng(0)
    arrays = {"train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
              "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "test_labels": (np.arange(n_test) % 10).astype(np.uint8)}
    files = {k: IdxFile(NAMES[k], arrays[k].shape,
                        hashlib.sha256(encode_idx(arrays[k])).hexdigest()) for k in KEYS}
    system = tmp_path / "system"
    system.mkdir()
    for k in KEYS:
        (system / f"{NAMES[k]}.gz").write_bytes(gzip.compress(encode_idx(arrays[k])))
    spec = IdxDataset(name="mnist", title="TinyMNIST", files=files,
                      system_dirs=(str(system),), mirrors=mirrors, hints=("HINT",))
    return spec, arrays, system


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """gradkit's cache folder, empty, under tmp_path; offline, no GRADKIT_DATA."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("GRADKIT_DATA", raising=False)
    monkeypatch.setenv("GRADKIT_OFFLINE", "1")
    return tmp_path / "gradkit"


def _npz(arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, x_train=arrays["train_images"], y_train=arrays["train_labels"],
             x_test=arrays["test_images"], y_test=arrays["test_labels"])
    return buf.getvalue()


def _flip(data: bytes) -> bytes:
    b = bytearray(data)
    b[len(b) // 2] ^= 0xFF
    return bytes(b)


def _huge_header(arrays) -> bytes:
    """A valid zip whose x_train.npy header asks for 10**9 images of 28x28."""
    good = _npz(arrays)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "x_train.npy":
                head = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    head, {"descr": "|u1", "fortran_order": False, "shape": (10**9, 28, 28)})
                data = head.getvalue() + b"\0" * 64
            dst.writestr(name, data)
    return out.getvalue()


CORRUPTIONS = {
    "not a zip": lambda a: b"this is not a zip file at all" * 10,
    "torn (half written)": lambda a: _npz(a)[: len(_npz(a)) // 2],
    "a flipped byte": lambda a: _flip(_npz(a)),
    "a header asking for 784 GB": _huge_header,
    "other content": lambda a: _npz({**a, "train_labels": (a["train_labels"] + 1) % 10}),
    "empty": lambda a: b"",
}


@pytest.mark.parametrize("make", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_a_corrupt_cache_is_moved_aside_and_the_next_source_used(tmp_path, cache, make):
    spec, arrays, _ = tiny(tmp_path)
    cache.mkdir(parents=True)
    bad = make(arrays)
    (cache / "mnist.npz").write_bytes(bad)
    tracemalloc.start()
    with pytest.warns(sources.CorruptCacheWarning, match="failed verification.*moved it aside"):
        (x, y), (xt, yt) = mnist.load_idx_dataset(spec)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 << 20, f"{peak >> 20} MB allocated"
    np.testing.assert_array_equal(x, arrays["train_images"])
    np.testing.assert_array_equal(yt, arrays["test_labels"])
    aside = [p for p in cache.iterdir() if p.name.startswith("mnist.npz.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == bad  # nothing deleted
    with np.load(cache / "mnist.npz") as z:  # the cache was rebuilt from the next source
        np.testing.assert_array_equal(z["y_train"], arrays["train_labels"])


def test_with_no_other_source_the_message_says_it_was_moved(tmp_path, cache):
    spec, arrays, system = tiny(tmp_path)
    for f in system.iterdir():
        f.unlink()
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.warns(sources.CorruptCacheWarning), \
            pytest.raises(DatasetUnavailable, match=r"BadZipFile.*moved aside to mnist\.npz"):
        mnist.load_idx_dataset(spec)
    with pytest.raises(DatasetUnavailable, match="no such file"):  # the next run: no trip
        mnist.load_idx_dataset(spec)


def test_a_cache_that_cannot_be_moved_still_lets_the_next_source_load(tmp_path, cache,
                                                                      monkeypatch):
    spec, arrays, _ = tiny(tmp_path)
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"junk")

    def refuse(a, b):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sources.os, "replace", refuse)  # (so the new cache is not written)
    with pytest.warns(UserWarning) as seen:
        (x, _), _ = mnist.load_idx_dataset(spec)
    np.testing.assert_array_equal(x, arrays["train_images"])
    assert any(w.category is sources.CorruptCacheWarning
               and "could not be moved aside" in str(w.message) for w in seen)
    assert (cache / "mnist.npz").read_bytes() == b"junk"


def test_a_torn_earlier_download_is_moved_aside_and_fetched_again(tmp_path, cache,
                                                                  monkeypatch):
    spec, arrays, system = tiny(tmp_path, mirrors=("https://mirror.test/",))
    for f in system.iterdir():
        f.unlink()
    downloads = cache / "mnist"
    downloads.mkdir(parents=True)
    torn = gzip.compress(encode_idx(arrays["train_images"]))[:100]
    (downloads / "train-images-idx3-ubyte.gz").write_bytes(torn)
    bodies = {f"https://mirror.test/{NAMES[k]}.gz": gzip.compress(encode_idx(arrays[k]))
              for k in KEYS}

    class Response(io.BytesIO):
        headers: dict = {}

    monkeypatch.setattr(sources.urllib.request, "urlopen",
                        lambda req, timeout=None: Response(bodies[req.full_url]))
    monkeypatch.delenv("GRADKIT_OFFLINE")
    with pytest.warns(sources.CorruptCacheWarning, match="train-images-idx3-ubyte.gz"):
        (x, _), _ = mnist.load_idx_dataset(spec)
    np.testing.assert_array_equal(x, arrays["train_images"])
    aside = [p for p in downloads.iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == torn


def test_gradkit_train_with_a_corrupt_cache_notes_it_and_trains(tmp_path, cache, capsys,
                                                                monkeypatch):
    spec, _, _ = tiny(tmp_path)
    monkeypatch.setattr(mnist, "MNIST", spec)
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"PK\x03\x04 torn by a crash")
    code, out, err = cli(["train", "--dataset", "mnist", "--hidden", "8", "--epochs", "1",
                          "--quiet", "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    line = one_line(err)
    assert line.startswith("note: the cached") and "moved it aside" in line
    assert "test accuracy" in out
