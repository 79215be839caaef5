"""Kills: a `fit` run (the documented checkpoint recipe, with shuffling) and a `gradkit train`
run SIGKILLed at random moments and resumed end with the weights, bit for bit, of runs that
never stopped; a kill during a save never leaves a torn file, and its orphaned temporary
file is removed by the next save."""

from __future__ import annotations

import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gradkit.io import read_safetensors

from . import fit_worker

WORKER = pathlib.Path(fit_worker.__file__)
ROOT = WORKER.parents[2]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")])}


def _start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *map(str, args)], env=_env(), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _finish(proc) -> None:
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out.decode()


def _kill_when(proc, ready, delay: float, context: str) -> bool:
    """SIGKILL `proc` `delay` seconds after `ready()` holds; False if it ended first."""
    deadline = time.monotonic() + 300
    while not ready():
        if proc.poll() is not None:
            return False
        assert time.monotonic() < deadline, f"the worker never got ready {context}"
        time.sleep(0.002)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return proc.returncode == -signal.SIGKILL


def _same_file(a: pathlib.Path, b: pathlib.Path, context: str) -> None:
    want, _ = read_safetensors(a)
    got, _ = read_safetensors(b)
    assert list(got) == list(want)
    for name in want:
        assert got[name].dtype == want[name].dtype
        assert np.array_equal(got[name], want[name]), f"{name} differs {context}"


def _fit_kills(tmp_path, kills: int) -> None:
    """Kill the run `kills` times (or until it finishes first), resuming it each time."""
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    straight.mkdir(), killed.mkdir()
    reference = _start(WORKER, straight)
    chooser = random.Random()
    context = ""
    for i in range(kills):
        after = chooser.randint(2, fit_worker.STEPS - 6) if i == 0 else chooser.randint(1, 12)
        delay = chooser.uniform(0.0, 0.15)
        context += f" kill {i + 1} {after} steps + {delay * 1000:.0f} ms in;"
        (killed / "marker").unlink(missing_ok=True)
        proc = _start(WORKER, killed, "--resume", "--marker-after", after)
        if not _kill_when(proc, (killed / "marker").exists, delay, context):
            assert i > 0 and proc.returncode == 0, f"the first run was not killed ({context})"
            break  # it finished before this kill
        if (killed / "final.safetensors").exists():
            break  # the kill landed after the final (atomic) save, as the process exited
    if not (killed / "final.safetensors").exists():
        _finish(_start(WORKER, killed, "--resume"))
    _finish(reference)
    _same_file(straight / "final.safetensors", killed / "final.safetensors", f"({context})")
    assert not [p.name for p in killed.iterdir() if p.name.endswith(".tmp")
                and time.time() - p.stat().st_mtime > 10], "orphans older than the grace"


def test_a_fit_killed_at_a_random_step_resumes_bit_for_bit(tmp_path):
    _fit_kills(tmp_path, kills=1)


@pytest.mark.slow
def test_a_fit_killed_again_and_again_resumes_bit_for_bit(tmp_path):
    _fit_kills(tmp_path, kills=6)


CLI = ["-m", "gradkit", "train", "--dataset", "digits", "--hidden", "32", "--epochs", "12",
       "--patience", "0", "--quiet"]


@pytest.mark.slow
def test_gradkit_train_killed_and_resumed_matches_a_straight_run(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    reference = _start(*CLI, "--out", straight)
    delay = random.Random().uniform(0.0, 0.5)
    proc = _start(*CLI, "--out", killed)
    ckpt = killed / "checkpoint.safetensors"
    if not _kill_when(proc, ckpt.exists, delay, f"(+{delay:.2f} s)"):
        pytest.skip("the run ended before the kill")
    _finish(_start(*CLI, "--out", killed, "--resume"))
    _finish(reference)
    _same_file(straight / "model.safetensors", killed / "model.safetensors",
               f"(killed {delay:.2f} s after the first checkpoint)")


# ---- a kill during a save ---------------------------------------------------------------------
WRITER = """
import sys, time
from gradkit.io import atomic
with atomic.atomic_file(sys.argv[1]) as (f, tmp):
    f.write(b"x" * 1000)
    f.flush()
    print(tmp, flush=True)
    time.sleep(600)
"""


def _writer(path) -> tuple[subprocess.Popen, pathlib.Path]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=_env(),
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    assert line, "the writer did not start"
    return proc, pathlib.Path(line)


def _age(path: pathlib.Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_a_save_killed_half_way_leaves_the_old_file_and_its_orphan_is_removed(tmp_path):
    import gradkit as gk
    from gradkit import nn

    target = tmp_path / "model.safetensors"
    model = nn.Linear(3, 2)
    gk.save(model, target)
    before = target.read_bytes()
    proc, tmp = _writer(target)
    proc.kill()
    proc.wait(timeout=30)
    assert target.read_bytes() == before and tmp.exists()  # the old file, and an orphan
    _age(tmp, 60)
    gk.save(model, target)  # the next save into the folder removes it
    assert not tmp.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_a_live_writers_temporary_file_is_never_removed(tmp_path):
    from gradkit.io import atomic

    proc, tmp = _writer(tmp_path / "big.bin")
    try:
        _age(tmp, 3600)  # old, but its writer holds the lock
        atomic.atomic_write_bytes(tmp_path / "other.bin", b"data")
        assert tmp.exists()
        assert atomic.clean_stale(tmp_path) == []
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert atomic.clean_stale(tmp_path) == [tmp.name]  # its writer is gone now
