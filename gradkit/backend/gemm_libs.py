"""The CPU GEMM libraries the seam (`gemm.py`) can call besides NumPy's own BLAS.

Each is an optional extra, loaded only when chosen or probed:

- ``openblas32``: the `scipy-openblas32` wheel (a newer OpenBLAS than NumPy's), kernels as
  OpenBLAS detects the CPU;
- ``openblas32-avx512``: the same library with its AVX-512 (SkylakeX) kernels forced, offered
  on CPUs with AVX-512 (OpenBLAS runs its AVX2 "Haswell" kernels on CPUs it does not know,
  such as AMD Zen 5);
- ``mkl``: Intel MKL from the `mkl` wheel (`libmkl_rt`), through its CBLAS;
- ``blis``: BLIS from the `blis` wheel (`blis.py.gemm`).

A `Library` multiplies two 2-D float32/float64 NumPy arrays into a preallocated C-ordered
`out`, reading each operand as row-major with a leading dimension or as the transpose of one
(no copies). Only NumPy, ctypes and the standard library are imported here.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_INT = ctypes.c_int
_PTR = ctypes.c_void_p
NAMES = ("openblas32", "openblas32-avx512", "mkl", "blis")
# the OpenBLAS cores whose SGEMM kernels already use AVX-512
_AVX512_CORES = ("skylakex", "cooperlake", "sapphirerapids")


class LibraryError(RuntimeError):
    """A GEMM library that is not installed or cannot be loaded here."""


class Library:
    """One loaded GEMM library: `gemm(a, b, out, ta, tb, lda, ldb)` computes out = a @ b for
    the logical (m, k) and (k, n) operands `a`, `b`; `ta` says that `a` is stored as the
    row-major transpose (a column-major view), `lda` its leading dimension in elements (the
    same for `b`). `packed`: it takes only leading dimensions equal to the stored rows."""

    def __init__(self, name: str, version: str, detail: str, path: str | None,
                 calls: dict[Any, Callable], set_threads: Callable[[int], None] | None,
                 packed: bool = False) -> None:
        self.name, self.version, self.detail, self.path = name, version, detail, path
        self._calls, self._set_threads = calls, set_threads
        self.threads = 1
        self.packed = packed
        self.dtypes = tuple(calls)  # the dtypes it multiplies
        self.sets_threads = set_threads is not None

    def gemm(self, a: np.ndarray, b: np.ndarray, out: np.ndarray, ta: bool, tb: bool,
             lda: int, ldb: int) -> None:
        self._calls[out.dtype](a, b, out, ta, tb, lda, ldb)

    def set_threads(self, n: int) -> None:
        if self._set_threads is not None:
            self._set_threads(int(n))
            self.threads = int(n)

    def info(self) -> dict:
        return {"name": self.name, "version": self.version, "detail": self.detail,
                "threads": self.threads, "path": self.path}


def _cblas(fn: Any, real: Any) -> Callable:
    """A Python call of CBLAS `?gemm` (row-major, beta = 0, LP64 ints)."""
    fn.restype = None
    fn.argtypes = [_INT] * 6 + [real, _PTR, _INT, _PTR, _INT, real, _PTR, _INT]

    def call(a, b, out, ta, tb, lda, ldb):
        m, n = out.shape
        fn(_ROW_MAJOR, _TRANS if ta else _NO_TRANS, _TRANS if tb else _NO_TRANS, m, n,
           a.shape[1], 1.0, a.ctypes.data, lda, b.ctypes.data, ldb, 0.0, out.ctypes.data, n)

    return call


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:  # noqa: BLE001 - metadata missing: the version is only reported
        return "?"


# ---- which libraries are here (nothing loaded) --------------------------------------------


def cpu_has_avx512() -> bool:
    """Whether the CPU runs AVX-512 F/CD/BW/DQ/VL (OpenBLAS's SkylakeX kernels), as NumPy
    detected it at import."""
    for where in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            feats = importlib.import_module(where).__cpu_features__
        except (ImportError, AttributeError):  # pragma: no cover - another NumPy
            continue
        return bool(feats.get("AVX512_SKX"))
    return False  # pragma: no cover


def _mkl_path() -> str | None:
    for d in (os.path.join(sys.prefix, "lib"), os.path.join(sys.base_prefix, "lib")):
        for f in ("libmkl_rt.so.2", "libmkl_rt.so.3", "libmkl_rt.so", "libmkl_rt.dylib"):
            if os.path.isfile(os.path.join(d, f)):
                return os.path.join(d, f)
    import ctypes.util

    return ctypes.util.find_library("mkl_rt")


def available() -> list[str]:
    """The libraries installed here (in `NAMES` order), found without loading any."""
    out = []
    if importlib.util.find_spec("scipy_openblas32") is not None:
        out.append("openblas32")
        if cpu_has_avx512():
            out.append("openblas32-avx512")
    if _mkl_path() is not None:
        out.append("mkl")
    if importlib.util.find_spec("blis") is not None:
        out.append("blis")
    return out


# ---- loaders ------------------------------------------------------------------------------

_LOADED: dict[str, Library] = {}


def load(name: str) -> Library:
    """The library `name` (one of `NAMES`), loaded once per process; LibraryError if it is
    not installed or cannot load (e.g. the other OpenBLAS32 variant is already loaded)."""
    lib = _LOADED.get(name)
    if lib is None:
        loader = {"openblas32": _openblas32, "openblas32-avx512": _openblas32,
                  "mkl": _mkl, "blis": _blis}.get(name)
        if loader is None:
            raise LibraryError(f"gemm: unknown library {name!r}; choose from "
                               f"{', '.join(('numpy',) + NAMES)}")
        lib = _LOADED[name] = loader(name)
    return lib


def _openblas32_path() -> str:
    """The scipy-openblas32 library file, found without importing the package (its import
    loads the library, and the kernels must be chosen before that)."""
    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or not spec.submodule_search_locations:
        raise LibraryError("gemm: openblas32 needs the scipy-openblas32 package "
                           "(pip install scipy-openblas32)")
    lib_dir = os.path.join(list(spec.submodule_search_locations)[0], "lib")
    names = sorted(f for f in os.listdir(lib_dir) if f.startswith("libscipy_openblas")
                   and (".so" in f or f.endswith(".dylib")))
    if not names:
        raise LibraryError(f"gemm: no libscipy_openblas library in {lib_dir}")
    return os.path.join(lib_dir, names[0])


def _loaded(path: str) -> bool:
    """Whether the shared library `path` is already mapped into this process (Linux)."""
    try:
        with open("/proc/self/maps") as f:
            return os.path.realpath(path) in f.read()
    except OSError:
        return False


def _openblas32(name: str) -> Library:
    other = "openblas32" if name.endswith("avx512") else "openblas32-avx512"
    if other in _LOADED:
        raise LibraryError(f"gemm: {other} is loaded in this process; {name} is the same "
                           "library with other kernels (one per process)")
    path = _openblas32_path()
    # OpenBLAS reads OPENBLAS_CORETYPE once, as it initialises: the AVX-512 variant sets it
    # for its own library only (NumPy's BLAS keeps whatever the environment says)
    saved = os.environ.get("OPENBLAS_CORETYPE")
    forced = name.endswith("avx512") and not _loaded(path)
    if forced:
        os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
    try:
        dll = ctypes.CDLL(path)
    except OSError as exc:
        raise LibraryError(f"gemm: cannot load {path}: {exc}") from None
    finally:
        if forced and saved is None:
            del os.environ["OPENBLAS_CORETYPE"]
        elif forced:
            os.environ["OPENBLAS_CORETYPE"] = saved  # type: ignore[assignment]
    prefix = "scipy_"
    corename = getattr(dll, f"{prefix}openblas_get_corename")
    corename.restype = ctypes.c_char_p
    core = corename().decode()
    if name.endswith("avx512") and core.lower() not in _AVX512_CORES:
        raise LibraryError(f"gemm: {name}: OpenBLAS runs its {core} kernels here, not AVX-512")
    set_threads = getattr(dll, f"{prefix}openblas_set_num_threads")
    set_threads.argtypes = [_INT]
    calls = {np.dtype(np.float32): _cblas(getattr(dll, f"{prefix}cblas_sgemm"), ctypes.c_float),
             np.dtype(np.float64): _cblas(getattr(dll, f"{prefix}cblas_dgemm"), ctypes.c_double)}
    env = os.environ.get("OPENBLAS_CORETYPE")
    note = f"; OPENBLAS_CORETYPE={env} in the environment" if env else ""
    return Library(name, _version("scipy-openblas32"), f"OpenBLAS, {core} kernels{note}", path,
                   calls, set_threads)


def _gomp_loaded() -> bool:
    """Whether GNU OpenMP (PyTorch's runtime, for one) is already in this process."""
    try:
        with open("/proc/self/maps") as f:
            return "libgomp" in f.read()
    except OSError:
        return False


def _mkl(name: str) -> Library:
    path = _mkl_path()
    if path is None:
        raise LibraryError("gemm: mkl needs Intel MKL (pip install 'gradkit[mkl]')")
    try:
        dll = ctypes.CDLL(path)
    except OSError as exc:
        raise LibraryError(f"gemm: cannot load {path}: {exc}") from None
    # one OpenMP runtime per process: GNU's when it is already here, else Intel's
    layer = 3 if _gomp_loaded() else 0  # MKL_THREADING_GNU / MKL_THREADING_INTEL
    dll.MKL_Set_Threading_Layer.argtypes = [_INT]
    dll.MKL_Set_Threading_Layer(layer)
    dll.MKL_Set_Num_Threads.argtypes = [_INT]
    calls = {np.dtype(np.float32): _cblas(dll.cblas_sgemm, ctypes.c_float),
             np.dtype(np.float64): _cblas(dll.cblas_dgemm, ctypes.c_double)}
    omp = "GNU OpenMP" if layer == 3 else "Intel OpenMP"
    return Library(name, _version("mkl"), f"MKL, {omp}", path, calls, dll.MKL_Set_Num_Threads)


def _blis(name: str) -> Library:
    try:
        from blis.py import gemm as blis_gemm  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise LibraryError("gemm: blis needs the blis package (pip install blis)") from None

    def call(a, b, out, ta, tb, lda, ldb):
        # blis.py takes C-ordered operands: a transposed operand is passed as its C-ordered
        # transpose with the trans flag (a view, no copy)
        blis_gemm(a.T if ta else a, b.T if tb else b, out=out, trans1=ta, trans2=tb,
                  alpha=1.0, beta=0.0)

    # float32 only: blis 1.3's float64 gemm ignores the trans flags in its shapes (it
    # crashes on a transposed operand)
    calls = {np.dtype(np.float32): call}
    return Library(name, _version("blis"), "BLIS (blis wheel, its own threads)", None, calls,
                   None, packed=True)
