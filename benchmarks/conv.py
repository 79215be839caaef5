"""Convolutions on the CPU: gradkit next to PyTorch, measured side by side in one run.

    python benchmarks/conv.py [--repeats 7] [--threads 1,2] [--only NAME] [--quick] [--json F]

Cases (forward + backward, float32, batch-first NCHW, each framework's default init):
  conv 1->32 28x28      N=128, Conv2d(1, 32, 3) on 28x28 (a first layer: no input gradient)
  conv 32->64 14x14     N=128, Conv2d(32, 64, 3) on 14x14 (with the input gradient)
  depthwise 64 14x14    N=128, Conv2d(64, 64, 3, padding=1, groups=64)
  conv block @ S        N=32, Conv2d(16, 32, 3, padding=1)-ReLU-MaxPool2d(2), S = 16, 32, 64
                        (scaling with image size)
  LeNet train step      batch 128: Conv2d(1,32,3)-ReLU-MaxPool2d(2)-Conv2d(32,64,3)-ReLU-
                        MaxPool2d(2)-Flatten-Linear(1600,128)-ReLU-Linear(128,10), cross
                        entropy, SGD(lr=0.01, momentum=0.9): samples/s
Each contender runs in its own worker process with OpenBLAS's threads (OPENBLAS_NUM_THREADS,
threadpoolctl) and torch.set_num_threads set to the same count, so neither library's idle
spinning threads slow the other. Within each repeat the two alternate (who goes first too);
the table shows medians over repeats of the wall time per call and of the per-repeat ratios
of wall time and of process CPU time (the CPU ratio is steadier on a loaded machine: time
slices taken by other processes do not count, but spinning BLAS/OpenMP threads do).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
from benchmarks.suite.measure import cpu_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores, load average {_load():.1f} at the start"


class _Lib:
    """The few names the cases need, for gradkit or for PyTorch."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "torch":
            import torch

            self.mod, self.nn, self.optim = torch, torch.nn, torch.optim
            self.conv, self.pool = torch.nn.Conv2d, torch.nn.MaxPool2d
            self.xent = torch.nn.functional.cross_entropy
            self.version = torch.__version__
        else:
            sys.path.insert(0, str(ROOT))
            import gradkit as gk
            from gradkit.nn import functional as F
            from gradkit.nn.conv import Conv2d
            from gradkit.nn.pooling import MaxPool2d

            self.mod, self.nn, self.optim = gk, gk.nn, gk.optim
            self.conv, self.pool, self.xent = Conv2d, MaxPool2d, F.cross_entropy
            self.version = gk.__version__ if hasattr(gk, "__version__") else "checkout"

    def tensor(self, a, requires_grad=False):
        return self.mod.tensor(a, requires_grad=requires_grad)


def _backward_case(lib: _Lib, model, x, grad_x: bool):
    tx = lib.tensor(x, requires_grad=grad_x)

    def step():
        model.zero_grad()
        tx.grad = None
        model(tx).sum().backward()

    return step


