"""A training loop that keeps its last loss (`self.loss = loss`) against the plain loop.

    python benchmarks/keep_loss.py [--baseline /tmp/baseline] [--repeats 5] [--steps 40]
                                   [--quick] [--json out.json]
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/keep_loss.py --quick

The MNIST-shaped MLP (784-512-512-10, ReLU), batch 512, random data (16 distinct batches,
cycled), SGD with momentum 0.9, cross-entropy. Both loops are methods of a small trainer
class: the plain one keeps nothing from a step; the keeping one stores the loss on the
trainer (`self.loss = loss`), as training classes and logging helpers do. Where `backward`
frees the graph (PyTorch's rule; gradkit since issue 25), the kept loss holds a few records;
where it did not (the baseline tree), it held a whole step's activations into the next step,
which cost memory and throughput.

Contenders, each loop in a fresh interpreter (`sys.executable`) so that its peak RSS
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`) is its own:
  gradkit    this tree (the checkout that holds this file)
  baseline   another gradkit tree given with --baseline (a directory holding `gradkit/`,
             imported through PYTHONPATH; the child checks `gradkit.__file__`), optional
  torch      PyTorch on the CPU, skipped when it is not importable
Within a repeat every contender runs once, in an order that rotates between repeats. The
table shows the median samples/s (min-max over repeats), also per second of the process's
CPU time (less disturbed by other processes on a shared machine), the median peak RSS and how
much of it the training loop added (peak after the loop minus peak after building the model
and the data), and each keeping loop against its plain loop (the median over repeats of the
per-repeat ratio).
BLAS thread variables are passed on unchanged and printed. A ratio is meaningful, an absolute
number on a shared machine is not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
from benchmarks.suite.measure import cpu_model  # noqa: E402

HERE = Path(__file__).resolve().parent
TREE = HERE.parent
SIZES = (784, 512, 512, 10)
BATCH = 512
N_BATCHES = 16
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# ---- the child: one framework, one loop ---------------------------------------------------------


def _data(seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal((BATCH, SIZES[0])).astype(np.float32) for _ in range(N_BATCHES)]
    ys = [rng.integers(0, SIZES[-1], BATCH).astype(np.int64) for _ in range(N_BATCHES)]
    return xs, ys


def _gradkit_trainer(expect_root: str):
    import gradkit as gk
    from gradkit import nn, optim

    where = Path(gk.__file__).resolve()
    if Path(expect_root).resolve() not in where.parents:
        raise SystemExit(f"keep_loss: imported gradkit from {where}, expected {expect_root}")
    gk.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES, SIZES[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = _data()
    batches = [(gk.tensor(x), gk.tensor(y)) for x, y in zip(xs, ys)]
    return _Trainer(model, opt, loss_fn, batches)


def _torch_trainer(_: str):
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES, SIZES[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xs, ys = _data()
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in zip(xs, ys)]
    return _Trainer(model, opt, nn.CrossEntropyLoss(), batches)


class _Trainer:
    """The same two loops for every framework (their APIs agree on these names)."""

    def __init__(self, model, opt, loss_fn, batches) -> None:
        self.model, self.opt, self.loss_fn, self.batches = model, opt, loss_fn, batches
        self.loss = None

    def plain_step(self, i: int) -> None:
        x, y = self.batches[i % len(self.batches)]
        loss = self.loss_fn(self.model(x), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()

    def keep_step(self, i: int) -> None:
        x, y = self.batches[i % len(self.batches)]
        loss = self.loss_fn(self.model(x), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.loss = loss  # kept for logging: alive through the next step


def child_main(framework: str, loop: str, steps: int, warmup: int, expect_root: str) -> None:
    import resource

    make = _torch_trainer if framework == "torch" else _gradkit_trainer
    trainer = make(expect_root)
    step = trainer.keep_step if loop == "keep" else trainer.plain_step
    setup_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    for i in range(warmup):
        step(i)
    t0 = time.perf_counter()
    c0 = time.process_time()
    for i in range(warmup, warmup + steps):
        step(i)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"samples_per_s": steps * BATCH / wall,
                      "samples_per_cpu_s": steps * BATCH / cpu, "peak_rss_mib": peak_kib / 1024,
                      "loop_rss_mib": (peak_kib - setup_kib) / 1024}))


# ---- the parent: interleaved repeats, the table ---------------------------------------------


def _run(framework: str, loop: str, root: Path | None, args, cwd: str) -> dict | None:
    env = dict(os.environ)
    if root is not None:
        env["PYTHONPATH"] = str(root)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", framework, "--loop", loop,
           "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--expect-root", str(root or "")]
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  {framework}/{loop} failed: {proc.stderr.strip().splitlines()[-1:]}",
              file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _torch_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True)
    return probe.returncode == 0


def machine() -> dict:
    import numpy as np

    model = cpu_model()
    info = {"cpu": model, "cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else None,
            "python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(),
            "threads": {v: os.environ.get(v, "unset") for v in THREAD_VARS}}
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return info


def measure(args) -> dict:
    contenders = [("gradkit", TREE)]
    if args.baseline:
        contenders.append(("baseline", Path(args.baseline).resolve()))
    if _torch_available():
        contenders.append(("torch", None))
    else:
        print("PyTorch is not importable: skipped", file=sys.stderr)
    runs = [(name, root, loop) for name, root in contenders for loop in ("plain", "keep")]
    raw = {(name, loop): [] for name, _, loop in runs}
    with tempfile.TemporaryDirectory() as cwd:
        for r in range(args.repeats):
            k = r % len(runs)
            for name, root, loop in runs[k:] + runs[:k]:
                framework = "torch" if name == "torch" else "gradkit"
                result = _run(framework, loop, root, args, cwd)
                raw[(name, loop)].append(result)
                if result is not None:
                    print(f"  repeat {r + 1}/{args.repeats} {name:8s} {loop:5s} "
                          f"{result['samples_per_s']:9.0f} samples/s, peak RSS "
                          f"{result['peak_rss_mib']:7.1f} MiB", file=sys.stderr)
    return {"machine": machine(), "settings": {"steps": args.steps, "warmup": args.warmup,
                                               "repeats": args.repeats, "batch": BATCH,
                                               "sizes": SIZES},
            "contenders": {name: (str(root) if root else "torch") for name, root in contenders},
            "raw": {f"{n}/{loop}": v for (n, loop), v in raw.items()}}


def _cell(runs: list, key: str, fmt: str = ",.0f", spread: bool = True) -> str:
    xs = [r[key] for r in runs if r]
    if not xs:
        return "failed"
    text = format(statistics.median(xs), fmt)
    return text + (f" ({min(xs):{fmt}}-{max(xs):{fmt}})" if spread else "")


def _ratio(keep: list, plain: list, key: str, spread: bool = True) -> str:
    rs = [k[key] / p[key] for k, p in zip(keep, plain) if k and p]
    if not rs:
        return ""
    return f"{statistics.median(rs):.3f}" + (f" ({min(rs):.2f}-{max(rs):.2f})" if spread else "")


def table(result: dict) -> str:
    rows = ["| contender | loop | samples/s (min-max) | samples per CPU-s (min-max) | "
            "peak RSS MiB | of it, grown in the loop | keep/plain: samples/s | per CPU-s | "
            "peak RSS |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name in result["contenders"]:
        plain = result["raw"][f"{name}/plain"]
        for loop in ("plain", "keep"):
            runs = result["raw"][f"{name}/{loop}"]
            ratios = ["", "", ""]
            if loop == "keep":
                ratios = [_ratio(runs, plain, "samples_per_s"),
                          _ratio(runs, plain, "samples_per_cpu_s"),
                          _ratio(runs, plain, "peak_rss_mib", spread=False)]
            rows.append(f"| {name} | {loop} | {_cell(runs, 'samples_per_s')} | "
                        f"{_cell(runs, 'samples_per_cpu_s')} | "
                        f"{_cell(runs, 'peak_rss_mib', ',.1f', spread=False)} | "
                        f"{_cell(runs, 'loop_rss_mib', ',.1f')} | " + " | ".join(ratios) + " |")
    m = result["machine"]
    st = result["settings"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), Python "
             f"{m['python']}, NumPy {m['numpy']}, {m['platform']}",
             "BLAS threads: " + ", ".join(f"{k}={v}" for k, v in m["threads"].items()),
             f"Load average at the end (1, 5, 15 min): {m.get('load_average')}",
             f"Settings: MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, {st['steps']} timed "
             f"steps after {st['warmup']} warm-up steps, {st['repeats']} interleaved repeats; "
             "medians over repeats, ratios: median of the per-repeat ratios (range)",
             "Contenders: " + ", ".join(f"{k} = {v}" for k, v in result["contenders"].items()),
             ""]
    return "\n".join(lines + rows)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline", default=None,
                   help="a gradkit tree to compare (a directory that holds gradkit/)")
    p.add_argument("--repeats", type=int, default=None, help="interleaved repeats (default 5)")
    p.add_argument("--steps", type=int, default=None, help="timed steps per run (default 40)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 5)")
    p.add_argument("--quick", action="store_true",
                   help="short settings: 3 repeats of 12 steps after 3 warm-up steps")
    p.add_argument("--json", type=Path, default=None, help="also write the raw numbers here")
    p.add_argument("--child", choices=("gradkit", "torch"), help=argparse.SUPPRESS)
    p.add_argument("--loop", choices=("plain", "keep"), help=argparse.SUPPRESS)
    p.add_argument("--expect-root", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = {"repeats": 3, "steps": 12, "warmup": 3}
    full = {"repeats": 5, "steps": 40, "warmup": 5}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args.child, args.loop, args.steps, args.warmup, args.expect_root)
        return
    result = measure(args)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
