"""Programs the distributed tests run under `mpiexec` (and once without it, as reference).

    python tests/distributed/_workers.py <name> <out.json> [args]

Each writes a JSON report from rank 0 to <out.json>.
"""

from __future__ import annotations

import json
import sys

import numpy as np

import gradkit as gk
from gradkit import distributed as dist
from gradkit import nn, optim
from gradkit.data import DataLoader, TensorDataset

N, FEATURES, CLASSES, GLOBAL_BATCH = 64, 8, 3, 16


class Net(nn.Module):
    """A small MLP with one parameter that never gets a gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(FEATURES, 16), nn.Tanh(), nn.Linear(16, CLASSES))
        self.unused = nn.Parameter(gk.zeros(4))

    def forward(self, x):
        return self.body(x)


def data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, FEATURES)).astype(np.float32)
    y = rng.integers(0, CLASSES, N)
    return x, y


def params_of(model) -> dict:
    return {k: v.tolist() for k, v in model.state_dict().items()}


def compare(a, b) -> list:
    """[largest |a - b|, largest |a - b| / |b|] over all parameters (0 where b == 0)."""
    worst = [0.0, 0.0]
    for pa, pb in zip(a.parameters(), b.parameters()):
        d = np.abs(pa.numpy().astype(np.float64) - pb.numpy())
        rel = np.divide(d, np.abs(pb.numpy()), out=np.zeros_like(d), where=pb.numpy() != 0)
        worst = [max(worst[0], float(d.max())), max(worst[1], float(rel.max()))]
    return worst


def loop(out: str, backend: str = "mpi", device: str = "cpu") -> None:
    """A hand-written loop with DataParallel vs the same loop on the global batch.
    backend "nccl" trains on this rank's GPU; device "cuda" with backend "mpi" sends CuPy
    buffers through MPI (through the host unless the MPI is CUDA-aware)."""
    rank, size = dist.init(backend=backend)
    if backend == "nccl":
        device = dist.device()
    gk.manual_seed(100 + rank)  # different weights per rank: the broadcast must fix them
    model = Net().to(device)
    gk.manual_seed(100)  # rank 0's weights, for the single-process reference
    ref = Net().to(device)
    gk.manual_seed(100 + rank)
    small = Net().to(device)  # as model, with tiny buckets: several Iallreduce per step
    x, y = data()
    ds = TensorDataset(x, y)
    loss_fn = nn.CrossEntropyLoss()
    dp = dist.DataParallel(model)
    dp_small = dist.DataParallel(small, bucket_mb=200 / 2**20)  # ~200 bytes per bucket
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    small_opt = optim.SGD(small.parameters(), lr=0.1, momentum=0.9)
    ref_opt = optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(ds, batch_size=GLOBAL_BATCH // size,
                        sampler=dist.DistributedSampler(N, seed=7), device=device)
    ref_loader = DataLoader(ds, batch_size=GLOBAL_BATCH, device=device,
                            sampler=dist.DistributedSampler(N, seed=7, rank=0, world_size=1))
    steps = 0
    for _ in range(2):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(dp(xb), yb).backward()
            dp.sync_gradients()
            opt.step()
            steps += 1
            small_opt.zero_grad()
            loss_fn(dp_small(xb), yb).backward()
            dp_small.sync_gradients()
            small_opt.step()
        for xb, yb in ref_loader:
            ref_opt.zero_grad()
            loss_fn(ref(xb), yb).backward()
            ref_opt.step()
    report = {
        "world_size": size, "steps": steps, "stats": dp.stats, "device": model.unused.device,
        "communicator": type(dist.get_communicator()).__name__,
        "diff": dist.get_communicator().allgather_object(compare(model, ref)),
        "in_sync": dist.parameters_in_sync(model),
        "small_stats": dp_small.stats,
        "small_buckets_same": all(np.array_equal(a.numpy(), b.numpy())
                                  for a, b in zip(model.parameters(), small.parameters())),
        "unused_grad_is_none": model.unused.grad is None,
        "checksums": dist.get_communicator().allgather_object(
            [float(p.numpy().astype(np.float64).sum()) for p in model.parameters()]),
        "devices": dist.get_communicator().allgather_object(model.unused.device),
    }
    if dist.is_main():
        with open(out, "w") as f:
            json.dump(report, f)


def _fit_model(seed: int):
    gk.manual_seed(seed)
    model = nn.Sequential(nn.Linear(FEATURES, 16), nn.Tanh(), nn.Linear(16, CLASSES))
    model.compile(optimizer=optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                  loss="cross_entropy", metrics=["accuracy"])
    return model


def _save_params(model, path: str) -> None:
    np.savez(path, **model.state_dict())


def fit(out: str) -> None:
    """fit(distributed=True) for 1 then (resumed in-process) 2 epochs, a checkpoint after
    the first on rank 0, and the single-process reference with the same global order."""
    from gradkit.callbacks import CSVLogger

    rank, size = dist.init()
    x, y = data()
    model = _fit_model(100 + rank)  # different per rank: fit broadcasts rank 0's weights
    gk.manual_seed(5)  # the seed of the shared shuffle
    kw = dict(batch_size=GLOBAL_BATCH, validation_split=0.25, distributed=True, verbose=2)
    model.fit(x, y, epochs=1, callbacks=[CSVLogger(out + ".csv")], **kw)
    if dist.is_main():
        gk.save_checkpoint(out + ".ckpt", model, model.optimizer, epoch=1)
    history = model.fit(x, y, epochs=2, initial_epoch=1, **kw).history
    # Reference: one process, the global batch, the same order (DistributedSampler of 1 rank).
    ref = _fit_model(100)
    n_train = N - N // 4
    loader = DataLoader(TensorDataset(x[:n_train], y[:n_train]), batch_size=GLOBAL_BATCH,
                        sampler=dist.DistributedSampler(n_train, seed=5, rank=0, world_size=1))
    ref.fit(loader, epochs=2, validation_data=(x[n_train:], y[n_train:]), verbose=0)
    comm = dist.get_communicator()
    report = {
        "world_size": size, "history": history, "ref_history": ref.history.history,
        "histories_equal": len({json.dumps(h) for h in comm.allgather_object(history)}) == 1,
        "in_sync": dist.parameters_in_sync(model),
        "diff": comm.allgather_object(compare(model, ref)),
    }
    if dist.is_main():
        _save_params(model, out + ".npz")
        with open(out, "w") as f:
            json.dump(report, f)


def resume(out: str, ckpt: str) -> None:
    """Continue the checkpoint of `fit` for its second epoch (on this job's ranks)."""
    model = _fit_model(999)  # weights and optimizer come from the checkpoint
    gk.load_checkpoint(ckpt, model, model.optimizer)  # also restores the seed (5)
    x, y = data()
    model.fit(x, y, epochs=2, initial_epoch=1, batch_size=GLOBAL_BATCH, validation_split=0.25,
              distributed=True, verbose=0)
    if dist.is_main():
        _save_params(model, out + ".npz")
        with open(out, "w") as f:
            json.dump({"world_size": dist.world_size(), "history": model.history.history}, f)


class _BadOnRank(TensorDataset):
    """Data that is corrupt in the shard of one rank."""

    def __getitems__(self, indices):
        if dist.rank() == 1:
            raise ValueError(f"corrupt sample {int(indices[0])} on rank 1")
        return super().__getitems__(indices)


def fit_fail(out: str) -> None:
    """Rank 1 raises inside fit (in its data); the job must end, not hang."""
    dist.init()
    x, y = data()
    model = _fit_model(0)
    loader = DataLoader(_BadOnRank(x, y), batch_size=GLOBAL_BATCH, shuffle=True)
    model.fit(loader, epochs=1, distributed=True, verbose=0)


def fail(out: str) -> None:
    """Rank 1 raises in its data while the others wait in an Allreduce."""
    rank, size = dist.init()
    bad_rank = 1
    model = Net()
    dp = dist.DataParallel(model)
    x, y = data()
    xb, yb = gk.tensor(x[:8]), gk.tensor(y[:8])
    for step in range(3):
        if rank == bad_rank and step == 1:
            raise ValueError(f"bad sample in the data of rank {rank} (step {step})")
        nn.CrossEntropyLoss()(dp(xb), yb).backward()
        dp.sync_gradients()


if __name__ == "__main__":
    name, out, *args = sys.argv[1:]
    workers = {"loop": loop, "fit": fit, "resume": resume, "fail": fail, "fit_fail": fit_fail}
    workers[name](out, *args)