def _lenet(lib: _Lib):
    nn = lib.nn
    return nn.Sequential(lib.conv(1, 32, 3), nn.ReLU(), lib.pool(2), lib.conv(32, 64, 3),
                         nn.ReLU(), lib.pool(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def _train_case(lib: _Lib, batch: int = 128):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.random((batch, 1, 28, 28), dtype=np.float32))
    y = lib.tensor(rng.integers(0, 10, batch))
    model = _lenet(lib)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        lib.xent(model(x), y).backward()
        opt.step()

    return step


def cases(lib: _Lib, quick: bool) -> dict:
    """name -> (step function, samples per step)."""
    rng = np.random.default_rng(0)

    def data(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    lib.mod.manual_seed(0)
    out = {
        "conv 1->32 28x28 (N=128)": (_backward_case(lib, lib.conv(1, 32, 3), data(128, 1, 28, 28),
                                                    False), 128),
        "conv 32->64 14x14 (N=128)": (_backward_case(lib, lib.conv(32, 64, 3),
                                                     data(128, 32, 14, 14), True), 128),
        "depthwise 64 14x14 (N=128)": (_backward_case(
            lib, lib.conv(64, 64, 3, padding=1, groups=64), data(128, 64, 14, 14), True), 128),
    }
    for size in (16, 32) if quick else (16, 32, 64):
        block = lib.nn.Sequential(lib.conv(16, 32, 3, padding=1), lib.nn.ReLU(), lib.pool(2))
        out[f"conv block 16->32 @ {size}x{size} (N=32)"] = (
            _backward_case(lib, block, data(32, 16, size, size), True), 32)
    out["LeNet train step (batch 128)"] = (_train_case(lib), 128)
    return out


def _time(fn, inner: int) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) per call."""
    t, c = time.perf_counter(), time.process_time()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t) / inner, (time.process_time() - c) / inner


def _worker(name: str, threads: int, quick: bool, conn) -> None:
    """One contender: build its cases, then time what the parent asks for ((case, inner))."""
    from threadpoolctl import threadpool_limits  # the benchmark's own dependency

    threadpool_limits(limits=threads, user_api="blas")
    lib = _Lib(name)
    if name == "torch":
        lib.mod.set_num_threads(threads)
    table = cases(lib, quick)
    conn.send(lib.version)
    while (msg := conn.recv()) is not None:
        case, inner = msg
        fn = table[case][0]
        if inner == 0:  # warm up: first calls allocate; report one call's time
            for _ in range(3):
                fn()
            conn.send(_time(fn, 1))
        else:
            conn.send(_time(fn, inner))


def _start(name: str, threads: int, quick: bool):
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(threads)
    parent, child = mp.get_context("spawn").Pipe()
    proc = mp.get_context("spawn").Process(target=_worker, args=(name, threads, quick, child))
    proc.start()
    return proc, parent, parent.recv()


def measure(threads: int, repeats: int, quick: bool, only: str = "") -> tuple[list, dict]:
    workers = {name: _start(name, threads, quick) for name in ("gradkit", "torch")}
    versions = {name: w[2] for name, w in workers.items()}
    rows = []
    names = [n for n in cases_names(quick) if only.lower() in n.lower()]
    try:
        for case in names:
            samples = 32 if "(N=32)" in case else 128

            def run(who, inner, case=case):
                workers[who][1].send((case, inner))
                return workers[who][1].recv()

            warm = max(run("gradkit", 0)[0], run("torch", 0)[0])
            inner = max(1, int(0.3 / max(warm, 1e-4)))
            times: dict = {"gradkit": [], "torch": []}
            for r in range(repeats):
                for who in (("gradkit", "torch") if r % 2 == 0 else ("torch", "gradkit")):
                    times[who].append(run(who, inner))
            pairs = list(zip(times["gradkit"], times["torch"]))
            g = statistics.median(w for w, _ in times["gradkit"])
            t = statistics.median(w for w, _ in times["torch"])
            rows.append({"case": case, "threads": threads, "gradkit_ms": g * 1e3,
                         "torch_ms": t * 1e3, "gradkit_samples_s": samples / g,
                         "torch_samples_s": samples / t,
                         "speed_ratio": statistics.median(tt[0] / gg[0] for gg, tt in pairs),
                         "cpu_ratio": statistics.median(tt[1] / gg[1] for gg, tt in pairs)})
            print(f"  [{threads} thread(s)] {case}: gradkit {g * 1e3:.1f} ms, torch "
                  f"{t * 1e3:.1f} ms, ratio {rows[-1]['speed_ratio']:.2f} (CPU "
                  f"{rows[-1]['cpu_ratio']:.2f})", file=sys.stderr)
    finally:
        for proc, conn, _ in workers.values():
            conn.send(None)
            proc.join()
    return rows, versions


def cases_names(quick: bool) -> list[str]:
    sizes = (16, 32) if quick else (16, 32, 64)
    return (["conv 1->32 28x28 (N=128)", "conv 32->64 14x14 (N=128)",
             "depthwise 64 14x14 (N=128)"]
            + [f"conv block 16->32 @ {s}x{s} (N=32)" for s in sizes]
            + ["LeNet train step (batch 128)"])


def table(rows: list[dict]) -> str:
    lines = ["| case | threads | gradkit ms | torch ms | gradkit samples/s | torch samples/s "
             "| speed, gradkit / torch | CPU time, torch / gradkit |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['threads']} | {r['gradkit_ms']:.1f} | "
                     f"{r['torch_ms']:.1f} | {r['gradkit_samples_s']:.0f} | "
                     f"{r['torch_samples_s']:.0f} | **{r['speed_ratio']:.2f}x** | "
                     f"{r['cpu_ratio']:.2f}x |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", default=f"1,{os.cpu_count()}",
                    help="comma-separated thread counts (default: 1 and all cores)")
    ap.add_argument("--quick", action="store_true", help="fewer image sizes")
    ap.add_argument("--only", default="", help="run only the cases whose name contains this")
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args(argv)
    machine, rows, versions = _machine(), [], {}
    for k in sorted({int(t) for t in args.threads.split(",")}):
        got, versions = measure(k, args.repeats, args.quick, args.only)
        rows += got
    machine += f", {_load():.1f} at the end"
    print(f"Machine: {machine}; NumPy {np.__version__}, PyTorch {versions.get('torch')}; "
          f"{args.repeats} interleaved repeats, medians; ratio > 1: gradkit faster.\n")
    print(table(rows))
    if args.json:
        command = "python benchmarks/conv.py " + shlex.join(argv if argv is not None else
                                                            sys.argv[1:])
        Path(args.json).write_text(json.dumps({"machine": machine, "command": command,
                                               "versions": versions, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
