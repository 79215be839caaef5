"""The benchmark run: every section, its contenders interleaved, medians of repeats.

Sections (all in one run):
  mnist      training samples/s, 784-512-512-10 ReLU MLP, one shuffled epoch on the MNIST
             training set per repeat, batch 32/128/512; gradkit's loop and `fit`, PyTorch,
             the hand-written NumPy floor; plus a float32 GEMM (the ceiling) in the same repeats
  tiny       time per training step of the lessons' 2-10-2 Tanh network at batch 16 (plain SGD)
  inference  samples/s of the MNIST MLP on the 10,000 test images (batches of 256, no grad)
  memory     peak resident memory of one MNIST epoch (batch 128), each in a fresh process
  import     `import gradkit` / `import torch` / `import numpy` in a fresh interpreter
  scaling    samples/s for hidden widths 128/512/2048 and batches 32..1024
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from functools import partial

import numpy as np

from . import measure, report
from .contenders import CONTENDERS, fit_available
from .reference import torch_available

DEFAULT_JSON = os.path.join("benchmarks", "results", "latest.json")

FULL = dict(batch_sizes=(32, 128, 512), repeats=5, tiny_steps=2000, tiny_repeats=7,
            infer_repeats=7, gemm_n=2048, widths=(128, 512, 2048),
            scale_batches=(32, 64, 128, 256, 512, 1024), scale_repeats=3,
            scale_gflop=40.0, import_repeats=5, n_train=None, n_test=None, pause=0.2, warm=10)
QUICK = dict(batch_sizes=(32, 128, 512), repeats=1, tiny_steps=20, tiny_repeats=1,
             infer_repeats=1, gemm_n=256, widths=(16, 32), scale_batches=(32, 64),
             scale_repeats=1, scale_gflop=0.001, import_repeats=1, n_train=512, n_test=256,
             pause=0.0, warm=1)


def parse_args(argv, prog: str = "python -m benchmarks"):
    p = argparse.ArgumentParser(
        prog=prog,
        description="gradkit vs PyTorch (CPU) vs a hand-written NumPy MLP, in one run "
                    "(also: python benchmarks/run.py, gradkit bench). Prints Markdown "
                    "tables and the targets of issue 7; writes the numbers as JSON.")
    p.add_argument("--quick", action="store_true",
                   help="tiny subsets and one repeat: a smoke test of every section")
    p.add_argument("--repeats", type=int, help="repeats of the MNIST epochs (default 5)")
    p.add_argument("--sections", default="mnist,tiny,inference,memory,import,scaling",
                   help="comma-separated subset of the sections to run")
    p.add_argument("--json", default=DEFAULT_JSON, help=f"where to write (default {DEFAULT_JSON})")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="PyTorch's intra-op threads (default: the machine's cores)")
    return p.parse_args(argv)


def load_data(cfg: dict):
    """MNIST as float32 rows in [0, 1] (synthetic data of the same shape if it is missing)."""
    from gradkit.datasets import DatasetUnavailable, load_mnist

    try:
        (xtr, ytr), (xte, _) = load_mnist()
        source = "MNIST"
    except DatasetUnavailable:
        rng = np.random.default_rng(0)
        xtr, ytr = rng.integers(0, 256, (60000, 784), dtype=np.uint8), rng.integers(0, 10, 60000)
        xte = rng.integers(0, 256, (10000, 784), dtype=np.uint8)
        source = "synthetic (MNIST unavailable)"
    n_train, n_test = cfg["n_train"] or len(xtr), cfg["n_test"] or len(xte)
    scale = np.float32(1 / 255)
    x = xtr[:n_train].reshape(n_train, -1).astype(np.float32) * scale
    xt = xte[:n_test].reshape(n_test, -1).astype(np.float32) * scale
    return x, ytr[:n_train].astype(np.int64), xt, source


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


def section_mnist(cfg, names, x, y, xt) -> tuple[dict, list[float]]:
    sizes = [x.shape[1], 512, 512, 10]
    flops = train_flops(sizes)
    rows, gemm = {}, []
    for bs in cfg["batch_sizes"]:
        ts = trainers(names, sizes, x, y, xt)
        for t in ts.values():  # warm-up: caches, allocator, BLAS threads
            t.steps(cfg["warm"], bs)
        faults: dict[str, int] = {}
        runs = {n: partial(epoch_rate, t, bs, faults, n) for n, t in ts.items()}
        runs["gemm"] = partial(gemm_gflops, cfg["gemm_n"])
        settle = {n: partial(t.steps, 3, bs) for n, t in ts.items()}
        got = measure.interleaved(runs, cfg["repeats"], settle, cfg["pause"])
        gemm += got.pop("gemm")
        steps = cfg["repeats"] * -(-len(x) // bs)
        rows[bs] = {n: {"samples_per_s": measure.median(v), "best": max(v), "runs": v,
                        "gflops": measure.median(v) * flops / 1e9,
                        "page_faults_per_step": faults[n] / steps} for n, v in got.items()}
        _progress(f"mnist batch {bs}: " + report.brief(rows[bs], "samples_per_s"))
    return rows, gemm


def section_tiny(cfg, names):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 2), dtype=np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    names = [n for n in names if n != "gradkit fit"]
    ts = trainers(names, [2, 10, 2], x, y, None, act="tanh", lr=0.1, momentum=0.0)
    steps = cfg["tiny_steps"]
    for t in ts.values():
        t.steps(steps // 4 + 1, 16)
    runs = {n: (lambda t=t: measure.timed(lambda: t.steps(steps, 16)) / steps * 1e6)
            for n, t in ts.items()}
    got = measure.interleaved(runs, cfg["tiny_repeats"], pause=cfg["pause"])
    out = {n: {"us_per_step": measure.median(v), "runs": v} for n, v in got.items()}
    _progress("tiny 2-10-2: " + report.brief(out, "us_per_step"))
    return out


def section_inference(cfg, names, x, y, xt):
    ts = trainers(names, [x.shape[1], 512, 512, 10], x[:256], y[:256], xt)
    for t in ts.values():
        t.infer(256)
    runs = {n: (lambda t=t: len(xt) / measure.timed(lambda: t.infer(256))) for n, t in ts.items()}
    got = measure.interleaved(runs, cfg["infer_repeats"], pause=cfg["pause"])
    out = {n: {"samples_per_s": measure.median(v), "runs": v} for n, v in got.items()}
    _progress("inference: " + report.brief(out, "samples_per_s"))
    return out


def section_memory(names, x, y, threads):
    names = [n for n in names if n != "gradkit fit"]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mnist.npz")
        np.savez(path, x=x, y=y)
        out = measure.peak_memory(names, path, 128, threads)
    _progress("memory: " + report.brief(out, "peak_mib"))
    return out


def section_import(cfg, names):
    names = [n for n in names if n != "gradkit fit"]
    got = measure.import_times(names, cfg["import_repeats"])
    out = {n: {"seconds": measure.median(v), "runs": v} for n, v in got.items()}
    _progress("import: " + report.brief(out, "seconds"))
    return out


def section_scaling(cfg, names, x, y):
    names = [n for n in names if n != "gradkit fit"]
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
        _progress(f"scaling width {width}: done")
    return out


def _progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def main(argv=None, prog: str = "python -m benchmarks") -> dict:
    args = parse_args(sys.argv[1:] if argv is None else argv, prog)
    cfg = dict(QUICK if args.quick else FULL)
    if args.repeats:
        cfg["repeats"] = args.repeats
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    torch_threads = None
    names = ["gradkit"]
    fit_problem = fit_available()
    if fit_problem is None:
        names.append("gradkit fit")
    if torch_available():
        import torch

        torch.set_num_threads(args.threads)
        torch_threads = torch.get_num_threads()
        names.append("torch")
    names.append("numpy")

    t0 = time.perf_counter()
    x, y, xt, source = load_data(cfg)
    results = {
        "command": " ".join([prog, *(argv if argv is not None
                                                        else sys.argv[1:])]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "quick": args.quick,
        "machine": measure.machine(torch_threads),
        "data": {"source": source, "train": len(x), "test": len(xt)},
        "config": {k: v for k, v in cfg.items() if k not in ("n_train", "n_test")},
        "fit": "ready" if fit_problem is None else f"pending ({fit_problem})",
        "contenders": names,
    }
    if "mnist" in sections:
        results["mnist"], gemm = section_mnist(cfg, names, x, y, xt)
        results["gemm"] = {"gflops": measure.median(gemm), "runs": gemm, "n": cfg["gemm_n"]}
    if "tiny" in sections:
        results["tiny"] = section_tiny(cfg, names)
    if "inference" in sections:
        results["inference"] = section_inference(cfg, names, x, y, xt)
    if "memory" in sections:
        results["memory"] = section_memory(names, x, y, args.threads)
    if "import" in sections:
        results["import"] = section_import(cfg, names)
    if "scaling" in sections:
        results["scaling"] = section_scaling(cfg, names, x, y)
    results["seconds"] = time.perf_counter() - t0
    results["machine"]["load_after"] = measure.load_average()
    results["targets"] = report.targets(results)
    print(report.render(results))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
        _progress(f"wrote {args.json}")
    return results
