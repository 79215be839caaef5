"""Real MPI jobs: 2 ranks under mpiexec (tests/distributed/_workers.py), each under a timeout."""

import json
import sys

import numpy as np
import pytest

from gradkit.distributed.launch import mpiexec_command

from .mpirun import MPIEXEC, ROOT, needs_mpi4py, needs_mpiexec, run, run_workers


def _report(path, code, output):
    assert code == 0, f"the job failed (exit {code}):\n{output}"
    with open(path) as f:
        return json.load(f)


def _close(diffs, atol=1e-7):
    """Every rank's largest |distributed - single process| is float32 rounding."""
    return all(max_abs <= atol for max_abs, _ in diffs)


@needs_mpiexec
def test_two_ranks_train_like_one_process_with_the_global_batch(tmp_path):
    out = tmp_path / "loop.json"
    code, output = run_workers(2, "loop", str(out), timeout=60)
    r = _report(out, code, output)
    assert r["world_size"] == 2 and r["steps"] == 8
    assert _close(r["diff"]), r["diff"]  # equal to the single-process run, to rounding
    assert r["in_sync"]  # bitwise identical parameters on every rank
    assert r["checksums"][0] == r["checksums"][1]
    assert r["unused_grad_is_none"]
    assert r["stats"]["allreduce_calls"] == r["steps"]  # one bucket: one call per step
    # Tiny buckets: several (non-blocking) calls per step, bitwise the same result.
    assert r["small_stats"]["allreduce_calls"] > 2 * r["steps"]
    assert r["small_buckets_same"]


@needs_mpiexec
def test_fit_distributed_matches_one_process_and_resumes_on_one_rank(tmp_path):
    out = tmp_path / "fit.json"
    code, output = run_workers(2, "fit", str(out), timeout=60)
    r = _report(out, code, output)
    assert r["in_sync"] and r["histories_equal"]
    assert _close(r["diff"]), r["diff"]
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):  # means over all samples
        np.testing.assert_allclose(r["history"][key], r["ref_history"][key], rtol=1e-6)
    # only rank 0 printed (verbose=2: one line per epoch) and wrote the CSV log
    assert output.count("Epoch 1/1") == 1 and output.count("Epoch 2/2") == 1, output
    assert len((tmp_path / "fit.json.csv").read_text().splitlines()) == 2
    # The checkpoint after epoch 1 (2 ranks) continued on 1 rank gives the same weights.
    resumed = tmp_path / "resume.json"
    code, output = run_workers(None, "resume", str(resumed), str(out) + ".ckpt", timeout=60)
    r1 = _report(resumed, code, output)
    assert r1["world_size"] == 1
    np.testing.assert_allclose(r1["history"]["loss"], r["history"]["loss"][1:], rtol=1e-6)
    two, one = np.load(str(out) + ".npz"), np.load(str(resumed) + ".npz")
    for k in two:
        np.testing.assert_allclose(one[k], two[k], rtol=1e-6, atol=1e-7)


@needs_mpiexec
@pytest.mark.parametrize("worker,message", [
    ("fail", "ValueError: bad sample in the data of rank 1"),
    ("fit_fail", "ValueError: corrupt sample"),
])
def test_an_exception_on_one_rank_ends_the_job(tmp_path, worker, message):
    code, output = run_workers(2, worker, str(tmp_path / "x.json"), timeout=40)
    assert code is not None, f"the job hung until the timeout:\n{output}"
    assert code != 0
    assert message in output and "rank 1 of 2 failed" in output, output


@needs_mpi4py
def test_one_process_without_mpiexec_is_a_world_of_one(tmp_path):
    out = tmp_path / "loop.json"
    code, output = run_workers(None, "loop", str(out), timeout=60)
    r = _report(out, code, output)
    assert r["world_size"] == 1 and r["stats"]["allreduce_calls"] == 0
    assert _close(r["diff"], atol=0.0)  # no reduction: bit for bit the plain loop


def test_the_harness_kills_a_job_that_hangs():
    code, _ = run([sys.executable, "-c", "import time; print('started', flush=True); "
                   "time.sleep(60)"], timeout=2)
    assert code is None


@needs_mpiexec
def test_the_example_runs_on_two_ranks():
    example = str(ROOT / "examples" / "distributed_fit.py")
    code, output = run(mpiexec_command(2, [sys.executable, example, "--epochs", "2"], MPIEXEC),
                       timeout=60)
    assert code == 0, output
    assert "2 rank(s), global batch 64 = 2 x 32" in output
    assert output.count("Epoch 1/2") == 1  # rank 0 only
    assert "parameters identical on all ranks: True" in output
