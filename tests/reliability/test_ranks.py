"""Rank failures under mpiexec (2 ranks, the jobs of tests/distributed/_faults.py): whatever
one rank does, the job ends within the time limit, non-zero, saying what happened. Skipped,
with the reason, where mpi4py or mpiexec is missing; tests/distributed/test_faults.py holds
the whole table."""

from __future__ import annotations

import time

import pytest

from tests.distributed.mpirun import FAULTS, needs_mpiexec, run_workers

LIMIT = 60  # seconds: a job still running then has hung, and fails the test

CASES = [
    ("exit_in_fit", ["3"], "exited with sys.exit(3)"),
    ("killed", ["SIGKILL"], "signal"),
    ("caught", [], "has ended"),
    ("mismatch_uncaught", [], "(64, 8) on rank 0 but (65, 8) on rank 1"),
]


@needs_mpiexec
@pytest.mark.parametrize("name, args, words", CASES, ids=[c[0] for c in CASES])
def test_one_failing_rank_ends_the_whole_job(tmp_path, name, args, words):
    start = time.monotonic()
    code, output = run_workers(2, name, str(tmp_path / "out"), *args, timeout=LIMIT,
                               script=FAULTS)
    assert code is not None, f"the job hung until the {LIMIT} s timeout:\n{output}"
    assert code != 0 and words in output, output
    assert time.monotonic() - start < LIMIT
