"""Process-wide settings (`config`) and a report of the machinery (`show_config`).

    gk.config.gemm = "openblas32-avx512"   # or "numpy", "auto"; like GRADKIT_GEMM=...
    gk.config.gemm_threads = 2              # threads of that library (None: the usable cores)
    gk.config.fuse = False                  # gk.compile plans without fused loops (GRADKIT_FUSE)
    gk.show_config()                        # versions, BLAS libraries, the GEMM choice, rates
"""

from __future__ import annotations

import platform
import sys
from typing import Any, TextIO

import numpy as np

from .._version import __version__
from . import fusion, gemm
from .devices import is_cuda_available
from .gemm_probe import machine


class Config:
    """gradkit's settings; each one takes effect when it is set."""

    __slots__ = ()

    @property
    def gemm(self) -> str:
        """The CPU GEMM library requested: "auto" (measured, cached per machine), "numpy"
        or a name of `gemm_libs.NAMES`. Starts as $GRADKIT_GEMM (default "auto")."""
        return gemm._S.requested

    @gemm.setter
    def gemm(self, name: str) -> None:
        gemm.use(name, gemm._S.threads)

    @property
    def gemm_threads(self) -> int | None:
        """Threads of the chosen GEMM library (None: the usable cores)."""
        return gemm._S.threads

    @gemm_threads.setter
    def gemm_threads(self, n: int | None) -> None:
        gemm.use(gemm._S.requested, n)

    @property
    def fuse(self) -> bool:
        """Whether `gk.compile` fuses runs of element-wise ops into compiled loops (Numba,
        the `jit` extra) in the plans it makes from now on. Starts as $GRADKIT_FUSE (default
        on; "0" turns it off); without Numba it has no effect."""
        return fusion.requested()

    @fuse.setter
    def fuse(self, on: bool) -> None:
        if not isinstance(on, bool):
            raise TypeError(f"gk.config.fuse takes True or False, got {on!r}")
        fusion.set_enabled(on)

    def __repr__(self) -> str:
        return (f"gradkit.config(gemm={self.gemm!r}, gemm_threads={self.gemm_threads!r}, "
                f"fuse={self.fuse!r})")


config = Config()


def _blas_libraries() -> list[str]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["(install threadpoolctl to list the loaded BLAS and OpenMP libraries)"]
    return [f"{d.get('internal_api')} {d.get('version') or ''} "
            f"({d.get('architecture') or d.get('threading_layer') or '-'}, "
            f"{d.get('num_threads')} threads): {d.get('filepath')}"
            for d in threadpool_info()]


def config_info() -> dict[str, Any]:
    """What `show_config` prints, as a dict (settles the GEMM choice if it is pending)."""
    state = gemm.resolve() if not gemm._S.resolved else gemm.info()
    return {"python": platform.python_version(), "numpy": np.__version__,
            "cpu": state.get("probe", {}).get("machine", {}).get("cpu") or _cpu(),
            "cores": gemm.usable_cores(), "cuda": is_cuda_available(),
            "gemm": state, "blas": _blas_libraries(), "config": repr(config),
            "fusion": fusion.info()}


def _cpu() -> str:
    return machine()["cpu"]


def show_config(file: TextIO | None = None) -> dict[str, Any]:
    """Print gradkit's machinery (versions, CPU, BLAS libraries, the GEMM library in use and
    why, its measured rates); returns the same as a dict."""
    d = config_info()
    g = d["gemm"]
    lines = [f"gradkit {__version__}, Python {d['python']}, NumPy {d['numpy']}",
             f"CPU: {d['cpu']}, {d['cores']} usable core(s); CUDA: "
             f"{'available' if d['cuda'] else 'not available'}",
             f"GEMM: {g['library']} ({g['detail']}"
             + (f", for {', '.join(g['dtypes'])}" if g["dtypes"] else "")
             + f"); requested {g['requested']!r}; {g['source']}"]
    if g["coordination"]:
        lines.append(f"  threads: {g['coordination']}")
    lines.append(f"  installed GEMM extras: {', '.join(g['installed']) or 'none'}")
    lines += ["  " + line for line in gemm.rates_table(g.get("probe"))]
    f = d["fusion"]
    lines.append("gk.compile fused loops: " + (
        f"Numba {f['numba']}, " + (f"on (runs of {f['min_size']}+ elements)"
                                    if f["requested"] else "off (gk.config.fuse)")
        if f["numba"] else "off (Numba not installed: pip install 'gradkit[jit]')"))
    lines.append("BLAS/OpenMP libraries loaded:")
    lines += ["  " + b for b in d["blas"]]
    print("\n".join(lines), file=file or sys.stdout)
    return d
