"""Timing, machine description and the subprocess probes (peak memory, import time).

On a shared machine an absolute time means little; what the benchmark reports are medians
of several repeats in which every contender runs once, in a rotating order, after a short
settle (a pause, so that the other library's idle BLAS/OpenMP threads stop spinning, and a
few warm-up steps). The pause is spent busy (`settle_pause`), not asleep: on the 2-core VMs
we measure on, a core that slept 0.1 s ran the next 400-step block of a one-thread contender
up to 1.9x slower (gradkit's compiled 2-10-2 step: 39-57 us/step after a sleep, 31-33 after
a busy pause; the NumPy loop 50-61 against 33-37), while a library that dispatches to its own
thread (jax) lost little, so a sleep skews the ratios towards it. A training loop runs
without pauses: the busy pause measures that steady state.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from gradkit.backend import cpuinfo

SETTLE_S = 0.2


def interleaved(runs: dict[str, Callable[[], float]], repeats: int,
                settle: dict[str, Callable[[], None]] | None = None,
                pause: float = SETTLE_S) -> dict[str, list[float]]:
    """Call each `runs[name]()` (which returns its own measured value) once per repeat, the
    order rotated every repeat; before each call, pause `pause` seconds (busy, see
    `settle_pause`) and run `settle[name]()` (untimed)."""
    names = list(runs)
    out: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            if pause:
                settle_pause(pause)
            if settle and name in settle:
                settle[name]()
            out[name].append(runs[name]())
    return out


def settle_pause(seconds: float) -> None:
    """Wait `seconds` on this thread without sleeping (the core stays busy and awake while
    other threads wind down; see the module's docstring for why not `time.sleep`)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def timed(fn: Callable[[], object]) -> float:
    """Seconds that `fn()` takes."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median(values) -> float:
    return float(statistics.median(values))


def cpu_model() -> str:
    return cpuinfo.field("model name") or platform.processor() or platform.machine()


_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl",
          "avx512_vnni", "avx512_bf16", "amx_tile")


def cpu_flags() -> list[str]:
    """The CPU's vector-extension flags that decide which GEMM kernels run (Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return [f for f in _FLAGS if f in have]
    except OSError:
        pass
    return []


def blas_info() -> list[dict]:
    """The BLAS libraries loaded (threadpoolctl when installed, else NumPy's build config)."""
    try:
        from threadpoolctl import threadpool_info

        return [{k: d.get(k) for k in ("internal_api", "version", "num_threads",
                                       "threading_layer", "architecture", "prefix")}
                for d in threadpool_info()]
    except ImportError:
        import numpy as np

        try:
            blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            return [{"internal_api": blas.get("name"), "version": blas.get("version")}]
        except Exception:  # noqa: BLE001 - older NumPy: no dict mode
            return []


def machine(torch_threads: int | None) -> dict:
    import numpy as np

    import gradkit

    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "gradkit": gradkit.__version__,
        "torch_threads": torch_threads,
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    info["cpu_flags"] = cpu_flags()
    from gradkit.backend import gemm

    g = gemm.resolve() if not gemm._S.resolved else gemm.info()
    info["gemm"] = {k: g.get(k) for k in ("library", "detail", "dtypes", "threads", "source",
                                          "coordination", "installed")}
    if g.get("probe"):
        info["gemm"]["probe"] = {n: {dt: round(r[dt]["speedup"], 2) for dt in
                                     ("float32", "float64") if dt in r}
                                 for n, r in g["probe"]["libraries"].items() if "error" not in r}
    from gradkit.backend import fusion

    info["fusion"] = fusion.info()  # gk.compile's fused loops (Numba) or none
    info["blas"] = blas_info()  # after importing torch: its OpenMP runtime shows up too
    info["load_before"] = load_average()
    return info


def load_average() -> list[float] | None:
    """The 1/5/15-minute load averages (how busy the shared machine was), if known."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def minor_faults() -> int:
    """Minor page faults of this process so far (0 where unknown): fresh memory the kernel
    had to map, a cost that shows up when the allocator hands pages back between steps."""
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    except ImportError:
        return 0


def blas_summary(blas: list[dict]) -> str:
    parts = []
    for b in blas:
        name = b.get("internal_api") or "?"
        extra = ", ".join(str(b[k]) for k in ("version", "architecture") if b.get(k))
        threads = f", {b['num_threads']} threads" if b.get("num_threads") else ""
        parts.append(f"{name} ({extra}{threads})" if extra else f"{name}{threads}")
    return "; ".join(parts) or "unknown"


# ---- subprocess probes --------------------------------------------------------------------

_IMPORT_MODULES = {"gradkit": "gradkit", "torch": "torch", "numpy": "numpy"}


def import_times(contenders: list[str], repeats: int) -> dict[str, list[float]]:
    """Seconds of `import <module>` in a fresh interpreter (the statement only, not the
    interpreter's start), each contender once per repeat, interleaved."""
    out: dict[str, list[float]] = {c: [] for c in contenders}
    code = ("import time; t0 = time.perf_counter(); import {mod}; "
            "print(time.perf_counter() - t0)")
    for r in range(repeats):
        k = r % len(contenders)
        for c in contenders[k:] + contenders[:k]:
            res = subprocess.run([sys.executable, "-c", code.format(mod=_IMPORT_MODULES[c])],
                                 capture_output=True, text=True, check=True)
            out[c].append(float(res.stdout.strip().splitlines()[-1]))
    return out


def peak_memory(contenders: list[str], data_path: str, batch_size: int,
                threads: int) -> dict[str, dict]:
    """Peak RSS (MiB) of one training epoch of each contender, each in a fresh process.

    The probes run at the same time: they measure memory, not time.
    """
    probe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.py")
    procs = {c: subprocess.Popen([sys.executable, probe, c, data_path, str(batch_size),
                                  str(threads)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
             for c in contenders}
    out = {}
    for c, proc in procs.items():
        stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"memory probe for {c} failed:\n{stderr[-2000:]}")
        out[c] = json.loads(stdout.strip().splitlines()[-1])
    return out
