"""Side-by-side benchmark of two gradkit source trees: honest before/after ratios of a refactor.

    python benchmarks/compare_trees.py OLD_ROOT NEW_ROOT [--repeats 7] [--quick] [--json PATH]

    # e.g. a frozen copy of the code before a refactor against the working tree:
    python benchmarks/compare_trees.py /tmp/baseline . --quick

Each root is a directory that contains a `gradkit/` package (a checkout, or a copy of one).
Every measurement runs in a fresh interpreter (this Python, `sys.executable`) started with
`PYTHONPATH=<root>` from a scratch working directory, so each tree is imported from its own
files even where another gradkit is installed (editable installs included); the child checks
that `gradkit.__file__` lies in the expected root and fails otherwise. Each child warms up,
times one loop with `time.perf_counter` and prints one JSON number. Within a repeat the two
trees run one after the other for every workload (old-new, then new-old, ...); the table shows
the medians of the absolute values and the median over repeats of the per-repeat ratio
new/old, with the range (min-max) of those ratios as a measure of the noise.
`OPENBLAS_NUM_THREADS`, `OMP_NUM_THREADS` and `MKL_NUM_THREADS` are passed on unchanged and
recorded; set them (e.g. to 1) for steadier numbers on a busy machine.

Workloads, using only public API present in both trees:
  add          `a + b`, 4-element float32 tensors, forward only (us per op), once without
               and once with `requires_grad=True` (the graph is recorded)
  chain        forward + backward of a 100-op chain (33 x `*`, `+`, `.exp()`, then `.sum()`)
               on a 4-element tensor requiring grad (us per op)
  mlp          784-512-512-10 ReLU MLP, SGD with momentum 0.9, one fixed random batch;
               train step = forward, CrossEntropyLoss, zero_grad, backward, step (samples/s),
               at batch 128 and at batch 32
  tiny         2-10-2 Tanh network, batch 16, same train step (us per step)
  infer        the MLP on one row under `gk.no_grad()` (us per call); `model.predict` of
               8192 rows at batch 1024 (samples/s)
  fit          `model.fit` of one epoch of 8192 random rows at batch 128 after
               `compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])` (samples/s)
  import       wall time of `python -c "import gradkit"` minus that of `python -c "pass"` (s),
               run as back-to-back pairs, the median of the pair differences per repeat

`--quick` runs shorter loops and, unless `--repeats` is given, 3 repeats (about 1-2 minutes
on a 2-core machine; the default is about 3-6 minutes). Results (machine, both roots with
their git commit or "n/a", a content hash of each `gradkit/` tree, and every per-repeat raw
number) go to `--json`, by default `benchmarks/results/compare-latest.json`. On a shared
machine trust a ratio whose range stays on one side of 1.0, not an absolute number.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_REPO = str(Path(__file__).resolve().parents[1])
sys.path.insert(0, _REPO)  # the repository root, for benchmarks.suite
from benchmarks.suite.measure import cpu_model  # noqa: E402

if "--child" in sys.argv:  # a child imports gradkit from its own root (PYTHONPATH) only
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _REPO]
    sys.modules.pop("benchmarks", None)

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "compare-latest.json"
CHILD_TIMEOUT_S = 600

# Loop sizes: iterations timed (`*_n`) and untimed warm-up iterations (`*_warm`).
SIZES: dict[str, dict[str, int]] = {
    "full": {"add_n": 50000, "add_warm": 5000, "chain_n": 500, "chain_warm": 30,
             "mlp128_n": 60, "mlp32_n": 120, "mlp_warm": 5, "tiny_n": 2000, "tiny_warm": 200,
             "infer_n": 2000, "infer_warm": 200, "predict_n": 3, "fit_rows": 8192,
             "import_pairs": 5},
    "quick": {"add_n": 20000, "add_warm": 2000, "chain_n": 200, "chain_warm": 10,
              "mlp128_n": 20, "mlp32_n": 50, "mlp_warm": 3, "tiny_n": 500, "tiny_warm": 50,
              "infer_n": 500, "infer_warm": 50, "predict_n": 1, "fit_rows": 8192,
              "import_pairs": 3},
}


# ---- workloads (run in the child; gradkit is imported there, never in the parent) ---------

def _mlp(sizes: Sequence[int], act: str = "relu") -> Any:
    import gradkit as gk
    from gradkit import nn

    gk.manual_seed(0)
    layers: list[Any] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU() if act == "relu" else nn.Tanh())
    return nn.Sequential(*layers)


def _data(rows: int, features: int, classes: int) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(0)  # NumPy's RNG: the same data for both trees
    return (rng.standard_normal((rows, features), dtype=np.float32),
            rng.integers(0, classes, rows).astype(np.int64))


def _per_call_us(fn: Callable[[], object], n: int, warm: int, ops_per_call: int = 1) -> float:
    import time as _time

    for _ in range(warm):
        fn()
    t0 = _time.perf_counter()
    for _ in range(n):
        fn()
    return (_time.perf_counter() - t0) / (n * ops_per_call) * 1e6


def wl_add(sz: dict[str, int], requires_grad: bool) -> float:
    import numpy as np

    import gradkit as gk

    a = gk.tensor(np.ones(4, np.float32), requires_grad=requires_grad)
    b = gk.tensor(np.ones(4, np.float32), requires_grad=requires_grad)
    return _per_call_us(lambda: a + b, sz["add_n"], sz["add_warm"])


def wl_chain(sz: dict[str, int]) -> float:
    import numpy as np

    import gradkit as gk

    a = gk.tensor(np.full(4, 0.5, np.float32), requires_grad=True)

    def chain() -> None:
        a.grad = None
        y = a
        for _ in range(33):  # y -> exp(0.5 - y): stays near 0.77, gradients stay normal floats
            y = (y * -1.0 + 0.5).exp()
        y.sum().backward()

    return _per_call_us(chain, sz["chain_n"], sz["chain_warm"], ops_per_call=100)


def _train_step_fn(sizes: Sequence[int], act: str, batch: int) -> Callable[[], None]:
    import gradkit as gk
    from gradkit import nn, optim

    model = _mlp(sizes, act)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x, y = _data(batch, sizes[0], sizes[-1])
    xb, yb = gk.tensor(x), gk.tensor(y)

    def step() -> None:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def wl_mlp(sz: dict[str, int], batch: int) -> float:
    step = _train_step_fn((784, 512, 512, 10), "relu", batch)
    us = _per_call_us(step, sz[f"mlp{batch}_n"], sz["mlp_warm"])
    return batch / (us * 1e-6)


def wl_tiny(sz: dict[str, int]) -> float:
    return _per_call_us(_train_step_fn((2, 10, 2), "tanh", 16), sz["tiny_n"], sz["tiny_warm"])


def wl_infer1(sz: dict[str, int]) -> float:
    import gradkit as gk

    model = _mlp((784, 512, 512, 10))
    x1 = gk.tensor(_data(1, 784, 10)[0])
    with gk.no_grad():
        return _per_call_us(lambda: model(x1), sz["infer_n"], sz["infer_warm"])


def wl_predict(sz: dict[str, int]) -> float:
    model = _mlp((784, 512, 512, 10))
    x, _ = _data(8192, 784, 10)
    model.predict(x[:1024], batch_size=1024)  # warm-up
    t0 = time.perf_counter()
    for _ in range(sz["predict_n"]):
        model.predict(x, batch_size=1024)
    return sz["predict_n"] * len(x) / (time.perf_counter() - t0)


def wl_fit(sz: dict[str, int]) -> float:
    model = _mlp((784, 512, 512, 10))
    model.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])
    x, y = _data(sz["fit_rows"], 784, 10)
    model.fit(x[:1024], y[:1024], epochs=1, batch_size=128, verbose=0)  # warm-up
    t0 = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=128, verbose=0)
    return len(x) / (time.perf_counter() - t0)


@dataclass(frozen=True)
class Workload:
    name: str
    label: str
    unit: str
    better: str  # "lower" (a time) or "higher" (a throughput)
    run: Callable[[dict[str, int]], float] | None  # None: measured by the parent (import)


WORKLOADS: tuple[Workload, ...] = (
    Workload("add", "a + b, 4 float32 (forward only)", "us/op", "lower",
             lambda sz: wl_add(sz, False)),
    Workload("add_grad", "a + b, 4 float32, requires_grad (forward only)", "us/op", "lower",
             lambda sz: wl_add(sz, True)),
    Workload("chain", "100-op chain forward + backward", "us/op", "lower", wl_chain),
    Workload("mlp128", "MLP 784-512-512-10 train step, batch 128", "samples/s", "higher",
             lambda sz: wl_mlp(sz, 128)),
    Workload("mlp32", "MLP 784-512-512-10 train step, batch 32", "samples/s", "higher",
             lambda sz: wl_mlp(sz, 32)),
    Workload("tiny", "2-10-2 Tanh train step, batch 16", "us/step", "lower", wl_tiny),
    Workload("infer1", "MLP inference, batch 1, no_grad", "us/call", "lower", wl_infer1),
    Workload("predict", "MLP predict, 8192 rows at batch 1024", "samples/s", "higher",
             wl_predict),
    Workload("fit", "fit, 1 epoch of 8192 rows at batch 128", "samples/s", "higher", wl_fit),
    Workload("import", "import gradkit (minus bare interpreter)", "s", "lower", None),
)
BY_NAME = {w.name: w for w in WORKLOADS}


def _check_root(expect_root: str) -> Any:
    import gradkit

    pkg = os.path.realpath(os.path.join(expect_root, "gradkit")) + os.sep
    got = os.path.realpath(gradkit.__file__)
    if not got.startswith(pkg):
        raise SystemExit(f"gradkit was imported from {got}, not from {pkg}")
    return gradkit


def child_main(workload: str, size: str, expect_root: str) -> None:
    """Run one workload in this (fresh) process and print its number as JSON."""
    gradkit = _check_root(expect_root)
    if workload == "probe":
        import numpy as np

        print(json.dumps({"gradkit_file": gradkit.__file__,
                          "gradkit_version": getattr(gradkit, "__version__", None),
                          "numpy": np.__version__, "numpy_file": np.__file__}))
        return
    run = BY_NAME[workload].run
    assert run is not None
    print(json.dumps(run(SIZES[size])))


# ---- pure helpers: statistics and the table ----------------------------------------------

def median(values: Sequence[float]) -> float | None:
    """Median of the values, None when there are none."""
    return float(statistics.median(values)) if values else None


def per_repeat_ratios(old: Sequence[float | None], new: Sequence[float | None]) -> list[float]:
    """new/old for every repeat where both trees gave a positive number."""
    return [n / o for o, n in zip(old, new) if o is not None and n is not None and o > 0]


def sign_test_p(ratios: Sequence[float]) -> float:
    """Two-sided exact sign test of "new/old is as often above 1 as below" (ties dropped).

    Small when the repeats agree on a direction: all of 6 gives 0.031, all of 5 only 0.0625,
    so fewer than 6 repeats can never pass p < 0.05.
    """
    above = sum(r > 1 for r in ratios)
    n = above + sum(r < 1 for r in ratios)
    if n == 0:
        return 1.0
    k = min(above, n - above)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n)


def summarize(old: Sequence[float | None], new: Sequence[float | None],
              better: str) -> dict[str, Any]:
    """Medians of the absolute values, and median and range of the per-repeat ratio new/old.

    `speedup` is how many times faster new is than old (old/new for a time, new/old for a
    throughput); `clear` says whether the direction is beyond the noise (sign test over the
    repeats, p < 0.05).
    """
    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher', not {better!r}")
    ratios = per_repeat_ratios(old, new)
    ratio = median(ratios)
    summary: dict[str, Any] = {
        "old_median": median([v for v in old if v is not None]),
        "new_median": median([v for v in new if v is not None]),
        "ratio_median": ratio,
        "ratio_min": min(ratios) if ratios else None,
        "ratio_max": max(ratios) if ratios else None,
        "ratios": ratios,
        "n_pairs": len(ratios),
        "sign_test_p": sign_test_p(ratios),
        "failed_old": sum(v is None for v in old),
        "failed_new": sum(v is None for v in new),
    }
    if ratio is None or ratio <= 0:
        summary["speedup"], summary["clear"] = None, False
    else:
        summary["speedup"] = 1 / ratio if better == "lower" else ratio
        summary["clear"] = summary["sign_test_p"] < 0.05
    return summary


def fmt_value(x: float | None) -> str:
    """A number to 3 significant digits (no exponent below 1e6), '-' for none."""
    if x is None:
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 1e6:
        return f"{x:.3g}"
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    return f"{x:.{digits}f}"


def change_text(summary: dict[str, Any]) -> str:
    """'1.25x faster', '1.10x slower' or '~same', with '(noisy)' unless `clear`."""
    s = summary.get("speedup")
    if s is None:
        return "failed" if summary.get("failed_old") or summary.get("failed_new") else "-"
    if abs(s - 1) < 0.005:
        text = "~same"
    elif s > 1:
        text = f"{s:.2f}x faster"
    else:
        text = f"{1 / s:.2f}x slower"
    return text if summary.get("clear") or text == "~same" else f"{text} (noisy)"


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """Markdown table; each row has label, unit, better and a `summarize` result."""
    header = ("| workload | old | new | unit | ratio new/old | better if ratio | "
              "ratio range | new vs old |")
    lines = [header, "|---|---:|---:|---|---:|---|---|---|"]
    for r in rows:
        s = r["summary"]
        better = "< 1 (time)" if r["better"] == "lower" else "> 1 (throughput)"
        rng = (f"{s['ratio_min']:.3f}-{s['ratio_max']:.3f}" if s["ratio_min"] is not None
               else "-")
        ratio = f"{s['ratio_median']:.3f}" if s["ratio_median"] is not None else "-"
        lines.append(f"| {r['label']} | {fmt_value(s['old_median'])} | "
                     f"{fmt_value(s['new_median'])} | {r['unit']} | {ratio} | {better} | "
                     f"{rng} | {change_text(s)} |")
    return "\n".join(lines)


def busy_warning(m: dict[str, Any]) -> str | None:
    """A warning when the 1-minute load average reached half the cores during the run."""
    loads = [v[0] for v in (m.get("load_before"), m.get("load_after")) if v]
    loads += [v for v in m.get("load_during") or [] if v is not None]
    cores = m.get("usable_cores") or m.get("cores") or 1
    if not loads or max(loads) < cores / 2:
        return None
    hint = ("" if m["env"].get("OPENBLAS_NUM_THREADS") else
            "; OPENBLAS_NUM_THREADS=1 makes the BLAS-bound rows steadier")
    return (f"The machine was busy (1-minute load up to {max(loads):.2f} on {cores} cores): "
            f"treat the ratios with caution{hint}.")


def format_machine(m: dict[str, Any]) -> str:
    threads = ", ".join(f"{k}={m['env'].get(k) or 'unset'}" for k in THREAD_VARS)
    blas = "; ".join(
        f"{b.get('internal_api') or b.get('name') or '?'} {b.get('version') or ''}"
        + (f" ({b['architecture']})" if b.get("architecture") else "")
        + (f", {b['num_threads']} threads" if b.get("num_threads") else "")
        for b in m.get("blas") or []) or "unknown"
    during = [v for v in m.get("load_during") or [] if v is not None]
    return "\n".join([
        f"- CPU: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable)",
        f"- Python {m['python']} ({m['executable']}), NumPy {m['numpy']}",
        f"- BLAS: {blas}",
        f"- threads: {threads}",
        f"- load average before/after: {m.get('load_before')} / {m.get('load_after')}"
        + (f" (1-minute, highest during the run: {max(during):.2f})" if during else ""),
        f"- {m['platform']}",
    ])


# ---- parent: machine, roots, running the children ----------------------------------------

def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def blas_info() -> list[dict[str, Any]]:
    """BLAS libraries NumPy loads: threadpoolctl's view if installed, else NumPy's config."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        info = [{k: d.get(k) for k in ("internal_api", "version", "num_threads",
                                       "threading_layer", "architecture", "filepath")}
                for d in threadpool_info()]
        if info:
            return info
    except ImportError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return [{"name": blas.get("name"), "version": blas.get("version")}]
    except Exception:  # noqa: BLE001 - older NumPy has no dict mode
        return []


