"""The process group of this job: `init`, `rank`, `world_size`, `is_main`, `barrier`, and
ending the whole job when one rank fails (`install_excepthook`, `abort_on_error`) or ends
while the others wait for it, and when a collective waits past its timeout (`watch.py`).

One communicator per process, set by `init()`. Before `init()`, a process that no MPI
launcher started counts as a group of one (rank 0 of 1) without importing MPI; a process
that `mpiexec` started calls `init()` on its first question.
"""

from __future__ import annotations

import atexit
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
from .watch import MPIChannel, Watch, resolve_timeout

_state: dict[str, Any] = {"comm": None, "hook": None, "device": None, "watch": None}


def init(backend: str = "mpi", comm: Any = None, abort_on_error: bool = True,
         cuda_aware: bool | None = None, timeout: float | None = None) -> tuple[int, int]:
    """Join the job's process group; returns `(rank, world_size)`.

    backend: "mpi" (mpi4py; NumPy buffers, CuPy buffers through the host or, with
    `cuda_aware=True` / `GRADKIT_MPI_CUDA_AWARE=1`, directly), or "nccl" (CuPy buffers GPU to
    GPU through `cupy.cuda.nccl`; also selects GPU `local_rank() % gpu_count` for this
    process). comm: an mpi4py communicator (default `MPI.COMM_WORLD`) or a gradkit
    `Communicator`. Run without mpiexec, MPI makes a group of one: `(0, 1)`.
    abort_on_error: with more than one rank, an uncaught exception on any rank prints its
    traceback and aborts the whole job instead of leaving the others waiting forever.
    timeout: seconds a collective may wait for the other ranks before the job is aborted
    with a message (default: `$GRADKIT_COLLECTIVE_TIMEOUT`, else 600; 0 turns it off; see
    `set_timeout`). With MPI and several ranks, a rank that ends (any exit code, or the end
    of its script) before joining a collective the others wait in also aborts the job.
    Calling `init()` again returns the existing group (pass `comm=` to replace it).
    """
    current = _state["comm"]
    if current is not None and comm is None:
        if timeout is not None:
            set_timeout(timeout)
        return current.rank, current.size
    if backend not in ("mpi", "nccl"):
        raise ValueError(f"distributed.init: backend must be 'mpi' or 'nccl', got {backend!r}")
    seconds = resolve_timeout(timeout)
    if isinstance(comm, Communicator):
        group = comm
    else:
        group = MPICommunicator(comm, cuda_aware=cuda_aware)
        if group.size > 1:
            _watch(group, seconds)
        if backend == "nccl":
            _state["device"] = _select_gpu(group)
            group = NcclCommunicator(group)
            group.watch = group.mpi.watch
    _state["comm"] = group
    if abort_on_error and group.size > 1:
        install_excepthook()
    return group.rank, group.size


def _watch(group: MPICommunicator, timeout: float) -> None:
    """Start the job's Watch on `group` (exit notices need MPI_THREAD_MULTIPLE, mpi4py's
    default; without it only the timeout is kept, ending the job through os._exit)."""
    _stop_watch()
    MPI = group.MPI
    threads = MPI.Query_thread() >= MPI.THREAD_MULTIPLE
    channel = MPIChannel(group.comm, MPI) if threads else None
    abort = group.abort if threads else Communicator.abort.__get__(group)
    watch = Watch(group.rank, group.size, channel, abort, timeout=timeout)
    group.watch = watch
    _state["watch"] = watch
    atexit.register(watch.at_exit)  # runs before mpi4py finalises MPI (registered later)
    watch.start()


def _stop_watch() -> None:
    watch = _state["watch"]
    if watch is not None:
        watch.stop()
        atexit.unregister(watch.at_exit)
    _state["watch"] = None


def set_timeout(seconds: float) -> float:
    """Let each collective wait up to `seconds` for the other ranks (0: forever) before the
    job is aborted with a message; returns the previous limit. Call it on every rank (e.g.
    around a long step only rank 0 runs while the others wait in a barrier)."""
    value = resolve_timeout(seconds)
    watch = _state["watch"]
    if watch is None:
        return value
    previous, watch.timeout = watch.timeout, value
    return previous


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
    _stop_watch()
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
    job hanging. `init()` installs it when there is more than one rank. (`sys.exit` never
    reaches an excepthook; the job's watch covers it, see `abort_on_error`.)
    """
    if _state["hook"] is not None:
        return
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        comm = _state["comm"]
        clean_exit = issubclass(exc_type, SystemExit) and exc.code in (None, 0)
        if comm is None or comm.size == 1 or clean_exit:
            previous(exc_type, exc, tb)
            return
        if isinstance(exc, SystemExit):  # Python never hands it to the hook itself
            _exit_and_abort(comm, exc)
            return
        _report_and_abort(comm, exc_type, exc, tb)

    _state["hook"] = (previous, hook)
    sys.excepthook = hook


@contextlib.contextmanager
def abort_on_error() -> Iterator[None]:
    """Inside this block, an exception on any rank aborts the job (traceback shown), even
    when the caller would catch it; with one rank the exception propagates as usual.

    `sys.exit` with a non-zero code (or a message) is a failure too: it aborts the job at
    once. `sys.exit(0)` / `sys.exit()` propagates: this rank ends, and the job's watch aborts
    the others only if they wait for it in a collective it never joins (watch.py).
    """
    try:
        yield
    except BaseException as exc:
        comm = _state["comm"]
        if comm is None or comm.size == 1:
            raise
        if isinstance(exc, SystemExit):
            if exc.code is None or exc.code == 0:
                watch = _state["watch"]
                if watch is not None:
                    watch.how = f"sys.exit({exc.code!r})"
                raise
            _exit_and_abort(comm, exc)
            return
        outer = [f for f in traceback.extract_stack(sys._getframe(1))
                 if not f.filename.endswith("contextlib.py")]
        _report_and_abort(comm, type(exc), exc, exc.__traceback__, outer)


def _exit_and_abort(comm: Communicator, exc: SystemExit) -> None:
    """A rank called sys.exit(code != 0) inside `abort_on_error`: say where, end the job
    with that code (1 when it is not a number)."""
    code = exc.code if isinstance(exc.code, int) and not isinstance(exc.code, bool) else 1
    try:
        sys.stdout.flush()
        where = "".join(traceback.format_tb(exc.__traceback__))
        detail = "" if isinstance(exc.code, int) else f"{exc.code}\n"
        sys.stderr.write(f"{detail}gradkit.distributed: rank {comm.rank} of {comm.size} "
                         f"exited with sys.exit({exc.code!r}) before the job ended; aborting "
                         f"all ranks.\n{where}")
        sys.stderr.flush()
    finally:
        comm.abort(code or 1)


def entry_point(fn: Callable) -> Callable:
    """Decorator for a training script's `main`: `init()`, then run it under
    `abort_on_error()`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        init()
        with abort_on_error():
            return fn(*args, **kwargs)

    return wrapper

