"""Sequence-model training speed of gradkit next to PyTorch (CPU), measured in one run.

    python benchmarks/lstm.py                 # full sizes, 1 thread and all threads
    python benchmarks/lstm.py --quick         # small sizes, a minute or so
    python benchmarks/lstm.py --threads 1 --repeats 9 --json out.json --profile

Cases (one training step = zero_grad, forward, loss, backward, SGD step):
  lstm H=.. T=..   character-level language model: Embedding(64, H) -> LSTM(H, H), one layer,
                   time-major -> Linear(H, 64) -> cross-entropy over every token; batch 32.
                   Reported as tokens/s (T * 32 / step time).
  encoder          TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=512,
                   dropout=0.1), training mode, input (64, 32, 128), loss mean((y - t)^2).
Contenders are interleaved within each repeat (alternating who goes first); medians of the
step time (wall) and of the process CPU time are reported (CPU time is less disturbed by
other processes; with threads "all" it adds up every thread). Threads: "1" limits NumPy's
BLAS (threadpoolctl) and PyTorch (torch.set_num_threads) to one thread, the steadier
comparison on a busy machine; "all" leaves both at their defaults (every core). A ratio is
meaningful, an absolute time on a shared machine is not. `--profile` prints cProfile's top
entries of gradkit's step (one thread).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import gradkit as gk
from gradkit import optim
from gradkit.nn.attention import TransformerEncoderLayer
from gradkit.nn.embedding import Embedding
from gradkit.nn.layers import Linear
from gradkit.nn.module import Module
from gradkit.nn.recurrent import LSTM
from gradkit.ops.neural import cross_entropy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
from benchmarks.suite.measure import cpu_model  # noqa: E402

VOCAB, BATCH = 64, 32
FULL = [(128, 64), (128, 256), (512, 64), (512, 256)]
QUICK = [(64, 32), (128, 64)]


class GkLM(Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.emb = Embedding(VOCAB, hidden)
        self.lstm = LSTM(hidden, hidden)
        self.head = Linear(hidden, VOCAB)

    def forward(self, tokens):
        out, _ = self.lstm(self.emb(tokens))
        return self.head(out)


def gk_lstm_step(hidden: int, steps: int):
    gk.manual_seed(0)
    model = GkLM(hidden)
    opt = optim.SGD(model.parameters(), lr=0.1)
    data = np.random.default_rng(0).integers(0, VOCAB, size=(steps + 1, BATCH))
    x, y = gk.tensor(data[:-1]), gk.tensor(data[1:].reshape(-1))

    def step():
        opt.zero_grad()
        loss = cross_entropy(model(x).reshape(-1, VOCAB), y)
        loss.backward()
        opt.step()

    return step


def torch_lstm_step(torch, hidden: int, steps: int):
    torch.manual_seed(0)
    nn = torch.nn

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb, self.lstm = nn.Embedding(VOCAB, hidden), nn.LSTM(hidden, hidden)
            self.head = nn.Linear(hidden, VOCAB)

        def forward(self, tokens):
            return self.head(self.lstm(self.emb(tokens))[0])

    model = LM()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    data = np.random.default_rng(0).integers(0, VOCAB, size=(steps + 1, BATCH))
    x, y = torch.tensor(data[:-1]), torch.tensor(data[1:].reshape(-1))

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x).reshape(-1, VOCAB), y)
        loss.backward()
        opt.step()

    return step


ENC = dict(d_model=128, nhead=4, dim_feedforward=512, dropout=0.1)
ENC_SHAPE = (64, BATCH, 128)


def gk_encoder_step():
    gk.manual_seed(0)
    layer = TransformerEncoderLayer(**ENC)
    opt = optim.SGD(layer.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    x = gk.tensor(rng.standard_normal(ENC_SHAPE).astype(np.float32))
    t = gk.tensor(rng.standard_normal(ENC_SHAPE).astype(np.float32))

    def step():
        opt.zero_grad()
        d = layer(x) - t
        (d * d).mean().backward()
        opt.step()

    return step


def torch_encoder_step(torch):
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(**ENC)
    opt = torch.optim.SGD(layer.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal(ENC_SHAPE).astype(np.float32))
    t = torch.tensor(rng.standard_normal(ENC_SHAPE).astype(np.float32))

    def step():
        opt.zero_grad()
        d = layer(x) - t
        (d * d).mean().backward()
        opt.step()

    return step


def _time(fn, calls: int) -> tuple[float, float]:
    """(wall, process CPU) seconds per call."""
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls, (time.process_time() - c0) / calls


def measure(contenders: dict, repeats: int, budget: float) -> dict:
    """Median (wall, CPU) seconds per step of each contender, interleaved, alternating who
    goes first."""
    for fn in contenders.values():  # warm up (allocator, BLAS buffers, first-call paths)
        fn()
        fn()
    calls = {k: max(1, int(budget / max(_time(fn, 1)[0], 1e-6)))
             for k, fn in contenders.items()}
    samples: dict = {k: [] for k in contenders}
    names = list(contenders)
    for r in range(repeats):
        for k in (names if r % 2 == 0 else names[::-1]):
            samples[k].append(_time(contenders[k], calls[k]))
    return {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
            for k, v in samples.items()}


class Threads:
    """Limit NumPy's BLAS and PyTorch to `n` threads inside the block (None: defaults)."""

    def __init__(self, torch, n: int | None) -> None:
        self.torch, self.n, self.limits = torch, n, None

    def __enter__(self):
        self.before = self.torch.get_num_threads()
        if self.n is not None:
            from threadpoolctl import threadpool_limits

            self.limits = threadpool_limits(limits=self.n, user_api="blas")
            self.torch.set_num_threads(self.n)

    def __exit__(self, *exc) -> None:
        if self.limits is not None:
            self.limits.restore_original_limits()
        self.torch.set_num_threads(self.before)


