"""Data-parallel training throughput for 1, 2, ... ranks, and what the Allreduce costs.

    python benchmarks/distributed.py [--ranks 1,2] [--models mlp,wide] [--steps 40]
                                     [--batch 256] [--repeats 3] [--json out.json]

For each rank count p the script starts itself under `mpiexec -n p`, each rank with
`--threads` BLAS threads (default 1: more BLAS threads than free cores slow NumPy down
badly). Every rank trains the same MLP on synthetic MNIST-shaped data (784 inputs, 10
classes: no download) with a global batch of `--batch` samples (`batch // p` per rank), SGD
with momentum, a DistributedSampler and `DataParallel.sync_gradients()` (one bucketed
Allreduce per step). Medians over `--repeats`. Then an Allreduce probe on flat float32
buffers of 1 KiB to 32 MiB (fastest of several calls) gives `t = latency + bytes/bandwidth`.

Columns: samples/s, step ms (wall time per step), comm ms (wall time in the Allreduce,
including waiting for the slower rank), speed-up (samples/s over 1 rank's), cpu ms (CPU time
per step of the compute, what a rank costs on a core of its own), and the cost model
`model ms = cpu ms + Allreduce(gradient bytes)` from the probe, with its speed-up `model x`:
what the ranks give on dedicated cores. On a busy shared machine the wall-clock columns
mostly show the contention; the model columns do not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

import numpy as np

MODELS = {"mlp": (784, 512, 512, 10), "wide": (784, 2048, 2048, 10)}
SIZES = [2**k for k in (8, 10, 12, 14, 16, 18, 20, 21, 22, 23)]  # float32: 1 KiB..32 MiB


def _model(sizes):
    import gradkit as gk
    from gradkit import nn

    gk.manual_seed(0)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def _train(name: str, steps: int, batch: int, bucket_mb: float = 25.0) -> dict:
    from gradkit import distributed as dist
    from gradkit import nn, optim
    from gradkit.data import DataLoader, TensorDataset

    rank, size = dist.init()
    rng = np.random.default_rng(0)
    n = batch * steps
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    model = dist.DataParallel(_model(MODELS[name]), bucket_mb=bucket_mb)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=batch // size,
                        sampler=dist.DistributedSampler(n, seed=0))
    it = iter(loader)
    for _ in range(3):  # warm-up (allocations, buckets)
        xb, yb = next(it)
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        model.sync_gradients()
        opt.step()
    model.stats.update(comm_seconds=0.0, allreduce_calls=0, syncs=0)
    dist.barrier()
    t0 = time.perf_counter()
    done, cpu = 0, 0.0
    for xb, yb in it:
        c0 = time.process_time()
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        c1 = time.process_time()
        model.sync_gradients()
        c2 = time.process_time()
        opt.step()
        cpu += (c1 - c0) + (time.process_time() - c2)  # CPU time of compute, not of comm
        done += 1
    dist.barrier()
    elapsed = time.perf_counter() - t0
    comm = dist.allreduce_mean(model.stats["comm_seconds"])  # means over ranks
    cpu = dist.allreduce_mean(cpu)
    params = sum(p.size for p in model.parameters())
    return {"model": name, "ranks": size, "params": params, "grad_mb": params * 4 / 2**20,
            "steps": done, "global_batch": batch // size * size,
            "samples_per_s": done * (batch // size) * size / elapsed,
            "step_ms": 1e3 * elapsed / done, "comm_ms": 1e3 * comm / done,
            "cpu_ms": 1e3 * cpu / done,
            "calls_per_step": model.stats["allreduce_calls"] / max(done, 1)}


def _probe_allreduce(repeats: int = 20) -> list:
    """The fastest of several in-place Allreduce of `n` float32, for each size (the fastest:
    the cost when both ranks are running, not when the OS has parked one)."""
    from gradkit import distributed as dist

    comm = dist.get_communicator()
    out = []
    for n in SIZES:
        buf = np.ones(n, np.float32)
        times = []
        for _ in range(repeats if n < 2**20 else 5):
            comm.barrier()
            t0 = time.perf_counter()
            comm.allreduce_(buf)
            times.append(time.perf_counter() - t0)
        out.append((n * 4, min(times)))
    return out


def _fit_cost(points: list) -> dict:
    """`t = latency + bytes / bandwidth`: the latency is the median time of messages up to
    4 KiB, the bandwidth the median of bytes / t over messages of 1 MiB and more."""
    latency = statistics.median(t for b, t in points if b <= 4096)
    rate = statistics.median(b / t for b, t in points if b >= 2**20)
    return {"latency_us": 1e6 * latency, "bandwidth_gb_s": rate / 1e9}


def _allreduce_time(probe: dict, nbytes: int) -> float:
    """Seconds for an Allreduce of `nbytes`, interpolated between the probe's points."""
    b, t = zip(*probe["points"])
    return float(np.interp(nbytes, b, t))


def worker(args) -> None:
    from gradkit import distributed as dist

    results = {"train": [], "probe": None}
    for name in args.models.split(","):
        runs = [_train(name, args.steps, args.batch, args.bucket_mb)
                for _ in range(args.repeats)]
        best = {k: statistics.median(r[k] for r in runs) if isinstance(runs[0][k], float)
                else runs[0][k] for k in runs[0]}
        results["train"].append(best)
    if dist.world_size() > 1:
        points = _probe_allreduce()
        results["probe"] = {"points": points, **_fit_cost(points)}
    if dist.is_main():
        with open(args.out, "w") as f:
            json.dump(results, f)


def _launch(p: int, args, out: str) -> dict:
    from gradkit.distributed.launch import launch_env, mpiexec_command, run_job

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = launch_env(allow_root=True, threads_per_rank=args.threads, pythonpath=root)
    cmd = mpiexec_command(p, [sys.executable, os.path.abspath(__file__), "--worker", "--out",
                              out, "--models", args.models, "--steps", str(args.steps),
                              "--batch", str(args.batch), "--repeats", str(args.repeats),
                              "--bucket-mb", str(args.bucket_mb)])
    code, output = run_job(cmd, timeout=600, env=env)
    if code != 0:
        raise SystemExit(f"the {p}-rank run failed (exit {code}):\n{output}")
    with open(out) as f:
        return json.load(f)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--models", default="mlp,wide")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads per rank")
    ap.add_argument("--bucket-mb", type=float, default=25.0, help="DataParallel's bucket_mb")
    ap.add_argument("--json")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return
    rows, probes = [], {}
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for p in map(int, args.ranks.split(",")):
            res = _launch(p, args, os.path.join(tmp, f"{p}.json"))
            rows += res["train"]
            if res["probe"]:
                probes[p] = res["probe"]
    print(f"# {platform.machine()}, {os.cpu_count()} cores, {args.threads} BLAS thread(s) per "
          f"rank, global batch {args.batch}, {args.steps} steps, median of {args.repeats}, "
          f"buckets of {args.bucket_mb:g} MB; "
          f"load average {load[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"{'model':6} {'params':>9} {'ranks':>5} {'samples/s':>10} {'step ms':>8} "
          f"{'comm ms':>8} {'comm %':>7} {'speed-up':>8} {'cpu ms':>7} {'model ms':>8} "
          f"{'model x':>7}")
    base = {r["model"]: r for r in rows if r["ranks"] == 1}
    for r in rows:
        one = base.get(r["model"])
        speed = r["samples_per_s"] / one["samples_per_s"] if one else float("nan")
        # The cost model with this run's numbers: compute (CPU time, i.e. on a free core)
        # plus the Allreduce of the gradients as the probe measured it.
        probe = probes.get(r["ranks"])
        model_ms = r["cpu_ms"] + (1e3 * _allreduce_time(probe, r["params"] * 4)
                                  if probe else 0.0)
        model_x = one["cpu_ms"] / model_ms if one else float("nan")
        print(f"{r['model']:6} {r['params']:>9,} {r['ranks']:>5} {r['samples_per_s']:>10,.0f} "
              f"{r['step_ms']:>8.2f} {r['comm_ms']:>8.3f} "
              f"{100 * r['comm_ms'] / r['step_ms']:>6.1f}% {speed:>8.2f} "
              f"{r['cpu_ms']:>7.2f} {model_ms:>8.2f} {model_x:>7.2f}")
    for p, probe in probes.items():
        print(f"Allreduce on {p} ranks: latency ~{probe['latency_us']:.1f} us, "
              f"bandwidth ~{probe['bandwidth_gb_s']:.2f} GB/s (t = latency + bytes/bandwidth)")
        for nbytes, t in probe["points"]:
            print(f"  {nbytes / 2**10:>9,.0f} KiB  {1e6 * t:>10.1f} us")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"train": rows, "probe": probes}, f, indent=1)


if __name__ == "__main__":
    main()
