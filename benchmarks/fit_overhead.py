"""Overhead of `model.fit` against a hand-written loop doing the same work, in one run.

    python benchmarks/fit_overhead.py [--repeats 5] [--samples 60000] [--json out.json]
    OPENBLAS_NUM_THREADS=1 python benchmarks/fit_overhead.py   # steadier on a busy machine

Both train the same MLP (784-512-512-10, ReLU) on MNIST (pixels scaled to [0, 1], float32)
for one epoch: batch 128, SGD with momentum 0.9, cross-entropy, shuffled batches from a
seeded DataLoader. The hand loop is the low-level API: zero_grad, forward, loss, backward,
step. `fit` runs with verbose=0 and no metrics (same work), and also with the accuracy
metric and with the progress output (verbose=2) to show what those cost. Contenders are
interleaved within each repeat; medians of wall time and of process CPU time are reported
(CPU time is less disturbed by other processes on a shared machine). A ratio is meaningful,
an absolute time is not.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time

import numpy as np

import gradkit as gk
from gradkit import nn, optim
from gradkit.data import DataLoader, TensorDataset


def make_model():
    gk.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(t0: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - t0[0], cpu - t0[1]


def hand_loop(x, y) -> tuple[float, float]:
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    t0 = _clock()
    loader = DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True)
    model.train()
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    return _since(t0)


def fit_run(x, y, metrics=None, verbose=0) -> tuple[float, float]:
    model = make_model()
    model.compile(optim.SGD(model.parameters(), lr=0.01, momentum=0.9), "cross_entropy",
                  metrics)
    t0 = _clock()
    model.fit(x, y, epochs=1, batch_size=128, verbose=verbose)
    return _since(t0)


def tiny_overhead(repeats: int) -> dict:
    """Microseconds per batch on a 16-32-4 MLP (batch 32), where the loop's own Python
    overhead is a visible share of the time: hand loop vs fit (no metrics, verbose=0)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32 * 200, 16)).astype(np.float32)
    y = rng.integers(0, 4, len(x))

    def model():
        gk.manual_seed(0)
        return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))

    def hand():
        m = model()
        opt, loss_fn = optim.SGD(m.parameters(), lr=0.01), nn.CrossEntropyLoss()
        t0 = time.perf_counter()
        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True):
            opt.zero_grad()
            loss_fn(m(xb), yb).backward()
            opt.step()
        return time.perf_counter() - t0

    def fitted():
        m = model()
        m.compile(optim.SGD(m.parameters(), lr=0.01), "cross_entropy")
        t0 = time.perf_counter()
        m.fit(x, y, batch_size=32, verbose=0)
        return time.perf_counter() - t0

    runs = {"hand loop": [], "fit": []}
    for _ in range(repeats):
        runs["hand loop"].append(hand())
        runs["fit"].append(fitted())
    per_batch = {k: min(v) / 200 * 1e6 for k, v in runs.items()}
    print(f"\ntiny MLP, 200 batches of 32, best of {repeats}: hand loop "
          f"{per_batch['hand loop']:.1f} us/batch, fit {per_batch['fit']:.1f} us/batch "
          f"({per_batch['fit'] - per_batch['hand loop']:+.1f} us per batch, whole-fit "
          "setup and checks included)")
    return per_batch


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--samples", type=int, default=60000)
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args(argv)
    (x, y), _ = gk.datasets.load_mnist()
    x = (x[: args.samples].reshape(-1, 784) / np.float32(255)).astype(np.float32)
    y = y[: args.samples]
    cases = {
        "hand loop": lambda: hand_loop(x, y),
        "fit": lambda: fit_run(x, y),
        "fit + accuracy": lambda: fit_run(x, y, ["accuracy"]),
        "fit + accuracy + verbose=2": lambda: fit_run(x, y, ["accuracy"], verbose=2),
    }
    times: dict[str, list] = {k: [] for k in cases}
    for _ in range(args.repeats):
        for name, case in cases.items():
            times[name].append(case())
    base = [statistics.median(t[i] for t in times["hand loop"]) for i in (0, 1)]
    result = {"machine": platform.machine(), "python": sys.version.split()[0],
              "samples": len(x), "repeats": args.repeats, "cases": {}}
    print(f"\none epoch, {len(x)} samples, batch 128, median of {args.repeats}")
    print(f"{'':28s} {'wall':>9s} {'ratio':>7s} {'cpu':>9s} {'ratio':>7s}")
    for name, ts in times.items():
        wall, cpu = (statistics.median(t[i] for t in ts) for i in (0, 1))
        result["cases"][name] = {"wall_s": wall, "wall_ratio": wall / base[0], "cpu_s": cpu,
                                 "cpu_ratio": cpu / base[1], "all": ts}
        print(f"{name:28s} {wall:8.3f}s {wall / base[0]:7.3f} {cpu:8.3f}s {cpu / base[1]:7.3f}")
    result["tiny_us_per_batch"] = tiny_overhead(max(args.repeats, 5))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
