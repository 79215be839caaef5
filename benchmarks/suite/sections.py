"""The sections that train or run the MLPs: mnist, wide, tiny, inference, scaling.

Each builds one trainer per contender (`contenders.py`, `peers.py`), warms them up, and
measures them interleaved (`measure.interleaved`: every repeat runs each contender once, in
a rotating order, after a short pause and a few settling steps).
"""

from __future__ import annotations

import sys
import time
from functools import partial

import numpy as np

from . import measure
from .contenders import CONTENDERS

FIT = "gradkit fit"
# the contenders of the sections that predate the peers (kept to bound the run's length)
CLASSIC = ("gradkit", FIT, "torch", "numpy")


def progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def brief(rows: dict, key: str) -> str:
    return ", ".join(f"{n} {r[key]:.4g}" for n, r in rows.items())


def train_flops(sizes) -> int:
    """Matmul FLOPs of one training sample: forward, weight gradients, and input gradients of
    every layer but the first (the data needs none)."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    return 2 * sum(a * b for a, b in pairs) * 3 - 2 * pairs[0][0] * pairs[0][1]


def gemm_gflops(n: int) -> float:
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    t = measure.timed(lambda: a @ a)
    return 2 * n**3 / t / 1e9


def epoch_rate(t, batch_size: int, faults: dict, name: str) -> float:
    """Training samples/s of one epoch of trainer `t`; adds its page faults to faults[name]."""
    f0 = measure.minor_faults()
    seconds = measure.timed(lambda: t.epoch(batch_size))
    faults[name] = faults.get(name, 0) + measure.minor_faults() - f0
    return len(t.x) / seconds


def trainers(names, sizes, x, y, x_infer, **kw) -> dict:
    out = {}
    for name in names:
        t = CONTENDERS[name](sizes, **kw)
        t.set_data(x, y, x_infer)
        out[name] = t
    return out


def _epochs(cfg, names, sizes, x, y, xt, bs, with_gemm: bool = False) -> tuple[dict, list]:
    """Interleaved epochs at batch `bs`: per contender samples/s (median, runs), GFLOP/s."""
    flops = train_flops(sizes)
    ts = trainers(names, sizes, x, y, xt)
    for t in ts.values():  # warm-up: caches, allocator, BLAS threads, jit compilation
        t.steps(cfg["warm"], bs)
    faults: dict[str, int] = {}
    runs = {n: partial(epoch_rate, t, bs, faults, n) for n, t in ts.items()}
    if with_gemm:
        runs["gemm"] = partial(gemm_gflops, cfg["gemm_n"])
    settle = {n: partial(t.steps, 3, bs) for n, t in ts.items()}
    got = measure.interleaved(runs, cfg["repeats"], settle, cfg["pause"])
    gemm = got.pop("gemm", [])
    steps = cfg["repeats"] * -(-len(x) // bs)
    rows = {n: {"samples_per_s": measure.median(v), "best": max(v), "runs": v,
                "gflops": measure.median(v) * flops / 1e9,
                "page_faults_per_step": faults[n] / steps} for n, v in got.items()}
    return rows, gemm


def section_mnist(cfg, names, x, y, xt) -> tuple[dict, list[float]]:
    """The MNIST MLP 784-512-512-10 at each batch size, one epoch per repeat."""
    sizes = [x.shape[1], 512, 512, 10]
    rows, gemm = {}, []
    for bs in cfg["batch_sizes"]:
        rows[bs], g = _epochs(cfg, names, sizes, x, y, xt, bs, with_gemm=True)
        gemm += g
        progress(f"mnist batch {bs}: " + brief(rows[bs], "samples_per_s"))
    return rows, gemm


def section_wide(cfg, names, x, y) -> dict:
    """784-2048-2048-10 at batch 256 on the first `wide_samples` images, one pass a repeat."""
    n = min(len(x), cfg["wide_samples"])
    sizes = [x.shape[1], cfg["wide_width"], cfg["wide_width"], 10]
    rows, _ = _epochs(cfg, names, sizes, x[:n], y[:n], None, cfg["wide_batch"])
    progress("wide: " + brief(rows, "samples_per_s"))
    return {"sizes": sizes, "batch": cfg["wide_batch"], "samples": n, "rows": rows}


def section_tiny(cfg, names):
    """The lessons' 2-10-2 Tanh network at batch 16: time per training step."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 2), dtype=np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    names = [n for n in names if n != FIT]
    ts = trainers(names, [2, 10, 2], x, y, None, act="tanh", lr=0.1, momentum=0.0)
    steps = cfg["tiny_steps"]
    for t in ts.values():
        t.steps(steps // 4 + 1, 16)
    runs = {n: (lambda t=t: measure.timed(lambda: t.steps(steps, 16)) / steps * 1e6)
            for n, t in ts.items()}
    got = measure.interleaved(runs, cfg["tiny_repeats"], pause=cfg["pause"])
    out = {n: {"us_per_step": measure.median(v), "runs": v} for n, v in got.items()}
    progress("tiny 2-10-2: " + brief(out, "us_per_step"))
    return out


def _latency(t, rows: np.ndarray) -> float:
    """Microseconds per one-sample call, over the rows in turn."""
    t0 = time.perf_counter()
    for r in rows:
        t.infer1(r)
    return (time.perf_counter() - t0) / len(rows) * 1e6


def section_inference(cfg, names, x, y, xt):
    """The MNIST MLP on the test images: batch 1 latency (µs) and batch `infer_batch`
    throughput (samples/s), no gradients."""
    ts = trainers(names, [x.shape[1], 512, 512, 10], x[:256], y[:256], xt)
    bs = cfg["infer_batch"]
    rows = np.ascontiguousarray(xt[:cfg["latency_calls"]])[:, None, :]  # (n, 1, 784)
    for t in ts.values():
        t.infer(bs)  # eval mode, compilation, caches
        _latency(t, rows[:10])
    runs = {n: (lambda t=t: len(xt) / measure.timed(lambda: t.infer(bs)))
            for n, t in ts.items()}
    got = measure.interleaved(runs, cfg["infer_repeats"], pause=cfg["pause"])
    lat = measure.interleaved({n: partial(_latency, t, rows) for n, t in ts.items()},
                              cfg["infer_repeats"], pause=cfg["pause"])
    out = {"batch": bs, "latency_calls": len(rows),
           "throughput": {n: {"samples_per_s": measure.median(v), "runs": v}
                          for n, v in got.items()},
           "latency": {n: {"us": measure.median(v), "runs": v} for n, v in lat.items()}}
    progress("inference: " + brief(out["latency"], "us") + " (µs at batch 1); "
             + brief(out["throughput"], "samples_per_s") + f" (samples/s at batch {bs})")
    return out


def section_scaling(cfg, names, x, y):
    """samples/s for hidden widths x batch sizes (gradkit, PyTorch, NumPy)."""
    names = [n for n in names if n in CLASSIC and n != FIT]
    out = {}
    for width in cfg["widths"]:
        sizes = [x.shape[1], width, width, 10]
        flops = train_flops(sizes)
        n = int(cfg["scale_gflop"] * 1e9 / flops) // 1024 * 1024
        n = min(len(x), 16384, max(n, 2 * max(cfg["scale_batches"])))
        xs, ys = x[:n], y[:n]
        for bs in cfg["scale_batches"]:
            ts = trainers(names, sizes, xs, ys, None)
            for t in ts.values():
                t.steps(3, bs)
            runs = {k: partial(epoch_rate, t, bs, {}, k) for k, t in ts.items()}
            settle = {k: partial(t.steps, 2, bs) for k, t in ts.items()}
            got = measure.interleaved(runs, cfg["scale_repeats"], settle, cfg["pause"])
            out[f"{width}/{bs}"] = {
                k: {"width": width, "batch": bs, "samples": n,
                    "samples_per_s": measure.median(v), "runs": v,
                    "gflops": measure.median(v) * flops / 1e9} for k, v in got.items()}
        progress(f"scaling width {width}: done")
    return out
