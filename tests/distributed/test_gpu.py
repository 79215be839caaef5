"""The GPU paths: NCCL through CuPy, and CuPy buffers through MPI. Skipped without a GPU."""

import json

import numpy as np
import pytest

from gradkit.backend import is_cuda_available

from .mpirun import needs_mpiexec, run_workers

GPU = is_cuda_available()
NO_GPU = "needs CuPy and an NVIDIA GPU (pip install 'gradkit[cuda]')"
pytestmark = pytest.mark.skipif(not GPU, reason=NO_GPU)


def _gpu_count() -> int:
    import cupy

    return cupy.cuda.runtime.getDeviceCount()


def _nccl_available() -> bool:
    if not GPU:
        return False
    try:
        from cupy.cuda import nccl

        return bool(nccl.available)
    except Exception:
        return False


def _check(out, code, output, size, communicator):
    assert code == 0, output
    r = json.loads(out.read_text())
    assert r["world_size"] == size and r["communicator"] == communicator
    assert all(d.startswith("cuda") for d in r["devices"])
    assert all(max_abs <= 1e-6 for max_abs, _ in r["diff"]), r["diff"]
    assert r["in_sync"]


@needs_mpiexec
def test_cupy_buffers_through_mpi_on_two_ranks(tmp_path):
    """Both ranks may share one GPU: MPI moves the buffers (through the host unless the MPI
    is CUDA-aware)."""
    out = tmp_path / "loop.json"
    code, output = run_workers(2, "loop", str(out), "mpi", "cuda", timeout=120)
    _check(out, code, output, 2, "MPICommunicator")


@needs_mpiexec
@pytest.mark.skipif(not _nccl_available(),
                    reason="CuPy was built without NCCL" if GPU else NO_GPU)
def test_nccl_on_two_gpus(tmp_path):
    if _gpu_count() < 2:
        pytest.skip("NCCL needs one GPU per rank: this machine has 1")
    out = tmp_path / "loop.json"
    code, output = run_workers(2, "loop", str(out), "nccl", timeout=120)
    _check(out, code, output, 2, "NcclCommunicator")


@pytest.mark.skipif(not _nccl_available(),
                    reason="CuPy was built without NCCL" if GPU else NO_GPU)
def test_nccl_collectives_in_a_world_of_one():
    """The NCCL calls themselves (pointers, dtypes, streams) on one GPU."""
    import cupy

    from gradkit.distributed import MPICommunicator, NcclCommunicator

    pytest.importorskip("mpi4py", reason="mpi4py is not installed")
    from mpi4py import MPI

    comm = NcclCommunicator(MPICommunicator(MPI.COMM_SELF))
    a = cupy.arange(10, dtype=cupy.float32)
    comm.allreduce_(a)
    np.testing.assert_array_equal(a.get(), np.arange(10))
    b = [cupy.ones(5, cupy.float64), cupy.full(3, 2, cupy.float32)]
    comm.allreduce_many_(b, op="max")
    comm.broadcast_(a, root=0)
    host = np.ones(4)
    comm.allreduce_(host)  # NumPy buffers go through MPI
    np.testing.assert_array_equal(host, np.ones(4))
