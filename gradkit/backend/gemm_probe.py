"""The GEMM probe: each installed library against NumPy's BLAS on an MLP step's products.

    python -m gradkit.backend.gemm_child LIBRARY THREADS [SHAPES_JSON [DTYPES]]  # one child

Each library is measured in a fresh process of its own (loading a BLAS cannot be undone, and
two OpenBLAS builds must not share one), interleaved there with NumPy on the same arrays
(alternating blocks of calls):
three products of one training step of the 784-512-512-10 MLP at batch 128 (forward,
weight and input gradient, each operand in the layout the ops give it), float32 (float64
too where float32 gains), best of five rounds, at the usable cores' threads and at one.
A library is chosen when its float32 time beats NumPy's by 10% and its results agree with
a float64 reference to float32 rounding; float64 goes to it when that gains too. The
record is cached per machine (CPU, cores, library versions) in gradkit's cache directory
(`$GRADKIT_DATA`, else `$XDG_CACHE_HOME/gradkit`, else `~/.cache/gradkit`), under `gemm/`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import cpuinfo, gemm_libs

PROBE_VERSION = 2  # 2: blocks of calls (compare)
MARGIN = 1.10  # a library must beat NumPy's step time by this factor to be chosen
Shape = tuple  # (label, m, k, n, a_transposed, b_transposed)


def step_shapes(batch: int = 128, sizes: tuple = (784, 512, 512, 10)) -> list[Shape]:
    """The products of one training step of an MLP `sizes` at `batch`: forward x @ W.T,
    weight gradient g.T @ x, input gradient g @ W (not for the first layer)."""
    out = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        out.append((f"fwd {batch}x{n_in}x{n_out}", batch, n_in, n_out, False, True))
        out.append((f"gW {n_out}x{batch}x{n_in}", n_out, batch, n_in, True, False))
        if i:
            out.append((f"gx {batch}x{n_out}x{n_in}", batch, n_out, n_in, False, False))
    return out


def probe_shapes() -> list[Shape]:
    """What the probe times: the three orientations of the batch-128 MLP step (x @ W.T of
    the first layer, g.T @ x and g @ W of the second): 85% of the step's FLOPs."""
    step = {s[0]: s for s in step_shapes()}
    return [step["fwd 128x784x512"], step["gW 512x128x512"], step["gx 128x512x512"]]


def _operands(shape: Shape, dtype: Any, rng: np.random.Generator) -> tuple:
    _, m, k, n, ta, tb = shape
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    return (a.T if ta else a), (b.T if tb else b), np.empty((m, n), dtype)


def _once(fn, a, b, out) -> float:
    t0 = time.perf_counter()
    fn(a, b, out)
    return time.perf_counter() - t0


def compare(lib_fn, shapes: list[Shape], dtype: Any, rounds: int = 5, block: int = 3) -> dict:
    """`lib_fn(a, b, out)` against NumPy on `shapes`, in alternating blocks of `block` calls
    (the best call of `rounds` blocks each: on a shared machine the quiet moments are the true
    speed): GFLOP/s of the set, speed-up (NumPy's time / the library's), per-shape GFLOP/s,
    and the worst error of each against a float64 product relative to |a| @ |b|. Blocks, not
    single calls: a library's first call after the other's meets that one's threads still
    spinning (Intel OpenMP waits 200 ms by default), a cost a step that uses one library for
    all its products never pays; alternating single calls measured MKL at 0.86x NumPy on an
    AVX-512 Xeon where it runs 1.3x faster."""
    rng = np.random.default_rng(0)
    cases = [_operands(s, dtype, rng) for s in shapes]
    np_fn = lambda a, b, out: np.matmul(a, b, out=out)  # noqa: E731
    pair = [("lib", lib_fn), ("numpy", np_fn)]
    best: dict[str, list[float]] = {"lib": [1e9] * len(cases), "numpy": [1e9] * len(cases)}
    for a, b, out in cases:  # warm-up: first-call costs, thread start
        lib_fn(a, b, out)
        np_fn(a, b, out)
    for r in range(rounds):
        for i, (a, b, out) in enumerate(cases):
            for who, fn in pair if (r + i) % 2 == 0 else pair[::-1]:
                for _ in range(block):
                    best[who][i] = min(best[who][i], _once(fn, a, b, out))
    flops = [2 * s[1] * s[2] * s[3] for s in shapes]
    errs = {}
    for who, fn in (("lib", lib_fn), ("numpy", np_fn)):
        a, b, out = cases[0]
        fn(a, b, out)
        ref = a.astype(np.float64) @ b.astype(np.float64)
        scale = (np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)).max()
        errs[who] = float(np.abs(out - ref).max() / scale)
    return {"gflops": sum(flops) / sum(best["lib"]) / 1e9,
            "numpy_gflops": sum(flops) / sum(best["numpy"]) / 1e9,
            "speedup": sum(best["numpy"]) / sum(best["lib"]),
            "shapes": {s[0]: round(f / t / 1e9, 2) for s, f, t in zip(shapes, flops, best["lib"])},
            "numpy_shapes": {s[0]: round(f / t / 1e9, 2)
                             for s, f, t in zip(shapes, flops, best["numpy"])},
            "error": errs["lib"], "numpy_error": errs["numpy"]}


