"""`tf.function`: gradkit's compiled steps (`gk.compile`) under TensorFlow's name.

`@tf.function` wraps the Python function in `gk.compile` (gradkit.jit): the first call runs
eagerly, the next traces the step, later calls replay the recorded plan, and a step that
does not trace faithfully stays eager (gk.compile checks the plan against the eager step).
`tf.config.run_functions_eagerly(True)` makes every `tf.function` call its Python
function. Where gradkit has no `gradkit.jit`, `tf.function` is a plain call.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

from .config import functions_run_eagerly
from .nest import map_structure
from .tensor import retag

__all__ = ["function"]


def _compiler() -> Callable[..., Any] | None:
    """gradkit's `compile` (gradkit.jit), or None where this gradkit has none."""
    try:
        jit = importlib.import_module("gradkit.jit")
    except ImportError:
        return None
    fn = getattr(jit, "compile", None)
    return fn if callable(fn) else None


def function(func: Callable[..., Any] | None = None, input_signature: Any = None,
             autograph: bool = True, jit_compile: bool | None = None,
             reduce_retracing: bool = False, **experimental: Any) -> Any:
    """Compile `func` (also a decorator, with or without arguments); see the module doc."""
    if func is None:
        return functools.partial(function, input_signature=input_signature,
                                 autograph=autograph, jit_compile=jit_compile,
                                 reduce_retracing=reduce_retracing, **experimental)
    make = _compiler()
    compiled = make(func) if make is not None else None

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        if compiled is None or functions_run_eagerly():
            out = func(*args, **kwargs)
        else:
            out = compiled(*args, **kwargs)
        return map_structure(retag, out) if out is not None else None

    call.python_function = func  # type: ignore[attr-defined]
    call.compiled = compiled  # type: ignore[attr-defined]
    return call
