"""The GEMM probe's child: one library measured against NumPy's BLAS in this process.

    python -m gradkit.backend.gemm_child LIBRARY THREADS [SHAPES_JSON [DTYPES]]

`gemm_probe.run_child` starts it in a fresh interpreter (loading a BLAS cannot be undone).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np

from . import gemm
from .gemm_probe import MARGIN, agrees, compare, probe_shapes


def child(argv: list[str]) -> dict:
    """Measure library argv[0] (through the seam, as the ops call it) in this process with
    argv[1] threads and with one, keeping the faster; NumPy's BLAS runs argv[1] threads (its
    default). argv[2]: the shapes as JSON; argv[3]: the dtypes, comma-separated."""
    name, threads = argv[0], int(argv[1])
    shapes = [tuple(s) for s in json.loads(argv[2])] if len(argv) > 2 else probe_shapes()
    dtypes = argv[3].split(",") if len(argv) > 3 else ["float32", "float64"]
    k = max(s[2] for s in shapes)
    np_threads = _numpy_threads(threads)
    out: dict[str, Any] = {}
    if name == "numpy":
        lib_fn, lib = (lambda a, b, o: np.matmul(a, b, out=o)), None  # noqa: E731
        out["detail"] = "NumPy's BLAS"
    else:
        gemm._S.requested, gemm._S.from_env, gemm._S.threads = name, False, threads
        gemm.resolve()
        lib_fn, lib = gemm.matmul, gemm._S.lib
        gemm._restore_threads()  # NumPy keeps its threads: the baseline is its default
        out.update(lib.info() if lib is not None else {})
    by_threads: dict[int, dict] = {}
    for t in sorted({threads, 1}, reverse=True):
        if lib is not None:
            lib.set_threads(t)
        elif np_threads is not None:
            np_threads(t)
        by_threads[t] = compare(lib_fn, shapes, np.dtype(dtypes[0]))
        if (lib is None and np_threads is None) or (lib is not None and not lib.sets_threads):
            break  # this library's threads cannot be set (NumPy's: without threadpoolctl)
    # NumPy against itself always has speed-up 1: its thread count is chosen by its rate
    key = "speedup" if lib is not None else "gflops"
    best = max(by_threads, key=lambda t: by_threads[t][key])
    out["threads"] = best
    out["speedup_by_threads"] = {str(t): round(r["speedup"], 3) for t, r in by_threads.items()}
    if lib is not None:
        lib.set_threads(best)
    elif np_threads is not None:
        np_threads(best)
    out[dtypes[0]] = by_threads[best]
    for dt in dtypes[1:]:  # float64 matters only where the library wins float32
        if lib is None or (by_threads[best]["speedup"] >= MARGIN
                           and np.dtype(dt) in lib.dtypes):
            out[dt] = compare(lib_fn, shapes, np.dtype(dt))
    for dt in dtypes:
        if dt in out:
            out[dt]["agrees"] = agrees(out[dt], k, dt)
    return out


def _numpy_threads(threads: int):
    """Set NumPy's BLAS to `threads` now; returns a setter for later (None without
    threadpoolctl)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    ctl = ThreadpoolController().select(user_api="blas")
    ctl.limit(limits=threads)
    return lambda t: ctl.limit(limits=t)


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1:])))