def agrees(r: dict, k: int, dtype: str) -> bool:
    """Whether the library's error is float rounding: at most 4x NumPy's, or k ulps."""
    eps = float(np.finfo(dtype).eps)
    return r["error"] <= max(4 * r["numpy_error"], k * eps)


# ---- one child: one library ---------------------------------------------------------------


# The child imports gradkit.backend without gradkit/__init__ (the ops, ...): a bare package.
_CHILD = ("import sys, types; pkg = types.ModuleType('gradkit'); pkg.__path__ = [{pkg!r}]; "
          "sys.modules['gradkit'] = pkg; import json; "
          "from gradkit.backend.gemm_child import child; "
          "print(json.dumps(child(sys.argv[1:])))")


def run_child(name: str, threads: int, shapes: list[Shape] | None = None,
              dtypes: str | None = None, timeout: float = 120.0) -> dict:
    """`child` in a fresh interpreter; {"error": ...} when it fails."""
    pkg = str(Path(__file__).resolve().parents[1])
    args = [sys.executable, "-c", _CHILD.format(pkg=pkg), name, str(threads)]
    if shapes is not None or dtypes is not None:
        args.append(json.dumps(shapes if shapes is not None else probe_shapes()))
    if dtypes is not None:
        args.append(dtypes)
    env = dict(os.environ, GRADKIT_GEMM="numpy")
    try:
        res = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if res.returncode != 0:
        tail = (res.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": tail[-300:]}
    return json.loads(res.stdout.strip().splitlines()[-1])


# ---- the parent: every library, the choice, the cache -------------------------------------


BUSY_LOAD = 0.75  # per core: above it a probe's timings are not cached


def probe(names: list[str], threads: int) -> dict:
    """Run each library's child, choose, and return the record (not cached here)."""
    t0 = time.perf_counter()
    libs = {name: run_child(name, threads) for name in names}
    choice: dict[str, Any] = {"name": "numpy", "dtypes": []}
    best = MARGIN
    for name, r in libs.items():
        f32 = r.get("float32")
        if f32 and f32["agrees"] and f32["speedup"] >= best:
            best = f32["speedup"]
            f64 = r.get("float64", {})
            gain64 = f64.get("agrees") and f64.get("speedup", 0) >= MARGIN
            choice = {"name": name, "threads": r.get("threads", threads),
                      "dtypes": ["float32"] + (["float64"] if gain64 else [])}
    return {"version": PROBE_VERSION, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "threads": threads, "shapes": "3 products of the MLP 784-512-512-10 step at batch 128",
            "machine": machine(), "libraries": libs, "choice": choice,
            "seconds": round(time.perf_counter() - t0, 2)}


def machine() -> dict:
    """What the cache key is made of: CPU, its flags, cores, NumPy, this interpreter."""
    model, flags = cpuinfo.field("model name"), cpuinfo.field("flags")
    if not model:
        import platform

        model = platform.processor() or platform.machine() or "?"
    return {"cpu": model, "flags": hashlib.sha1(flags.encode()).hexdigest()[:12],
            "cores": os.cpu_count(), "numpy": np.__version__, "prefix": sys.prefix}


def cache_dir() -> Path:
    """gradkit's cache directory (the rule of `gradkit.datasets.sources.cache_dir`)."""
    if os.environ.get("GRADKIT_DATA"):
        return Path(os.environ["GRADKIT_DATA"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "gradkit"


def cache_path(names: list[str], threads: int) -> Path:
    versions = {n: gemm_libs._version({"openblas32": "scipy-openblas32",
                                       "openblas32-avx512": "scipy-openblas32"}.get(n, n))
                for n in names}
    key = json.dumps([PROBE_VERSION, machine(), versions, threads], sort_keys=True)
    return cache_dir() / "gemm" / f"probe-{hashlib.sha1(key.encode()).hexdigest()[:16]}.json"


def cached_or_probe(names: list[str], threads: int) -> tuple[dict, str]:
    """The cached record for these libraries on this machine, else a new probe (saved when
    the cache is writable); with where it came from."""
    path = cache_path(names, threads)
    try:
        return json.loads(path.read_text()), f"cached probe ({path})"
    except (OSError, ValueError):
        pass
    load = _load()
    record = probe(names, threads)
    load = max(load, _load())
    record["load"] = round(load, 2)
    if load > BUSY_LOAD * (os.cpu_count() or 1):
        return record, (f"probe ({record['seconds']} s, not saved: the machine was busy, load "
                        f"{load:.1f} on {os.cpu_count()} cores, so its timings may be noise; "
                        "the next process probes again)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, indent=1))
        tmp.replace(path)
        where = f"probe ({record['seconds']} s, saved to {path})"
    except OSError as exc:
        where = f"probe ({record['seconds']} s, not saved: {exc})"
    return record, where


def _load() -> float:
    """The 1-minute load average (0 where the OS does not say)."""
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return 0.0


def forget_cache(names: list[str], threads: int) -> None:
    with contextlib.suppress(OSError):
        cache_path(names, threads).unlink()