def machine_info() -> dict[str, Any]:
    import numpy as np

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                         else os.cpu_count()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "executable": sys.executable,
        "numpy": np.__version__,
        "blas": blas_info(),
        "env": {k: os.environ.get(k) for k in (*THREAD_VARS, "PYTHONPATH")},
        "load_before": load_average(),
    }


def git_info(root: Path) -> dict[str, Any]:
    """Commit of the checkout holding `root` and whether its gradkit/ differs ("n/a" if none).

    Read-only git calls only (no index refresh).
    """
    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", "--no-optional-locks", "-C", str(root), *args],
                                 capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {"commit": "n/a", "dirty": "n/a"}
    status = git("status", "--porcelain", "--untracked-files=no", "--", "gradkit")
    return {"commit": commit, "dirty": bool(status) if status is not None else "n/a"}


def tree_hash(root: Path) -> str:
    """sha256 over the relative paths and contents of the .py files under root/gradkit."""
    h = hashlib.sha256()
    pkg = root / "gradkit"
    for p in sorted(pkg.rglob("*.py")):
        if "__pycache__" in p.parts:
            continue
        h.update(str(p.relative_to(pkg)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def child_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)  # thread variables pass through unchanged
    env["PYTHONPATH"] = str(root)
    env.pop("PYTHONSTARTUP", None)
    return env


def run_child(root: Path, workload: str, size: str, cwd: str) -> tuple[Any, str | None]:
    """(the child's JSON output, None) or (None, the error)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", workload,
           "--size", size, "--expect-root", str(root)]
    try:
        res = subprocess.run(cmd, env=child_env(root), cwd=cwd, capture_output=True,
                             text=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {CHILD_TIMEOUT_S} s"
    if res.returncode != 0:
        return None, (res.stderr.strip() or res.stdout.strip())[-2000:]
    try:
        return json.loads(res.stdout.strip().splitlines()[-1]), None
    except (IndexError, ValueError):
        return None, f"no JSON on stdout: {res.stdout[-500:]!r}"


def _wall(cmd: list[str], env: dict[str, str], cwd: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def import_time(root: Path, pairs: int, cwd: str) -> tuple[float | None, str | None]:
    """Median over back-to-back pairs of wall(import gradkit) - wall(pass), in seconds."""
    env = child_env(root)
    diffs = []
    try:
        for _ in range(pairs):
            bare = _wall([sys.executable, "-c", "pass"], env, cwd)
            diffs.append(_wall([sys.executable, "-c", "import gradkit"], env, cwd) - bare)
    except subprocess.CalledProcessError as e:
        return None, (e.stderr or b"").decode(errors="replace")[-2000:]
    return median(diffs), None


def measure(roots: dict[str, Path], workloads: Sequence[Workload], repeats: int, size: str,
            cwd: str, log: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """Per workload, per contender: the raw number of every repeat (None where it failed)."""
    raw: dict[str, dict[str, Any]] = {
        w.name: {c: [] for c in roots} | {"errors": [], "load_1min": []} for w in workloads}
    for rep in range(repeats):
        for w in workloads:
            load = load_average()
            raw[w.name]["load_1min"].append(load[0] if load else None)
            got = {}
            order = list(roots.items())
            if rep % 2:  # alternate who runs first, so running second never favours one tree
                order.reverse()
            for c, root in order:
                if w.run is None:
                    value, err = import_time(root, SIZES[size]["import_pairs"], cwd)
                else:
                    value, err = run_child(root, w.name, size, cwd)
                if err is not None:
                    raw[w.name]["errors"].append({"repeat": rep, "tree": c, "error": err})
                    log(f"  {w.name} [{c}] failed: {err.splitlines()[-1] if err else '?'}")
                raw[w.name][c].append(value)
                got[c] = value
            log(f"repeat {rep + 1}/{repeats} {w.name:9s} "
                + "  ".join(f"{c} {fmt_value(v)}" for c, v in got.items()) + f" {w.unit}")
    return raw


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark two gradkit source trees side by side (ratios new/old).")
    p.add_argument("old_root", type=Path, help="directory containing the old gradkit/")
    p.add_argument("new_root", type=Path, help="directory containing the new gradkit/")
    p.add_argument("--repeats", type=int, default=None,
                   help="repeats per workload (default 7, or 3 with --quick)")
    p.add_argument("--quick", action="store_true", help="shorter loops (about 1-2 minutes)")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON,
                   help=f"where to write the results (default {DEFAULT_JSON})")
    p.add_argument("--only", default=None,
                   help="comma-separated subset of workloads: " + ",".join(BY_NAME))
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    for name in ("old_root", "new_root"):
        root = getattr(args, name).resolve()
        if not (root / "gradkit" / "__init__.py").is_file():
            p.error(f"{root} has no gradkit/__init__.py")
        setattr(args, name, root)
    if args.only:
        unknown = set(args.only.split(",")) - set(BY_NAME)
        if unknown:
            p.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    size = "quick" if args.quick else "full"
    workloads = ([BY_NAME[n] for n in args.only.split(",")] if args.only else list(WORKLOADS))
    roots = {"old": args.old_root, "new": args.new_root}

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t_start = time.perf_counter()
    machine = machine_info()
    trees: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="gk-compare-") as cwd:
        for c, root in roots.items():
            # the probe also warms the tree up: its .pyc files are written before any timing
            probe, err = run_child(root, "probe", size, cwd)
            if err is not None:
                raise SystemExit(f"cannot import gradkit from {root}:\n{err}")
            trees[c] = {"root": str(root), **git_info(root), "tree_sha256": tree_hash(root),
                        **probe}
            import_time(root, 1, cwd)  # one more untimed warm-up of the import
        if trees["old"]["tree_sha256"] == trees["new"]["tree_sha256"]:
            log("note: the two gradkit/ trees have identical .py files")
        log(f"{args.repeats} repeats, {size} sizes, {len(workloads)} workloads")
        raw = measure(roots, workloads, args.repeats, size, cwd, log)
    machine["load_after"] = load_average()
    machine["load_during"] = [v for w in workloads for v in raw[w.name]["load_1min"]]

    rows = []
    for w in workloads:
        rows.append({"workload": w.name, "label": w.label, "unit": w.unit, "better": w.better,
                     "summary": summarize(raw[w.name]["old"], raw[w.name]["new"], w.better)})
    elapsed = time.perf_counter() - t_start
    command = "python benchmarks/compare_trees.py " + " ".join(
        [str(args.old_root), str(args.new_root), "--repeats", str(args.repeats)]
        + (["--quick"] if args.quick else []) + (["--only", args.only] if args.only else []))
    results = {
        "command": command,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "elapsed_s": round(elapsed, 1),
        "repeats": args.repeats,
        "size": size,
        "sizes": SIZES[size],
        "order": "per workload: old then new, new then old on odd repeats; fresh processes",
        "machine": machine,
        "trees": trees,
        "results": {r["workload"]: {**r, "raw": raw[r["workload"]]} for r in rows},
    }

    print(f"# gradkit: old vs new ({args.repeats} repeats, {size} sizes)\n")
    print(f"- old: {trees['old']['root']} (commit {trees['old']['commit']}, "
          f"dirty {trees['old']['dirty']})")
    print(f"- new: {trees['new']['root']} (commit {trees['new']['commit']}, "
          f"dirty {trees['new']['dirty']})\n")
    print(format_table(rows))
    print("\nratio = median over repeats of new/old; for times (us, s) below 1 means new is "
          "faster, for samples/s above 1 means new is faster. 'noisy': a sign test over the "
          "repeats gives p >= 0.05 (it takes at least 6 repeats, all in one direction, to "
          "pass).\n")
    print("## Machine\n")
    print(format_machine(machine))
    busy = busy_warning(machine)
    if busy:
        print(f"\n**{busy}**")
    print(f"\n{elapsed:.0f} s in all; raw numbers in {args.json}")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_name(args.json.name + ".tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    tmp.replace(args.json)
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        cp = argparse.ArgumentParser()
        cp.add_argument("--child", required=True)
        cp.add_argument("--size", choices=tuple(SIZES), required=True)
        cp.add_argument("--expect-root", required=True)
        ca = cp.parse_args()
        child_main(ca.child, ca.size, ca.expect_root)
    else:
        main()
