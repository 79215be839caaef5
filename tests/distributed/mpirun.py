"""Running tests/distributed/_workers.py under mpiexec, with a hard timeout."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from gradkit.distributed.launch import find_mpiexec, launch_env, mpiexec_command, run_job

ROOT = Path(__file__).resolve().parents[2]
WORKERS = Path(__file__).with_name("_workers.py")
HAVE_MPI4PY = importlib.util.find_spec("mpi4py") is not None
MPIEXEC = find_mpiexec()

needs_mpi4py = pytest.mark.skipif(not HAVE_MPI4PY, reason="mpi4py is not installed "
                                  "(pip install 'gradkit[mpi]')")
needs_mpiexec = pytest.mark.skipif(
    not (HAVE_MPI4PY and MPIEXEC),
    reason="needs mpi4py and mpiexec (pip install 'gradkit[mpi]' installs both)")


FAULTS = Path(__file__).with_name("_faults.py")


def run(cmd: list[str], timeout: float, env: dict | None = None) -> tuple[int | None, str]:
    """(exit code, or None after the timeout killed the job, output); `env`: extra
    variables."""
    full = launch_env(allow_root=True, threads_per_rank=1, pythonpath=str(ROOT))
    full.update(env or {})
    return run_job(cmd, timeout, env=full, cwd=ROOT)


def run_workers(n: int | None, name: str, *args: str, timeout: float = 60,
                script: Path = WORKERS, env: dict | None = None) -> tuple:
    """Run worker `name` of `script` on `n` ranks under mpiexec (n=None: one plain
    process)."""
    cmd = [sys.executable, str(script), name, *args]
    return run(cmd if n is None else mpiexec_command(n, cmd, MPIEXEC), timeout, env)
