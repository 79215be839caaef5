"""The process group of this job: `init`, `rank`, `world_size`, `is_main`, `barrier`, and
ending the whole job when one rank fails (`install_excepthook`, `abort_on_error`).

One communicator per process, set by `init()`. Before `init()`, a process that no MPI
launcher started counts as a group of one (rank 0 of 1) without importing MPI; a process
that `mpiexec` started calls `init()` on its first question.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from .comm import (
    Communicator,
    MPICommunicator,
    NcclCommunicator,
    SelfCommunicator,
    launched_by_mpi,
)

_state: dict[str, Any] = {"comm": None, "hook": None, "device": None}


def init(backend: str = "mpi", comm: Any = None, abort_on_error: bool = True,
         cuda_aware: bool | None = None) -> tuple[int, int]:
    """Join the job's process group; returns `(rank, world_size)`.

    backend: "mpi" (mpi4py; NumPy buffers, CuPy buffers through the host or, with
    `cuda_aware=True` / `GRADKIT_MPI_CUDA_AWARE=1`, directly), or "nccl" (CuPy buffers GPU to
    GPU through `cupy.cuda.nccl`; also selects GPU `local_rank() % gpu_count` for this
    process). comm: an mpi4py communicator (default `MPI.COMM_WORLD`) or a gradkit
    `Communicator`. Run without mpiexec, MPI makes a group of one: `(0, 1)`.
    abort_on_error: with more than one rank, an uncaught exception on any rank prints its
    traceback and aborts the whole job instead of leaving the others waiting forever.
    Calling `init()` again returns the existing group (pass `comm=` to replace it).
    """
    current = _state["comm"]
    if current is not None and comm is None:
        return current.rank, current.size
    if backend not in ("mpi", "nccl"):
        raise ValueError(f"distributed.init: backend must be 'mpi' or 'nccl', got {backend!r}")
    if isinstance(comm, Communicator):
        group = comm
    else:
        group = MPICommunicator(comm, cuda_aware=cuda_aware)
        if backend == "nccl":
            _state["device"] = _select_gpu(group)
            group = NcclCommunicator(group)
    _state["comm"] = group
    if abort_on_error and group.size > 1:
        install_excepthook()
    return group.rank, group.size


def _select_gpu(group: MPICommunicator) -> str:  # pragma: no cover - needs a GPU
    """Use GPU `local_rank % count` in this process (one GPU per rank on each machine)."""
    import cupy

    count = cupy.cuda.runtime.getDeviceCount()
    if count == 0:
        raise RuntimeError("distributed.init(backend='nccl'): no GPU is visible to rank "
                           f"{group.rank}")
    index = group.local_rank() % count
    cupy.cuda.Device(index).use()
    return f"cuda:{index}"


def get_communicator() -> Communicator:
    """The communicator of this process (`init()` first when an MPI launcher started it)."""
    comm = _state["comm"]
    if comm is None:
        if launched_by_mpi():
            init()
            return _state["comm"]
        return SelfCommunicator()
    return comm


def is_initialized() -> bool:
    """True after `init()`."""
    return _state["comm"] is not None


def rank() -> int:
    """This process's rank, 0..world_size()-1."""
    return get_communicator().rank


def world_size() -> int:
    """The number of processes training together."""
    return get_communicator().size


def is_main() -> bool:
    """True on rank 0, the process that prints, logs and writes checkpoints."""
    return get_communicator().rank == 0


def barrier() -> None:
    """Wait until every rank gets here."""
    get_communicator().barrier()


def local_rank() -> int:
    """This process's index among the ranks on its machine (0 without MPI)."""
    comm = get_communicator()
    if isinstance(comm, NcclCommunicator):
        comm = comm.mpi
    return comm.local_rank() if isinstance(comm, MPICommunicator) else 0


def device() -> str:
    """The device this rank should train on: its GPU after `init(backend="nccl")`, else
    'cpu'."""
    return _state["device"] or "cpu"


def maybe_init(enabled: bool, backend: str = "mpi") -> tuple[int, int]:
    """For command-line tools: `init(backend)` when `enabled` (e.g. `--distributed`), else
    `(0, 1)` without touching MPI. Returns `(rank, world_size)`."""
    if not enabled:
        return 0, 1
    return init(backend=backend)


def reset() -> None:
    """Forget the communicator and restore the excepthook (tests; MPI stays initialised)."""
    _state["comm"] = None
    _state["device"] = None
    if _state["hook"] is not None and sys.excepthook is _state["hook"][1]:
        sys.excepthook = _state["hook"][0]
    _state["hook"] = None


# ---- failures ---------------------------------------------------------------------------

_HEADER = "Traceback (most recent call last):\n"


def _report_and_abort(comm: Communicator, exc_type, exc, tb, outer=None) -> None:
    """Print the failing rank's traceback (with the `outer` frames that lead to where it
    was caught, if any), then end every rank of the job."""
    try:
        sys.stdout.flush()
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        if outer and _HEADER in text:
            head, _, tail = text.rpartition(_HEADER)
            text = head + _HEADER + "".join(traceback.format_list(outer)) + tail
        sys.stderr.write(f"gradkit.distributed: rank {comm.rank} of {comm.size} failed; "
                         f"aborting all ranks.\n{text}")
        sys.stderr.flush()
    finally:
        comm.abort(1)


def install_excepthook() -> None:
    """Make an uncaught exception on this rank abort the whole job (after printing it).

    Without it, one rank dying in its data while the others wait in an Allreduce leaves the
    job hanging. `init()` installs it when there is more than one rank.
    """
    if _state["hook"] is not None:
        return
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        comm = _state["comm"]
        if comm is None or comm.size == 1 or issubclass(exc_type, SystemExit):
            previous(exc_type, exc, tb)
            return
        _report_and_abort(comm, exc_type, exc, tb)

    _state["hook"] = (previous, hook)
    sys.excepthook = hook


@contextlib.contextmanager
def abort_on_error() -> Iterator[None]:
    """Inside this block, an exception on any rank aborts the job (traceback shown), even
    when the caller would catch it; with one rank the exception propagates as usual."""
    try:
        yield
    except BaseException as exc:
        comm = _state["comm"]
        if comm is None or comm.size == 1 or isinstance(exc, SystemExit):
            raise
        outer = [f for f in traceback.extract_stack(sys._getframe(1))
                 if not f.filename.endswith("contextlib.py")]
        _report_and_abort(comm, type(exc), exc, exc.__traceback__, outer)


def entry_point(fn: Callable) -> Callable:
    """Decorator for a training script's `main`: `init()`, then run it under
    `abort_on_error()`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        init()
        with abort_on_error():
            return fn(*args, **kwargs)

    return wrapper

