"""Full disks, read-only folders and paths under files: a save fails with an OSError and
leaves the previous file as it was; `gradkit train` says what is wrong in one line and
exits non-zero; orphaned temporary files are cleaned up, and only ours."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

import gradkit as gk
from gradkit import nn
from gradkit.cli import guards
from gradkit.io import atomic

from .test_resume import cli, one_line

QUICK = ["train", "--dataset", "iris", "--hidden", "4", "--epochs", "2", "--quiet",
         "--patience", "0"]


def test_a_save_on_a_full_disk_fails_and_keeps_the_old_file(full_dir):
    small = nn.Linear(2, 2)
    path = gk.save(small, full_dir / "model.safetensors")
    before = (full_dir / "model.safetensors").read_bytes()
    with pytest.raises(OSError) as info:
        gk.save(nn.Linear(300, 300), path)  # 360 kB: more than the disk holds
    assert info.value.errno == errno.ENOSPC
    assert (full_dir / "model.safetensors").read_bytes() == before
    assert os.listdir(full_dir) == ["model.safetensors"]  # no temporary file left


def test_a_save_into_a_read_only_folder_fails_cleanly(read_only_dir):
    with pytest.raises(OSError) as info:
        gk.save(nn.Linear(2, 2), read_only_dir / "model.safetensors")
    assert info.value.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
    assert os.listdir(read_only_dir) == []


def test_train_into_a_full_disk_says_so_before_training(full_dir, capsys):
    code, _, err = cli([*QUICK, "--out", str(full_dir / "run")], capsys)
    assert code == 1 and "free on its disk" in one_line(err) and "--out" in err


def test_train_into_a_read_only_folder(read_only_dir, capsys):
    code, _, err = cli([*QUICK, "--out", str(read_only_dir / "run")], capsys)
    assert code == 2 and "cannot write there" in one_line(err)


def test_train_under_a_file(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, _, err = cli([*QUICK, "--out", str(tmp_path / "file" / "a" / "b")], capsys)
    assert code == 2 and "is a file, so no folder can be made inside it" in one_line(err)


def test_too_little_space_is_refused_before_training(tmp_path, capsys, monkeypatch):
    real = os.statvfs

    class Nearly:
        def __init__(self, st):
            self.f_frsize, self.f_bavail = st.f_frsize, 3

    monkeypatch.setattr(guards.os, "statvfs", lambda p: Nearly(real(p)))
    code, _, err = cli([*QUICK, "--out", str(tmp_path / "run")], capsys)
    assert code == 1 and "free some space" in one_line(err)


def test_the_disk_filling_up_during_training(tmp_path, capsys, monkeypatch):
    """ENOSPC at the second epoch's checkpoint: one line, and the first epoch's checkpoint
    is intact (the run can --resume once there is room)."""
    from gradkit.io import safe

    out = tmp_path / "run"
    real, calls = safe._write_stream, []

    def fill_up(f, header, arrays):
        calls.append(1)
        if len(calls) >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(f, header, arrays)

    monkeypatch.setattr(safe, "_write_stream", fill_up)
    code, _, err = cli([*QUICK, "--out", str(out)], capsys)
    assert code == 1 and "no space is left" in one_line(err) and "--resume" in err
    info = gk.load_checkpoint(out / "checkpoint.safetensors", nn.Sequential(
        nn.Linear(4, 4), nn.ReLU(), nn.Dropout(0.2), nn.Linear(4, 3)))
    assert info["epoch"] == 1
    monkeypatch.undo()
    code, out_text, _ = cli(["train", "--resume", "--out", str(out)], capsys)
    assert code == 0 and "resuming after epoch 1" in out_text


# ---- orphans of killed saves --------------------------------------------------------------------
def _old(path, seconds=3600):
    path.write_bytes(b"partial")
    t = time.time() - seconds
    os.utime(path, (t, t))
    return path


def test_only_our_old_orphans_are_removed(tmp_path):
    ours = [_old(tmp_path / ".model.safetensors.ab12cd_9.tmp"),
            _old(tmp_path / ".train-images.gz.q1w2e3r4.part")]
    kept = [_old(tmp_path / "notes.tmp"), _old(tmp_path / ".model.safetensors.tmp"),
            _old(tmp_path / ".x.ABCDEFGH.tmp"), _old(tmp_path / "model.safetensors"),
            _old(tmp_path / ".young.abcdefgh.tmp", seconds=0)]
    (tmp_path / ".dir.abcdefgh.tmp").mkdir()
    atomic.atomic_write_bytes(tmp_path / "new.bin", b"new")
    assert not any(p.exists() for p in ours)
    assert all(p.exists() for p in kept) and (tmp_path / ".dir.abcdefgh.tmp").is_dir()


def test_many_orphans_do_not_pile_up(tmp_path):
    for i in range(30):
        _old(tmp_path / f".model.safetensors.{i:08d}.tmp")
    gk.save(nn.Linear(3, 3), tmp_path / "model.safetensors")
    assert sorted(os.listdir(tmp_path)) == ["model.safetensors"]


def test_a_folder_that_cannot_be_listed_does_not_stop_a_save(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.os, "scandir", lambda p: (_ for _ in ()).throw(OSError("x")))
    path = atomic.atomic_write_bytes(tmp_path / "a.bin", b"abc")
    assert Path(path).read_bytes() == b"abc"


def test_model_checkpoint_never_replaces_a_good_file_with_nans(tmp_path):
    """fit with lr 1e30 diverges in its second epoch; ModelCheckpoint keeps epoch 1's file."""
    import numpy as np

    from gradkit.callbacks import ModelCheckpoint

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    model.compile(optimizer=gk.optim.SGD(model.parameters(), lr=0.01), loss="cross_entropy")
    path = tmp_path / "best.safetensors"
    check = ModelCheckpoint(path, save_best_only=False)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[check])
    good = path.read_bytes()
    model.optimizer.param_groups[0]["lr"] = 1e30
    with np.errstate(all="ignore"), pytest.warns(UserWarning, match=r"NaN or infinite after "
                                                 r"epoch [23]; not saving") as seen:
        model.fit(x, y, epochs=3, initial_epoch=1, verbose=0, callbacks=[check])
    assert path.read_bytes() == good and len(seen) == 2
