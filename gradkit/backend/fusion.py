"""Compiled element-wise loops for `gk.compile`'s fused nodes: Numba, when installed.

`gk.config.fuse` (start: $GRADKIT_FUSE, default on) turns fusion on or off for plans made
afterwards; without Numba (`pip install "gradkit[jit]"`) plans keep one NumPy call per op.
Loops are compiled once for each distinct source text (the shapes are read at run time, so
the same chain on other shapes reuses its loop; Numba compiles one machine version per
argument dtype and dimensionality). Each source is written to gradkit's cache directory
(`loops/loop_<hash>.py`, next to the GEMM probe's results) so that Numba's own cache keeps
the machine code across processes: the first process pays about 0.2 s a loop, later ones
load it. Where that directory cannot be written, loops are compiled in memory.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .gemm_probe import cache_dir

_LOOPS: dict[str, Any] = {}


_MIN_SIZE = 4096  # elements: a smaller run keeps its NumPy calls (see `min_size`)


def _env_min_size() -> int:
    text = os.environ.get("GRADKIT_FUSE_MIN", "")
    try:
        return max(1, int(text)) if text.strip() else _MIN_SIZE
    except ValueError:
        warnings.warn(f"gradkit: GRADKIT_FUSE_MIN={text!r} is not a number of elements; "
                      f"using {_MIN_SIZE}", stacklevel=2)
        return _MIN_SIZE


class _State:
    on = os.environ.get("GRADKIT_FUSE", "1").strip().lower() not in ("0", "false", "off", "no")
    available: bool | None = None
    min_size = _env_min_size()


def available() -> bool:
    """Whether Numba imports (tried once, when a plan is first made or info is asked for);
    an installed Numba that fails to import (a NumPy it does not support) warns once."""
    if _State.available is None:
        _State.available = False
        if importlib.util.find_spec("numba") is not None:
            try:
                import numba  # noqa: F401
            except Exception as exc:  # noqa: BLE001 - any import failure: no fused loops
                warnings.warn(f"gradkit: Numba is installed but does not import ({exc}); "
                              f"gk.compile makes plans without fused loops", stacklevel=3)
            else:
                _State.available = True
    return _State.available


def enabled() -> bool:
    """Whether new plans fuse element-wise loops (requested and Numba installed)."""
    return _State.on and available()


def min_size() -> int:
    """The fewest elements a run must cover to be fused ($GRADKIT_FUSE_MIN, default 4096):
    on fewer, a loop saves about a microsecond a call, which would not repay Numba's start
    (about 0.5 s a process) in a lesson-sized run, so tiny plans never import Numba."""
    return _State.min_size


def set_enabled(on: bool) -> None:
    _State.on = bool(on)


def requested() -> bool:
    return _State.on


def compiled(source: str, ops: tuple[str, ...]) -> Callable[..., None]:
    """The Numba-compiled function `loop` defined by `source` (cached by its text); `ops`,
    the names of the ufuncs it fuses, is kept as its `gk_ops` (drawings show them)."""
    loop = _LOOPS.get(source)
    if loop is None:
        import numba

        fn, cached = _from_file(source)
        try:
            loop = numba.njit(fn, cache=cached, error_model="numpy", nogil=True,
                              fastmath=False)
        except RuntimeError:  # Numba finds no writable place for its cache
            loop = numba.njit(fn, error_model="numpy", nogil=True, fastmath=False)
        loop.gk_ops = ops  # type: ignore[attr-defined]
        _LOOPS[source] = loop
    return loop


def ready(loop: Any, args: list) -> bool:
    """Compile `loop` for these arguments now (scalar inputs typed as Python floats); False
    when Numba cannot (the run then stays NumPy calls, rather than failing on a replay)."""
    import numba

    try:
        loop.compile(tuple(numba.typeof(float(a) if not isinstance(a, np.ndarray) else a)
                           for a in args))
    except Exception:  # noqa: BLE001 - any typing or lowering error: keep the ufuncs
        return False
    return True


def _from_file(source: str) -> tuple[Callable[..., None], bool]:
    """(the function `loop` of `source`, whether it lives in a file Numba can cache by)."""
    text = "import numpy as np\n\n\n" + source
    name = "loop_" + hashlib.sha256(text.encode()).hexdigest()[:20]
    path = cache_dir() / "loops" / f"{name}.py"
    try:
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(text)
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(f"gradkit_loops.{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules.setdefault(spec.name, module)
        return module.loop, True
    except OSError:  # a read-only cache: compile in memory, once per process
        namespace: dict[str, Any] = {"np": np}
        exec(compile(text, "<gk.compile fused loop>", "exec"), namespace)  # noqa: S102
        return namespace["loop"], False


def info() -> dict[str, Any]:
    """What `gk.show_config()` prints about fusion."""
    version = None
    if available():
        from importlib.metadata import version as _version

        version = _version("numba")
    return {"requested": _State.on, "numba": version, "loops": len(_LOOPS),
            "min_size": _State.min_size}
