"""Compiled steps (`gk.compile`) next to eager gradkit, PyTorch eager, a hand-written NumPy
loop and `jax.jit` (when installed), measured side by side in one run (CPU).

    python benchmarks/jit.py                  # both cases, 1 BLAS thread, 7 repeats
    python benchmarks/jit.py --quick          # fewer steps and repeats
    python benchmarks/jit.py --threads all --json out.json

Cases (one training step = zero_grad, forward, cross-entropy, backward, SGD update, lr 0.1):
  tanh 2-10-2 b16     the lessons' network: Linear(2, 10) -> Tanh -> Linear(10, 2), batch 16
  mlp 784-512-512-10  the MNIST MLP with ReLU, batch 128
"compiled, unfused" (with Numba installed) is the compiled step without fused loops.
The NumPy loop is what a learner writes by hand (the lesson's framework, no autograd): the
same float32 maths, fresh arrays each step (the NumPy floor). Contenders run interleaved in
every repeat (the order rotated, a short pause before each), each for a block of steps; the
report gives the median time per step on two clocks, wall time and the process's CPU time
(all its threads: on a shared, loaded machine it counts the work, not the waiting), each
contender's ratio to compiled gradkit, and the issue's targets. With `--threads 1` BLAS,
PyTorch and XLA run one compute thread each (jax still dispatches on a second thread, which
the CPU clock counts). A ratio is meaningful, an absolute time on a shared machine is not.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import gradkit as gk
from gradkit import nn
from gradkit.jit import compile as jit_compile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
from benchmarks.suite.measure import cpu_model, interleaved, median  # noqa: E402

CASES = {"tanh 2-10-2 b16": ([2, 10, 2], "tanh", 16, 400),
         "mlp 784-512-512-10 b128": ([784, 512, 512, 10], "relu", 128, 20)}
LR = 0.1


def _data(sizes: list[int], batch: int, n_batches: int = 8):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((batch, sizes[0])).astype(np.float32) for _ in range(n_batches)]
    ys = [rng.integers(0, sizes[-1], batch).astype(np.int64) for _ in range(n_batches)]
    return xs, ys


def _weights(sizes: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    return [((rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32),
             np.zeros(o, np.float32)) for i, o in zip(sizes[:-1], sizes[1:])]


def gradkit_step(sizes, act, compiled: bool):
    layers: list = []
    for k, (w, b) in enumerate(_weights(sizes)):
        lin = nn.Linear(w.shape[1], w.shape[0])
        lin.weight.data[...] = w
        lin.bias.data[...] = b
        layers += [lin] + ([nn.Tanh() if act == "tanh" else nn.ReLU()]
                           if k < len(sizes) - 2 else [])
    model = nn.Sequential(*layers)
    opt = gk.optim.SGD(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return jit_compile(step) if compiled else step, lambda x, y: (gk.tensor(x), gk.tensor(y))


def numpy_step(sizes, act):
    """The hand-written loop: forward, softmax cross-entropy gradient, backward, update."""
    params = [(w.copy(), b.copy()) for w, b in _weights(sizes)]
    f = np.tanh if act == "tanh" else (lambda z: np.maximum(z, 0))

    def step(x, y):
        hs = [x]
        for k, (w, b) in enumerate(params):
            z = hs[-1] @ w.T + b
            hs.append(f(z) if k < len(params) - 1 else z)
        z = hs[-1]
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        n = len(y)
        loss = -logp[np.arange(n), y].mean()
        g = np.exp(logp)
        g[np.arange(n), y] -= 1
        g /= n
        for k in range(len(params) - 1, -1, -1):
            w, b = params[k]
            gw, gb = g.T @ hs[k], g.sum(axis=0)
            if k:
                g = g @ w
                g = g * (1 - hs[k] ** 2) if act == "tanh" else g * (hs[k] > 0)
            w -= LR * gw
            b -= LR * gb
        return loss

    return step, lambda x, y: (x, y)


def torch_step(sizes, act):
    import torch

    layers: list = []
    for k, (w, b) in enumerate(_weights(sizes)):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin] + ([torch.nn.Tanh() if act == "tanh" else torch.nn.ReLU()]
                           if k < len(sizes) - 2 else [])
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step, lambda x, y: (torch.from_numpy(x), torch.from_numpy(y))


def jax_step(sizes, act):
    import jax
    import jax.numpy as jnp

    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in _weights(sizes)]
    f = jnp.tanh if act == "tanh" else jax.nn.relu

    def loss_of(ps, x, y):
        h = x
        for k, (w, b) in enumerate(ps):
            h = h @ w.T + b
            h = f(h) if k < len(ps) - 1 else h
        logp = jax.nn.log_softmax(h)
        return -jnp.take_along_axis(logp, y[:, None], axis=1).mean()

    @jax.jit
    def update(ps, x, y):
        loss, grads = jax.value_and_grad(loss_of)(ps, x, y)
        return [(w - LR * gw, b - LR * gb) for (w, b), (gw, gb) in zip(ps, grads)], loss

    state = [params]

    def step(x, y):
        state[0], loss = update(state[0], x, y)
        return loss

    def finish(loss):
        loss.block_until_ready()

    step.finish = finish  # type: ignore[attr-defined]
    return step, lambda x, y: (jnp.asarray(x), jnp.asarray(y))


def _runner(step: Callable, convert: Callable, xs, ys, steps: int) -> Callable[[], tuple]:
    """A block of `steps` training steps: () -> (wall, process CPU) seconds per step."""
    batches = [convert(x, y) for x, y in zip(xs, ys)]
    finish = getattr(step, "finish", None)
    for x, y in batches * 2:  # warm-up (compiled: eager, trace, replay)
        step(x, y)

    def run() -> tuple[float, float]:
        c0, t0 = time.process_time(), time.perf_counter()
        loss = None
        for i in range(steps):
            x, y = batches[i % len(batches)]
            loss = step(x, y)
        if finish is not None:
            finish(loss)
        return (time.perf_counter() - t0) / steps, (time.process_time() - c0) / steps

    return run


def unfused_step(sizes, act):
    """The compiled step with its plan traced without fused loops (`gk.config.fuse` off
    while it traces): one NumPy call per op, to show what the loops (jit/loops.py) add."""
    from gradkit.backend import fusion

    step, convert = gradkit_step(sizes, act, True)

    def run(x, y):
        was = fusion.requested()
        fusion.set_enabled(False)
        try:
            return step(x, y)
        finally:
            fusion.set_enabled(was)

    return run, convert


def contenders(sizes, act) -> dict[str, tuple[Callable, Callable]]:
    from gradkit.backend import fusion

    out = {"gradkit compiled": gradkit_step(sizes, act, True),
           "gradkit eager": gradkit_step(sizes, act, False),
           "numpy loop": numpy_step(sizes, act)}
    if fusion.enabled():
        out["compiled, unfused"] = unfused_step(sizes, act)
    with contextlib.suppress(ImportError):
        out["pytorch eager"] = torch_step(sizes, act)
    with contextlib.suppress(ImportError):
        out["jax.jit"] = jax_step(sizes, act)
    return out


# (case, contender the compiled step is compared with, the ratio the issue asks for)
TARGETS = [("tanh 2-10-2 b16", "jax.jit", 1.0), ("tanh 2-10-2 b16", "pytorch eager", 5.0),
           ("mlp 784-512-512-10 b128", "numpy loop", 1.0)]


def _machine(threads: str) -> dict:
    import platform

    from gradkit.backend import fusion, gemm

    info = gemm.resolve()  # gradkit's GEMM seam: NumPy's BLAS or a measured faster one
    f = fusion.info()
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "threads": threads,
            "fused_loops": f"Numba {f['numba']}" if f["numba"] and f["requested"] else "off",
            "gradkit_gemm": f"{info['library']} ({info['threads']} thread(s))",
            "load_before": [round(v, 2) for v in os.getloadavg()]}


def _limit_threads(threads: str) -> Any:
    """One BLAS / PyTorch / XLA thread (`threads == "1"`); the threadpoolctl handle."""
    if threads != "1":
        return None
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1")
    from threadpoolctl import threadpool_limits

    limits = threadpool_limits(1)
    from gradkit.backend.config import config

    config.gemm_threads = 1  # gradkit's GEMM library too (it sets its own threads)
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(1)
    return limits


def _report_case(name: str, walls: dict, cpus: dict) -> dict:
    base_w, base_c = walls["gradkit compiled"], cpus["gradkit compiled"]
    print(f"\n{name}                 wall us/step  x compiled | CPU us/step  x compiled")
    for who in walls:
        print(f"  {who:18s} {walls[who] * 1e6:10.1f} {walls[who] / base_w:8.2f} x | "
              f"{cpus[who] * 1e6:10.1f} {cpus[who] / base_c:8.2f} x")
    return {"wall_s": walls, "cpu_s": cpus}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", default="1", help="'1' (BLAS, PyTorch, XLA) or 'all'")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    limits = _limit_threads(args.threads)
    report: dict = {"machine": _machine(args.threads), "repeats": repeats, "cases": {}}
    m = report["machine"]
    print(f"# gk.compile benchmark on {m['cpu']} ({m['cores']} cores, load {m['load_before']}), "
          f"threads {args.threads}, gradkit GEMM {m['gradkit_gemm']}, fused loops "
          f"{m['fused_loops']}, medians of {repeats} "
          f"interleaved repeats")
    for name, (sizes, act, batch, steps) in CASES.items():
        steps = max(steps // 4, 5) if args.quick else steps
        xs, ys = _data(sizes, batch)
        runs = {who: _runner(step, conv, xs, ys, steps)
                for who, (step, conv) in contenders(sizes, act).items()}
        got = interleaved(runs, repeats, pause=0.1)
        walls = {who: median([v[0] for v in got[who]]) for who in got}
        cpus = {who: median([v[1] for v in got[who]]) for who in got}
        report["cases"][name] = _report_case(name, walls, cpus)
    report["machine"]["load_after"] = [round(v, 2) for v in os.getloadavg()]
    report["targets"] = _targets(report["cases"])
    if limits is not None:
        limits.unregister()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


def _targets(cases: dict) -> list[dict]:
    """Each target of the issue: the measured ratio (other / compiled) on both clocks."""
    out = []
    print("\ntargets (ratio = other contender's time / compiled time)")
    for case, who, want in TARGETS:
        times = cases[case]
        if who not in times["wall_s"]:
            continue
        ratios = {clock: times[clock][who] / times[clock]["gradkit compiled"]
                  for clock in ("wall_s", "cpu_s")}
        out.append({"case": case, "versus": who, "target": want, **ratios})
        verdict = "met" if min(ratios.values()) >= want else \
            "met on one clock" if max(ratios.values()) >= want else "missed"
        print(f"  {case:24s} vs {who:14s} >= {want:.1f}x: wall {ratios['wall_s']:.2f}x, "
              f"CPU {ratios['cpu_s']:.2f}x ({verdict})")
    return out


if __name__ == "__main__":
    main()
