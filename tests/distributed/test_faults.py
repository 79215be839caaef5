"""Rank failures under mpiexec (2 ranks, tests/distributed/_faults.py): whatever one rank
does (an exit of any code, a caught exception, a signal, a hang, another model or other
data), the job ENDS within seconds with a message; a healthy job still ends normally."""

import json
import sys
import time
from pathlib import Path

import pytest

from .mpirun import FAULTS, needs_mpiexec, run, run_workers

LIMIT = 60  # seconds: the hard timeout of every job (a hang fails the test)


def job(tmp_path, name, *args, env=None):
    """(exit code, output, seconds) of fault job `name` on 2 ranks; fails on a hang."""
    start = time.monotonic()
    code, output = run_workers(2, name, str(tmp_path / "out"), *args, timeout=LIMIT,
                               script=FAULTS, env=env)
    assert code is not None, f"the job hung until the {LIMIT} s timeout:\n{output}"
    return code, output, time.monotonic() - start


def ended_waiting(output):
    return "rank 1 of 2 has ended" in output and "that rank 0 is waiting in" in output


@needs_mpiexec
@pytest.mark.parametrize("code", ["0", pytest.param("3", marks=pytest.mark.slow)])
def test_an_exit_in_a_loop_ends_the_job(tmp_path, code):
    status, output, _ = job(tmp_path, "exit_in_loop", code)
    assert status != 0, output
    assert ended_waiting(output) and "allreduce" in output and "aborting all ranks" in output, \
        output


@needs_mpiexec
def test_an_exit_before_fit_ends_the_job(tmp_path):
    status, output, _ = job(tmp_path, "exit_before_fit")
    assert status != 0 and ended_waiting(output), output


@needs_mpiexec
def test_a_non_zero_exit_inside_fit_aborts_with_its_code(tmp_path):
    status, output, _ = job(tmp_path, "exit_in_fit", "2")
    assert status != 0, output
    assert "rank 1 of 2 exited with sys.exit(2) before the job ended" in output, output


@needs_mpiexec
def test_exit_0_inside_fit_ends_the_job(tmp_path):
    status, output, _ = job(tmp_path, "exit_in_fit", "0")
    assert status != 0 and ended_waiting(output), output
    assert "sys.exit(0)" in output, output


@needs_mpiexec
def test_an_exception_caught_by_the_script_ends_the_job(tmp_path):
    status, output, _ = job(tmp_path, "caught")
    assert "rank 1 caught bad sample on rank 1" in output, output
    assert status != 0 and ended_waiting(output), output


@needs_mpiexec
@pytest.mark.parametrize("name", ["SIGTERM", pytest.param("SIGKILL", marks=pytest.mark.slow)])
def test_a_rank_killed_by_a_signal_ends_the_job(tmp_path, name):
    status, output, _ = job(tmp_path, "killed", name)
    assert status != 0 and "signal" in output, output


@needs_mpiexec
def test_a_collective_times_out_with_a_clear_message(tmp_path):
    status, output, seconds = job(tmp_path, "stuck", env={"GRADKIT_COLLECTIVE_TIMEOUT": "3"})
    assert status != 0, output
    assert "rank 0 of 2 has waited more than 3 s in allreduce" in output, output
    assert "GRADKIT_COLLECTIVE_TIMEOUT (now 3 s; default 600 s" in output, output
    assert seconds < 30


@needs_mpiexec
def test_ranks_with_other_models_or_data_stop_on_every_rank(tmp_path):
    status, output, _ = job(tmp_path, "mismatch")
    assert status == 0, output  # every rank raised and caught the error: nobody hung
    reports = [json.loads((tmp_path / f"out.{r}.json").read_text()) for r in (0, 1)]
    assert reports[0] == reports[1]  # the same error on every rank
    r = reports[0]
    for key in ("dataparallel", "fit_model"):
        assert "ranks hold different models" in r[key], r[key]
        assert "shape (64, 8) on rank 0 but (65, 8) on rank 1" in r[key], r[key]
    for pair, (a, b) in (("2000/1500", (2000, 1500)), ("2000/1990", (2000, 1990))):
        assert f"training samples: {a} on rank 0 but {b} on rank 1" in r[f"fit_{pair}"]
        assert f"samples: {a} on rank 0 but {b} on rank 1" in r[f"sampler_{pair}"]
    assert r["fit_ok"] == "1 epoch(s)"


@needs_mpiexec
def test_an_uncaught_mismatch_ends_the_job(tmp_path):
    status, output, _ = job(tmp_path, "mismatch_uncaught")
    assert status != 0, output
    assert "RankMismatchError" in output and "(64, 8) on rank 0 but (65, 8) on rank 1" in output


@needs_mpiexec
def test_a_rank_that_ends_after_the_last_collective_ends_nothing(tmp_path):
    status, output, _ = job(tmp_path, "late_work")
    assert status == 0, output
    assert (tmp_path / "out").read_text() == "rank 0 finished its own work"
    assert "aborting" not in output, output


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")
def test_the_harness_kills_every_rank_of_a_job_that_hangs():
    """mpiexec puts each rank in a process group of its own: the timeout must kill them too
    (or a hung job leaves ranks running)."""
    script = ("import os, subprocess, sys, time; "
              "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'], "
              "process_group=0); print(p.pid, flush=True); time.sleep(120)")
    code, output = run([sys.executable, "-c", script], timeout=3)
    assert code is None
    child = int(output.split()[0])
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead
