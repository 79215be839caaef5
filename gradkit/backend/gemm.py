"""The CPU GEMM seam: the float32/float64 matrix products of the ops go through `matmul`.

    gemm.matmul(a, b, out=None)    # NumPy's `matmul` semantics; `out=` a preallocated result

NumPy's own BLAS by default (then `matmul` is `a @ b` / `np.matmul(a, b, out=out)`, the same
numbers as before the seam). Where a faster library is installed (`gemm_libs.py`: the
`scipy-openblas32`, `mkl` or `blis` extras), a short probe on first use measures each against
NumPy on the MNIST MLP's products (`gemm_probe.py`, cached per machine) and the fastest is
used when it beats NumPy by 10%; `GRADKIT_GEMM` (``numpy``, ``auto`` or a library name) or
`gk.config.gemm` override the choice. The chosen library takes 2-D products (and batches of
them) of C- or Fortran-ordered operands (views with a row stride too) of at least
`MIN_FLOPS`; everything else (small products, other layouts, integers, CuPy and traced
arrays) goes to NumPy.

Threads: the chosen library runs `threads` threads (default: the usable cores) and NumPy's
BLAS is limited to one thread meanwhile (with threadpoolctl, when installed), so two thread
pools never spin on the same cores.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from . import gemm_libs, gemm_probe
from .devices import xp_of

MIN_FLOPS = 1 << 20  # smaller products go to NumPy (a library call costs a few µs)
# ... as do products with fewer rows or columns: GEMV-like, where NumPy (on one thread while
# a library is chosen) is as fast. A side of 1 is 1.3-2.5x faster in NumPy; from 8 (the
# MNIST MLP's 10-wide output layer) the library on two threads took 0.65-0.75x NumPy's time
# (AMD EPYC, OpenBLAS SkylakeX kernels, 2026-12-03)
MIN_SIDE = 8
AUTO = "auto"
CHOICES = ("numpy", AUTO) + gemm_libs.NAMES


class _State:
    """What the seam runs: the requested choice, the library (None: NumPy) and why."""

    def __init__(self) -> None:
        self.requested = os.environ.get("GRADKIT_GEMM", AUTO).strip().lower() or AUTO
        self.from_env = "GRADKIT_GEMM" in os.environ
        self.threads: int | None = None  # None: the usable cores
        self.lib: gemm_libs.Library | None = None
        self.dtypes: tuple = ()
        self.source = "not resolved yet (resolved at the first product)"
        self.record: dict | None = None  # the probe's measurements, when there was one
        self.coordination = ""
        self.resolved = False
        self._saved_threads: list = []


_S = _State()


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else (os.cpu_count() or 1)


# ---- the seam -----------------------------------------------------------------------------


def _numpy_matmul(a: Any, b: Any, out: Any = None) -> Any:
    if out is None:
        return a @ b
    return xp_of(a).matmul(a, b, out=out)


def _first_matmul(a: Any, b: Any, out: Any = None) -> Any:
    if not _S.resolved:
        resolve()
    return (_library_matmul if _S.lib is not None else _numpy_matmul)(a, b, out)


matmul = _first_matmul  # rebound by `resolve` to `_numpy_matmul` or `_library_matmul`


def _layout(x: np.ndarray, packed: bool) -> tuple[bool, int] | None:
    """(transposed, leading dimension) of a 2-D operand a BLAS reads without a copy."""
    size = x.itemsize
    s0, s1 = x.strides
    r, c = x.shape
    if s1 == size and s0 % size == 0 and s0 >= c * size:
        ld = s0 // size
        return None if packed and ld != c else (False, ld)
    if s0 == size and s1 % size == 0 and s1 >= r * size:
        ld = s1 // size
        return None if packed and ld != r else (True, ld)
    return None


def _fits(a: np.ndarray, b: np.ndarray) -> bool:
    m, k = a.shape[-2:]
    n = b.shape[-1]
    return (m >= MIN_SIDE and n >= MIN_SIDE and k >= 2 and b.shape[-2] == k
            and 2 * m * n * k >= MIN_FLOPS)


def numpy_only(f: Any, a: Any, b: Any) -> bool:
    """Whether seam function `f` hands the product of NumPy arrays `a`, `b` to NumPy's
    matmul whatever library is chosen later (the NumPy branch, a small product, an integer
    dtype): a compiled plan then calls `np.matmul` itself, one Python frame less."""
    if f not in (_numpy_matmul, _library_matmul, _first_matmul) or \
            type(a) is not np.ndarray or type(b) is not np.ndarray:
        return False
    return f is _numpy_matmul or a.dtype.kind != "f" or not (
        2 <= a.ndim <= 3 and 2 <= b.ndim <= 3 and _fits(a, b))


def _out(out: Any, shape: tuple, dtype: Any, a: np.ndarray, b: np.ndarray) -> Any:
    """A result array for the library (None: this `out` needs NumPy)."""
    if out is None:
        return np.empty(shape, dtype)
    if (type(out) is not np.ndarray or out.dtype != dtype or out.shape != shape
            or not out.flags.c_contiguous or np.may_share_memory(out, a)
            or np.may_share_memory(out, b)):
        return None
    return out


def _library_matmul(a: Any, b: Any, out: Any = None) -> Any:
    lib = _S.lib
    if (lib is not None and type(a) is np.ndarray and type(b) is np.ndarray
            and a.dtype in _S.dtypes and b.dtype == a.dtype and 2 <= a.ndim <= 3
            and 2 <= b.ndim <= 3 and _fits(a, b) and a.flags.aligned and b.flags.aligned):
        la = _layout(a if a.ndim == 2 else a[0], lib.packed)
        lb = _layout(b if b.ndim == 2 else b[0], lib.packed)
        if la is not None and lb is not None:
            if a.ndim == 2 and b.ndim == 2:
                res = _out(out, (a.shape[0], b.shape[1]), a.dtype, a, b)
                if res is not None:
                    lib.gemm(a, b, res, la[0], lb[0], la[1], lb[1])
                    return res
            else:
                res = _batched(lib, a, b, out, la, lb)
                if res is not None:
                    return res
    return _numpy_matmul(a, b, out)


def _batched(lib: gemm_libs.Library, a: np.ndarray, b: np.ndarray, out: Any,
             la: tuple, lb: tuple) -> Any:
    """A batch of products, one library call per matrix (None: NumPy must do it)."""
    batch = a.shape[0] if a.ndim == 3 else b.shape[0]
    if (a.ndim == 3 and a.shape[0] != batch) or (b.ndim == 3 and b.shape[0] != batch):
        return None  # broadcast batches: NumPy's rules
    res = _out(out, (batch, a.shape[-2], b.shape[-1]), a.dtype, a, b)
    if res is None:
        return None
    for i in range(batch):
        lib.gemm(a[i] if a.ndim == 3 else a, b[i] if b.ndim == 3 else b, res[i],
                 la[0], lb[0], la[1], lb[1])
    return res


# ---- choosing the library -----------------------------------------------------------------


def resolve() -> dict:
    """Settle the library from the request (GRADKIT_GEMM, `gk.config.gemm`), the cached
    probe or a new probe; returns `info()`. Runs at the first product, or when called."""
    global matmul
    req = _S.requested
    name, dtypes, threads = "numpy", tuple[Any, ...](), _S.threads or usable_cores()
    if req == AUTO:
        name, dtypes, threads = _auto()
    elif req != "numpy":
        name, dtypes = req, (np.dtype(np.float32), np.dtype(np.float64))
        _S.source = "GRADKIT_GEMM" if _S.from_env else "gk.config.gemm"
    else:
        _S.source = "GRADKIT_GEMM" if _S.from_env else "gk.config.gemm"
    try:
        _activate(name, dtypes, threads)
    except gemm_libs.LibraryError as exc:
        if not _S.from_env or req == AUTO:
            raise
        warnings.warn(f"{exc}; GRADKIT_GEMM={req} ignored, using NumPy's BLAS", stacklevel=3)
        _S.source = f"NumPy (GRADKIT_GEMM={req} failed to load)"
        _activate("numpy", (), threads)
    matmul = _library_matmul if _S.lib is not None else _numpy_matmul
    _S.resolved = True
    return info()


def _auto() -> tuple[str, tuple, int]:
    """The probe's choice (cached per machine): library, dtypes routed to it, threads."""
    cores = _S.threads or usable_cores()
    names = gemm_libs.available()
    if not names:
        _S.source = "only NumPy's BLAS is installed"
        _S.record = None
        return "numpy", (), cores
    record, where = gemm_probe.cached_or_probe(names, cores)
    _S.record = record
    _S.source = where
    choice = record.get("choice", {})
    threads = _S.threads or int(choice.get("threads") or cores)
    return (choice.get("name", "numpy"), tuple(np.dtype(d) for d in choice.get("dtypes", ())),
            threads)


