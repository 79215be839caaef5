"""The GEMM ceiling of each library on each workload's own products.

A training step of an MLP is its matrix products (forward, weight gradients, input
gradients but the first layer's) plus element-wise work; its physical limit on a machine is
the sum of those products at the best library's rate. For each workload this section times
every product of its step (float32, each operand in the layout gradkit's ops give it):

- each CPU GEMM library gradkit can call (NumPy's BLAS, and every installed extra of
  `gradkit/backend/gemm_libs.py`), each in a fresh process through gradkit's seam
  (`gemm_probe.run_child`: at the usable cores' threads and at one, the faster kept);
- PyTorch's `torch.matmul` and a `jax.jit` product in this process, when installed
(`--quick`: only NumPy's BLAS and the library gradkit uses, besides those two).

A library's rate on a workload is the step's FLOPs over the sum of its products' best
times; the ceiling is the best library's, and `limit_samples_per_s` is what a step made of
nothing but those products would reach.
"""

from __future__ import annotations

import time

import numpy as np

from gradkit.backend import gemm, gemm_libs, gemm_probe


def workloads(quick: bool) -> dict[str, tuple[list[int], int]]:
    """name -> (layer sizes, batch)."""
    mlp = [784, 512, 512, 10]
    if quick:  # the quick run's MNIST batch 32 and its narrow "wide" net
        return {"mlp b32": (mlp, 32), "wide b64": ([784, 64, 64, 10], 64)}
    return {"mlp b32": (mlp, 32), "mlp b128": (mlp, 128), "mlp b512": (mlp, 512),
            "wide b256": ([784, 2048, 2048, 10], 256)}


def _all_shapes(loads: dict) -> list[tuple]:
    return [(f"{w}|{s[0]}",) + tuple(s[1:]) for w, (sizes, bs) in loads.items()
            for s in gemm_probe.step_shapes(bs, tuple(sizes))]


def _rate_per_workload(shapes: list[tuple], seconds: dict[str, float]) -> dict[str, float]:
    """GFLOP/s per workload from each labelled product's best seconds."""
    flops: dict[str, float] = {}
    secs: dict[str, float] = {}
    for label, m, k, n, *_ in shapes:
        w = label.split("|")[0]
        flops[w] = flops.get(w, 0) + 2 * m * k * n
        secs[w] = secs.get(w, 0) + seconds[label]
    return {w: flops[w] / secs[w] / 1e9 for w in flops}


def _library(name: str, shapes: list[tuple], threads: int) -> dict:
    r = gemm_probe.run_child(name, threads, shapes, "float32", timeout=600)
    if "error" in r:
        return {"error": r["error"]}
    rates = r["float32"]["shapes"]  # GFLOP/s per product
    seconds = {s[0]: 2 * s[1] * s[2] * s[3] / (rates[s[0]] * 1e9) for s in shapes}
    return {"threads": r.get("threads"), "detail": r.get("detail", name),
            "workloads": _rate_per_workload(shapes, seconds)}


def _best_time(fn, rounds: int = 5) -> float:
    fn()
    best = 1e9
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _operands(shape: tuple, rng) -> tuple:
    _, m, k, n, ta, tb = shape
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    return (a.T if ta else a), (b.T if tb else b)


def _torch(shapes: list[tuple], threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    seconds = {}
    for s in shapes:
        a, b = (torch.from_numpy(v) for v in _operands(s, rng))
        out = torch.empty((s[1], s[3]))
        seconds[s[0]] = _best_time(lambda a=a, b=b, out=out: torch.matmul(a, b, out=out))
    return {"threads": threads, "detail": f"torch {torch.__version__}, torch.matmul",
            "workloads": _rate_per_workload(shapes, seconds)}


def _jax(shapes: list[tuple]) -> dict:
    import jax
    import jax.numpy as jnp

    mm = jax.jit(lambda a, b: a @ b)
    rng = np.random.default_rng(0)
    seconds = {}
    for s in shapes:
        a, b = (jnp.asarray(v) for v in _operands(s, rng))
        seconds[s[0]] = _best_time(lambda a=a, b=b: mm(a, b).block_until_ready())
    return {"threads": None, "detail": f"jax {jax.__version__}, jit(a @ b) (XLA's threads)",
            "workloads": _rate_per_workload(shapes, seconds)}


def section_gemm(threads: int, quick: bool, peers: list[str]) -> dict:
    """Every library's GFLOP/s on every workload, the best (the ceiling) and its limit."""
    loads = workloads(quick)
    shapes = _all_shapes(loads)
    libs: dict[str, dict] = {}
    names = ["numpy"] + gemm_libs.available()
    if quick:  # a smoke test: NumPy's BLAS and the library gradkit uses
        names = list(dict.fromkeys(["numpy", gemm.info()["library"]]))
    for name in names:
        libs[name] = _library(name, shapes, threads)
    if "torch" in peers:
        libs["torch"] = _torch(shapes, threads)
    if "jax.jit" in peers:
        libs["jax.jit"] = _jax(shapes)
    ceiling = {}
    for w, (sizes, _) in loads.items():
        rates = {n: r["workloads"][w] for n, r in libs.items() if "workloads" in r}
        best = max(rates, key=lambda n: rates[n])
        flops = sum(2 * s[1] * s[2] * s[3] for s in shapes if s[0].startswith(w + "|"))
        bs = loads[w][1]
        ceiling[w] = {"library": best, "gflops": rates[best],
                      "limit_samples_per_s": rates[best] * 1e9 / flops * bs,
                      "flops_per_sample": flops / bs, "sizes": sizes, "batch": bs}
    return {"libraries": libs, "ceiling": ceiling}
