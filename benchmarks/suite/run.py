"""The benchmark run: every section, its contenders interleaved, medians of repeats.

Sections (all in one run):
  mnist      training samples/s, 784-512-512-10 ReLU MLP, one shuffled epoch on the MNIST
             training set per repeat, batch 32/128/512; gradkit's loop and `fit`, PyTorch
             eager, jax.jit, Keras 3 on JAX, the hand-written NumPy floor; plus a float32
             GEMM (NumPy's square product) in the same repeats
  wide       the wide net 784-2048-2048-10 at batch 256 (a pass over 4096 images a repeat)
  tiny       time per training step of the lessons' 2-10-2 Tanh network at batch 16 (plain SGD)
  inference  the MNIST MLP on the 10,000 test images, no grad: batch-1 latency, batch-1024
             samples/s
  gemm       the GEMM ceiling of each library (NumPy's BLAS, gradkit's GEMM extras, PyTorch,
             jax) on each training step's own products (suite/ceiling.py)
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

import numpy as np

from . import ceiling, measure, report, sections
from .contenders import fit_available
from .peers import available as peers_available
from .reference import torch_available

DEFAULT_JSON = os.path.join("benchmarks", "results", "latest.json")

FULL = dict(batch_sizes=(32, 128, 512), repeats=5, tiny_steps=2000, tiny_repeats=7,
            infer_repeats=7, infer_batch=1024, latency_calls=200, gemm_n=2048,
            wide_width=2048, wide_batch=256, wide_samples=4096, widths=(128, 512, 2048),
            scale_batches=(32, 64, 128, 256, 512, 1024), scale_repeats=3,
            scale_gflop=40.0, import_repeats=5, n_train=None, n_test=None, pause=0.2, warm=10)
QUICK = dict(batch_sizes=(32, 128, 512), repeats=1, tiny_steps=20, tiny_repeats=1,
             infer_repeats=1, infer_batch=128, latency_calls=5, gemm_n=256, wide_width=64,
             wide_batch=64, wide_samples=256, widths=(16, 32), scale_batches=(32, 64),
             scale_repeats=1, scale_gflop=0.001, import_repeats=1, n_train=512, n_test=256,
             pause=0.0, warm=1)
SECTIONS = "mnist,wide,tiny,inference,gemm,memory,import,scaling"
ORDER = ["gradkit", "gradkit fit", "gradkit jit", "torch", "jax.jit", "keras (jax)", "numpy"]


def parse_args(argv, prog: str = "python -m benchmarks"):
    p = argparse.ArgumentParser(
        prog=prog,
        description="gradkit vs PyTorch (CPU), jax.jit, Keras 3 on JAX and a hand-written "
                    "NumPy MLP, in one run (also: python benchmarks/run.py, gradkit bench). "
                    "Prints Markdown tables and the targets of issues 7 and 20; writes the "
                    "numbers as JSON.")
    p.add_argument("--quick", action="store_true",
                   help="tiny subsets and one repeat: a smoke test of every section")
    p.add_argument("--repeats", type=int, help="repeats of the MNIST epochs (default 5)")
    p.add_argument("--sections", default=SECTIONS,
                   help=f"comma-separated subset of the sections to run (default {SECTIONS})")
    p.add_argument("--contenders", default=None,
                   help="comma-separated subset of " + ", ".join(ORDER)
                        + " (default: every one installed)")
    p.add_argument("--json", default=DEFAULT_JSON, help=f"where to write (default {DEFAULT_JSON})")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="PyTorch's intra-op threads, and the GEMM libraries' in the gemm "
                        "section (default: the machine's cores)")
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


def section_memory(names, x, y, threads):
    names = [n for n in names if n in sections.CLASSIC and n != sections.FIT]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mnist.npz")
        np.savez(path, x=x, y=y)
        out = measure.peak_memory(names, path, 128, threads)
    sections.progress("memory: " + report.brief(out, "peak_mib"))
    return out


def section_import(cfg, names):
    names = [n for n in names if n in sections.CLASSIC and n != sections.FIT]
    got = measure.import_times(names, cfg["import_repeats"])
    out = {n: {"seconds": measure.median(v), "runs": v} for n, v in got.items()}
    sections.progress("import: " + report.brief(out, "seconds"))
    return out


def contenders(requested: str | None) -> tuple[list[str], dict[str, str]]:
    """The contenders to run, in `ORDER`, and why each missing one is missing."""
    missing: dict[str, str] = {}
    fit_problem = fit_available()
    if fit_problem is not None:
        missing["gradkit fit"] = f"pending ({fit_problem})"
    if not torch_available():
        missing["torch"] = "PyTorch is not installed"
    want = ORDER if requested is None else [c.strip() for c in requested.split(",") if c.strip()]
    unknown = [c for c in want if c not in ORDER]
    if unknown:
        raise SystemExit(f"--contenders: unknown {', '.join(unknown)}; choose from "
                         + ", ".join(ORDER))
    if {"jax.jit", "keras (jax)"} & set(want):  # importing jax takes seconds: only if asked
        missing.update({k: v for k, v in peers_available().items() if v is not None})
    return [c for c in ORDER if c in want and c not in missing], missing


def main(argv=None, prog: str = "python -m benchmarks") -> dict:
    args = parse_args(sys.argv[1:] if argv is None else argv, prog)
    cfg = dict(QUICK if args.quick else FULL)
    if args.repeats:
        cfg["repeats"] = args.repeats
    wanted = {s.strip() for s in args.sections.split(",") if s.strip()}
    names, missing = contenders(args.contenders)
    torch_threads = None
    if "torch" in names:
        import torch

        torch.set_num_threads(args.threads)
        torch_threads = torch.get_num_threads()

    t0 = time.perf_counter()
    x, y, xt, source = load_data(cfg)
    results = {
        "command": " ".join([prog, *(argv if argv is not None else sys.argv[1:])]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "quick": args.quick,
        "machine": measure.machine(torch_threads),
        "data": {"source": source, "train": len(x), "test": len(xt)},
        "config": {k: v for k, v in cfg.items() if k not in ("n_train", "n_test")},
        "fit": missing.get("gradkit fit", "ready"),
        "contenders": names,
        "missing": missing,
    }
    if "mnist" in wanted:
        results["mnist"], square = sections.section_mnist(cfg, names, x, y, xt)
        results["square_gemm"] = {"gflops": measure.median(square), "runs": square,
                                  "n": cfg["gemm_n"]}
    if "wide" in wanted:
        results["wide"] = sections.section_wide(cfg, names, x, y)
    if "tiny" in wanted:
        results["tiny"] = sections.section_tiny(cfg, names)
    if "inference" in wanted:
        results["inference"] = sections.section_inference(cfg, names, x, y, xt)
    if "gemm" in wanted:
        results["gemm"] = ceiling.section_gemm(args.threads, args.quick, names)
        sections.progress("gemm: " + ", ".join(
            f"{w} {c['library']} {c['gflops']:.1f} GFLOP/s"
            for w, c in results["gemm"]["ceiling"].items()))
    if "memory" in wanted:
        results["memory"] = section_memory(names, x, y, args.threads)
    if "import" in wanted:
        results["import"] = section_import(cfg, names)
    if "scaling" in wanted:
        results["scaling"] = sections.section_scaling(cfg, names, x, y)
    results["seconds"] = time.perf_counter() - t0
    results["machine"]["load_after"] = measure.load_average()
    results["targets"] = report.targets(results)
    print(report.render(results))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
        sections.progress(f"wrote {args.json}")
    return results