def machine() -> dict:
    cpu = cpu_model()
    import torch

    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "blas": f"{blas.get('name')} {blas.get('version')}",
            "torch": torch.__version__, "gradkit": gk.__version__,
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}


def run(args) -> list[dict]:
    import torch

    rows = []
    sizes = QUICK if args.quick else FULL
    modes = {"1": [1], "all": [None], "both": [1, None]}[args.threads]
    for n in modes:
        with Threads(torch, n):
            for hidden, steps in sizes:
                t = measure({"gradkit": gk_lstm_step(hidden, steps),
                             "torch": torch_lstm_step(torch, hidden, steps)},
                            args.repeats, args.budget)
                rows.append(_row(f"lstm H={hidden} T={steps}", n, t, steps * BATCH))
                print(_line(rows[-1]), file=sys.stderr)
            t = measure({"gradkit": gk_encoder_step(), "torch": torch_encoder_step(torch)},
                        args.repeats, args.budget)
            rows.append(_row("encoder d=128 h=4 T=64", n, t, ENC_SHAPE[0] * BATCH))
            print(_line(rows[-1]), file=sys.stderr)
    return rows


def _row(case: str, threads, t: dict, tokens: int) -> dict:
    (gw, gc), (tw, tc) = t["gradkit"], t["torch"]
    return {"case": case, "threads": "1" if threads == 1 else "all",
            "gradkit_ms": gw * 1e3, "torch_ms": tw * 1e3, "gradkit_tok_s": tokens / gw,
            "torch_tok_s": tokens / tw, "ratio": tw / gw, "gradkit_cpu_ms": gc * 1e3,
            "torch_cpu_ms": tc * 1e3, "cpu_ratio": tc / gc}


def _line(r: dict) -> str:
    return (f"{r['case']:<24} threads={r['threads']:<3} gradkit {r['gradkit_ms']:8.1f} ms  "
            f"torch {r['torch_ms']:8.1f} ms  speed ratio {r['ratio']:.2f} "
            f"(CPU time {r['cpu_ratio']:.2f})")


def table(rows: list[dict], info: dict) -> str:
    head = [f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
            f"NumPy {info['numpy']} ({info['blas']}), PyTorch {info['torch']}; load average "
            f"at start {info['load_average']}.", "",
            "| case | threads | gradkit ms/step | PyTorch ms/step | gradkit tokens/s | "
            "PyTorch tokens/s | speed gradkit / PyTorch (wall) | (CPU time) |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        head.append(f"| {r['case']} | {r['threads']} | {r['gradkit_ms']:.1f} | "
                    f"{r['torch_ms']:.1f} | {r['gradkit_tok_s']:,.0f} | "
                    f"{r['torch_tok_s']:,.0f} | {r['ratio']:.2f}x | {r['cpu_ratio']:.2f}x |")
    return "\n".join(head)


def profile(hidden: int, steps: int) -> None:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        step = gk_lstm_step(hidden, steps)
        step()
        prof = cProfile.Profile()
        prof.runcall(lambda: [step() for _ in range(3)])
    pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(12)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes (a minute or so)")
    p.add_argument("--repeats", type=int, default=None, help="interleaved repeats (median)")
    p.add_argument("--budget", type=float, default=None, help="seconds per sample")
    p.add_argument("--threads", choices=["1", "all", "both"], default="both")
    p.add_argument("--json", default=None, help="also write the rows and machine as JSON")
    p.add_argument("--profile", action="store_true", help="cProfile gradkit's LSTM step")
    args = p.parse_args(argv)
    args.repeats = args.repeats or (5 if args.quick else 7)
    args.budget = args.budget or (0.2 if args.quick else 0.5)
    if args.profile:
        profile(*(QUICK if args.quick else FULL)[-1 if args.quick else 0])
    info = machine()
    rows = run(args)
    print(table(rows, info))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
