"""Data-parallel training over MPI: one model trained by several processes, on one machine
or several, each on its share of every batch.

    # train.py, launched as:  mpiexec -n 4 python train.py
    import gradkit as gk
    from gradkit import distributed as dist

    dist.init()                                   # (rank, world_size) from MPI
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=256, epochs=5, distributed=True)   # 64 samples per rank

or, in a hand-written loop, `DataParallel(model)` + `DistributedSampler` +
`model.sync_gradients()` between `backward()` and `optimizer.step()`.

No rank is left waiting: an exception or a non-zero `sys.exit` on any rank aborts the job;
a rank that ends before a collective the others wait in aborts it too; every collective has
a timeout (`init(timeout=...)`, `set_timeout`, `$GRADKIT_COLLECTIVE_TIMEOUT`; default 600 s);
ranks whose models or data differ get `RankMismatchError` before training (docs/reliability.md).

mpi4py is an optional extra (`pip install 'gradkit[mpi]'`), imported on first use.
GPUs: `init(backend="nccl")` (NCCL through CuPy) or a CUDA-aware MPI; see docs/distributed.md.
"""

from .agree import RankMismatchError, check_same_model
from .comm import (
    Communicator,
    MPICommunicator,
    NcclCommunicator,
    SelfCommunicator,
    import_mpi,
    launched_by_mpi,
)
from .parallel import (
    DataParallel,
    allreduce_mean,
    allreduce_sum,
    broadcast_parameters,
    broadcast_tensors,
    make_buckets,
    parameters_in_sync,
)
from .runtime import (
    abort_on_error,
    barrier,
    device,
    entry_point,
    get_communicator,
    init,
    install_excepthook,
    is_initialized,
    is_main,
    local_rank,
    maybe_init,
    rank,
    reset,
    set_timeout,
    world_size,
)
from .sampler import DistributedSampler
from .watch import DEFAULT_TIMEOUT, TIMEOUT_ENV, Watch

__all__ = [
    "init", "maybe_init", "rank", "world_size", "is_main", "local_rank", "device", "barrier",
    "is_initialized", "get_communicator", "reset", "install_excepthook", "abort_on_error",
    "entry_point", "DistributedSampler", "DataParallel", "broadcast_parameters",
    "broadcast_tensors", "allreduce_mean", "allreduce_sum", "parameters_in_sync",
    "make_buckets", "Communicator", "SelfCommunicator", "MPICommunicator",
    "NcclCommunicator", "import_mpi", "launched_by_mpi", "set_timeout", "DEFAULT_TIMEOUT",
    "TIMEOUT_ENV", "Watch", "RankMismatchError", "check_same_model",
]
