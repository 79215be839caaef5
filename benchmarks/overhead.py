"""Per-op overhead of gradkit's autograd next to PyTorch's (CPU), measured in one run.

    python benchmarks/overhead.py [--repeats 7] [--json out.json]

Cases, on tiny tensors so that only framework overhead is timed:
  add      forward of a + b (graph recorded: inputs require grad)
  matmul   forward of a @ b (4x4)
  chain    forward + backward of a 100-op chain (mul, add, tanh), reported per op
Contenders are interleaved within each repeat; the table shows medians in microseconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import timeit

import numpy as np

import gradkit as gk


def _chain(lib, x):
    y = x
    for _ in range(33):
        y = lib.tanh(y * 0.9 + 0.1)
    return y.sum()


def gradkit_cases():
    a = gk.tensor(np.ones(4, np.float32), requires_grad=True)
    b = gk.tensor(np.ones(4, np.float32), requires_grad=True)
    m = gk.tensor(np.ones((4, 4), np.float32), requires_grad=True)

    def chain():
        a.grad = None
        _chain(gk, a).backward()

    return {"add": lambda: a + b, "matmul": lambda: m @ m, "chain": chain}


def torch_cases(torch):
    a = torch.ones(4, requires_grad=True)
    b = torch.ones(4, requires_grad=True)
    m = torch.ones(4, 4, requires_grad=True)

    def chain():
        a.grad = None
        _chain(torch, a).backward()

    return {"add": lambda: a + b, "matmul": lambda: m @ m, "chain": chain}


def numpy_cases():
    a, b, m = np.ones(4, np.float32), np.ones(4, np.float32), np.ones((4, 4), np.float32)

    def chain():  # forward and a hand-written backward: the floor for a NumPy framework
        ys, y = [], a
        for _ in range(33):
            y = np.tanh(y * 0.9 + 0.1)
            ys.append(y)
        g = np.ones_like(a)
        for y in reversed(ys):
            g = g * (1 - y * y) * 0.9
        return g

    return {"add": lambda: a + b, "matmul": lambda: m @ m, "chain": chain}


OPS_PER_CALL = {"add": 1, "matmul": 1, "chain": 100}


def measure(contenders: dict, repeats: int) -> dict:
    samples = {(c, k): [] for c, cases in contenders.items() for k in cases}
    for _ in range(repeats):
        for name, cases in contenders.items():  # interleaved: every contender each repeat
            for case, fn in cases.items():
                timer = timeit.Timer(fn)
                n, _ = timer.autorange()
                t = timer.timeit(n) / n
                samples[(name, case)].append(t / OPS_PER_CALL[case] * 1e6)
    return {k: statistics.median(v) for k, v in samples.items()}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)
    contenders = {"gradkit": gradkit_cases(), "numpy": numpy_cases()}
    try:
        import torch

        torch.set_num_threads(1)
        contenders["torch"] = torch_cases(torch)
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    res = measure(contenders, args.repeats)
    names = list(contenders)
    print(f"per-op overhead, median of {args.repeats} (microseconds; lower is better)")
    print(f"python {platform.python_version()}, numpy {np.__version__}, torch {torch_version}")
    print(f"{'case':<28}" + "".join(f"{n:>10}" for n in names) + "   gradkit/torch")
    labels = {"add": "add (forward)", "matmul": "matmul 4x4 (forward)",
              "chain": "chain fwd+bwd, per op"}
    for case, label in labels.items():
        row = "".join(f"{res[(n, case)]:>10.2f}" for n in names)
        ratio = res[("gradkit", case)] / res[("torch", case)] if "torch" in names else float("nan")
        print(f"{label:<28}{row}   {ratio:>8.2f}x")
    out = {f"{n}.{c}": v for (n, c), v in res.items()}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"unit": "us_per_op", "results": out, "torch": torch_version}, f, indent=1)
    return out


if __name__ == "__main__":
    sys.exit(main() and 0)
