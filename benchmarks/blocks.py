"""Optimizer updates block by block (gradkit/backend/blocks.py) next to the same NumPy ops on
whole arrays, interleaved in one run, medians of repeats (CPU).

    python benchmarks/blocks.py            # SGD momentum and Adam, 400k / 4M / 8M parameters
    python benchmarks/blocks.py --quick

Whole arrays: PyTorch's foreach=False order, one NumPy op at a time on the full arrays
(what gradkit's optimizers ran before); blocked: `gk.optim`'s kernels now. Both give the
same bits. The ratio is whole / blocked time: above 1, blocking is faster.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from gradkit.backend import kernels as ck
from gradkit.backend.updates import sgd_update_

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
from benchmarks.suite.measure import cpu_model, interleaved, load_average, median  # noqa: E402


def sgd_whole(w, g, b, tmp):
    b *= 0.9
    b += g
    np.multiply(b, 0.01, out=tmp)
    w -= tmp


def adam_whole(w, g, m, v, tmp):
    np.subtract(g, m, out=tmp)
    tmp *= 0.1
    m += tmp
    np.multiply(g, 0.001, out=tmp)
    tmp *= g
    v *= 0.999
    v += tmp
    np.sqrt(v, out=tmp)
    tmp /= 0.5
    tmp += 1e-8
    np.divide(m, tmp, out=tmp)
    tmp *= 0.01
    w -= tmp


def cases(n: int) -> dict:
    rng = np.random.default_rng(0)
    w, g, b, m, v = (rng.random(n, dtype=np.float32) for _ in range(5))
    tmp = np.empty_like(w)
    return {
        "sgd momentum, whole arrays": lambda: sgd_whole(w, g, b, tmp),
        "sgd momentum, blocked": lambda: sgd_update_(w, g, b, lr=0.01, momentum=0.9),
        "adam, whole arrays": lambda: adam_whole(w, g, m, v, tmp),
        "adam, blocked": lambda: ck.adam_update_(w, g, m, v, lr=0.01, beta1=0.9, beta2=0.999,
                                                 eps=1e-8, step=2),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    sizes = [400_000] if args.quick else [400_000, 4_000_000, 8_000_000]
    repeats, calls = (3, 5) if args.quick else (7, 20)
    print(f"# optimizer updates on {cpu_model()}, load {load_average()}, medians of {repeats} "
          f"interleaved repeats of {calls} calls, float32")
    for n in sizes:
        fns = cases(n)

        def block(f):
            def run() -> float:
                t0 = time.perf_counter()
                for _ in range(calls):
                    f()
                return (time.perf_counter() - t0) / calls
            return run

        got = interleaved({k: block(f) for k, f in fns.items()}, repeats, pause=0.05)
        ms = {k: median(v) * 1e3 for k, v in got.items()}
        for rule in ("sgd momentum", "adam"):
            whole, blocked = ms[f"{rule}, whole arrays"], ms[f"{rule}, blocked"]
            print(f"  {n:>9,} params  {rule:13s} whole {whole:7.3f} ms  blocked {blocked:7.3f} ms"
                  f"  {whole / blocked:5.2f}x")


if __name__ == "__main__":
    main()
