"""Kill and resume: a training process SIGKILLed at a random batch and resumed from its last
checkpoint ends with the same weights, bit for bit, as a run that never stopped."""

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

from . import resume_worker

WORKER = pathlib.Path(resume_worker.__file__)
ROOT = WORKER.parents[2]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")


def _start(workdir, *args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(WORKER), str(workdir), *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _finish(proc) -> None:
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out.decode()


def test_killed_and_resumed_run_matches_an_uninterrupted_one(tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    straight.mkdir(), killed.mkdir()
    reference = _start(straight)  # runs while the other one is killed and resumed

    chooser = random.Random()
    marker_at = chooser.randint(resume_worker.EVERY + 1, resume_worker.STEPS - 8)
    delay = chooser.uniform(0.0, 0.06)
    context = f"(killed after step {marker_at} + {delay * 1000:.0f} ms)"
    proc = _start(killed, "--marker-at", str(marker_at))
    deadline = time.monotonic() + 120
    while not (killed / "marker").exists():
        assert proc.poll() is None, f"the worker ended early {context}: {proc.stdout.read()}"
        assert time.monotonic() < deadline, "the worker never reached the marker"
        time.sleep(0.002)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"the worker was not killed {context}"
    assert not (killed / "final.safetensors").exists()

    _finish(_start(killed, "--resume"))
    _finish(reference)
    want, _ = read_safetensors(straight / "final.safetensors")
    got, _ = read_safetensors(killed / "final.safetensors")
    assert list(got) == list(want)
    for name in want:
        assert got[name].dtype == want[name].dtype
        assert np.array_equal(got[name], want[name]), f"{name} differs {context}"
    assert (killed / "final.safetensors").read_bytes() == \
        (straight / "final.safetensors").read_bytes()
    leftovers = [p.name for p in killed.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 1, leftovers  # at most the write the kill interrupted