def _activate(name: str, dtypes: tuple, threads: int) -> None:
    _restore_threads()
    if name == "numpy":
        _S.lib, _S.dtypes = None, ()
        return
    lib = gemm_libs.load(name)
    lib.set_threads(threads)
    _S.lib, _S.dtypes = lib, tuple(d for d in dtypes if d in lib.dtypes)
    _S.coordination = _limit_other_blas(lib, threads)


def _limit_other_blas(lib: gemm_libs.Library, threads: int) -> str:
    """Limit every other BLAS in the process (NumPy's) to one thread; say what was done."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return "not coordinated: NumPy's BLAS keeps its threads (pip install threadpoolctl)"
    mine = os.path.realpath(lib.path) if lib.path else None
    limited = []
    for c in ThreadpoolController().lib_controllers:
        if c.user_api == "blas" and os.path.realpath(c.filepath) != mine:
            _S._saved_threads.append((c, c.num_threads))
            c.set_num_threads(1)
            limited.append(f"{c.internal_api} ({os.path.basename(c.filepath)})")
    return (f"{lib.name} {threads} thread(s); one thread for " + ", ".join(limited)
            if limited else f"{lib.name} {threads} thread(s)")


def _restore_threads() -> None:
    for c, n in _S._saved_threads:
        c.set_num_threads(n)
    _S._saved_threads.clear()
    _S.coordination = ""


def use(name: str, threads: int | None = None) -> dict:
    """Choose the library now: "numpy", "auto" (the probe's choice) or a name of
    `gemm_libs.NAMES`; `threads` for it (None: the usable cores). Returns `info()`."""
    key = str(name).strip().lower()
    if key not in CHOICES:
        raise ValueError(f"gemm: unknown library {name!r}; choose from {', '.join(CHOICES)}")
    if threads is not None and (isinstance(threads, bool) or int(threads) < 1):
        raise ValueError(f"gemm: threads must be an int >= 1 or None, got {threads!r}")
    _S.requested, _S.from_env = key, False
    _S.threads = None if threads is None else int(threads)
    return resolve()


def reprobe() -> dict:
    """Measure the installed libraries again (ignoring the cache) and use the winner."""
    gemm_probe.forget_cache(gemm_libs.available(), _S.threads or usable_cores())
    return use(AUTO, _S.threads)


def info() -> dict:
    """The seam's state: requested, the library in use, its dtypes, threads, why, rates."""
    lib = _S.lib
    out: dict[str, Any] = {
        "requested": _S.requested, "library": "numpy" if lib is None else lib.name,
        "dtypes": [str(d) for d in _S.dtypes], "source": _S.source,
        "threads": None if lib is None else lib.threads, "coordination": _S.coordination,
        "detail": "NumPy's BLAS" if lib is None else lib.detail,
        "min_flops": MIN_FLOPS, "installed": gemm_libs.available()}
    if _S.record is not None:
        out["probe"] = _S.record
    return out


def rates_table(record: dict | None = None) -> list[str]:
    """The probe's measurements as lines: library, GFLOP/s per dtype and speed-up vs NumPy."""
    record = _S.record if record is None else record
    if not record:
        return []
    lines = [f"probe ({record.get('shapes', '?')}, {record.get('threads')} thread(s), "
             f"{record.get('date', '?')}):"]
    for name, r in record.get("libraries", {}).items():
        if "error" in r:
            lines.append(f"  {name:18s} failed: {r['error']}")
            continue
        cells = [f"{dt} {r[dt]['gflops']:.1f} GFLOP/s ({r[dt]['speedup']:.2f}x NumPy)"
                 for dt in ("float32", "float64") if dt in r]
        lines.append(f"  {name:18s} " + ", ".join(cells) + f"  [{r.get('detail', '')}]")
    return lines
