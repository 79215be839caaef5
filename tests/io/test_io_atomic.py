"""Atomic writes: a save that fails half-way leaves the previous file intact and no
temporary file behind."""

from __future__ import annotations

import os

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.io import atomic, safe

from .helpers import assert_same_state, randomize, small_model


def _fail_half_way(exc):
    def write(f, header, arrays):
        f.write(len(header).to_bytes(8, "little"))
        f.write(header[: len(header) // 2])
        f.flush()
        raise exc
    return write


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failed_save_leaves_the_old_model_file(tmp_path, monkeypatch, exc):
    old = randomize(small_model(), 1)
    path = gk.save(old, tmp_path / "model.safetensors")
    before = (tmp_path / "model.safetensors").read_bytes()
    monkeypatch.setattr(safe, "_write_stream", _fail_half_way(exc))
    with pytest.raises(type(exc)):
        gk.save(randomize(small_model(), 2), path)
    with pytest.raises(type(exc)):
        randomize(small_model(), 3).save_weights(path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["model.safetensors"]  # no temporary file left
    assert (tmp_path / "model.safetensors").read_bytes() == before
    assert_same_state(gk.load(path), old)


def test_failed_checkpoint_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    model = randomize(small_model())
    opt = optim.Adam(model.parameters(), lr=0.1)
    path = gk.save_checkpoint(tmp_path / "ckpt.safetensors", model, opt, epoch=1)
    monkeypatch.setattr(safe, "_write_stream", _fail_half_way(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        gk.save_checkpoint(path, randomize(small_model(), 9), opt, epoch=2)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]
    fresh = small_model()
    info = gk.load_checkpoint(path, fresh, optim.Adam(fresh.parameters(), lr=0.1))
    assert info["epoch"] == 1
    assert_same_state(fresh, model)


def test_failed_rename_removes_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    nn.Linear(2, 2).save_weights(path)
    before = path.read_bytes()

    def no_rename(src, dst):
        raise PermissionError("rename refused")

    monkeypatch.setattr(atomic.os, "replace", no_rename)
    with pytest.raises(PermissionError):
        nn.Linear(2, 2).save_weights(path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["w.safetensors"] and path.read_bytes() == before


def test_data_is_fsynced_before_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = atomic.os.fsync, atomic.os.replace
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(atomic.os, "replace",
                        lambda a, b: (events.append("replace"), real_replace(a, b)))
    nn.Linear(2, 2).save_weights(tmp_path / "w.safetensors")
    assert events == ["fsync", "replace", "fsync"]  # file, rename, directory


def test_creates_missing_directories_and_overwrites(tmp_path):
    path = tmp_path / "a" / "b" / "w.safetensors"
    first = randomize(nn.Linear(2, 2), 1)
    first.save_weights(path)
    second = randomize(nn.Linear(2, 2), 2)
    second.save_weights(path)
    fresh = nn.Linear(2, 2)
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.weight.numpy(), second.weight.numpy())
    assert os.listdir(path.parent) == ["w.safetensors"]


def test_saved_files_get_the_permissions_open_would_give(tmp_path):
    path = gk.save(small_model(), tmp_path / "model.safetensors")
    want = 0o666 & ~atomic._umask()
    assert os.stat(path).st_mode & 0o777 == want  # not mkstemp's owner-only 0600
    with atomic.atomic_file(tmp_path / "x.bin") as (f, tmp):
        assert os.path.dirname(tmp) == str(tmp_path) and tmp.endswith(atomic.TMP_SUFFIX)
        f.write(b"ok")
    assert (tmp_path / "x.bin").read_bytes() == b"ok"
    assert os.stat(tmp_path / "x.bin").st_mode & 0o777 == want
