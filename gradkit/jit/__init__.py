"""Compiled steps: `gk.compile(fn)` traces a training step once and replays it (docs/compile.md).

tracer.py (the tracer arrays and scalars), recorder.py (what a trace writes down),
patches.py (NumPy entry points routed to the recorder during a trace), plan.py (the
generated replay function), capture.py (the state a step touches), verify.py (a new plan
checked against its trace), compile.py (signatures, warm-up, trace, replay, fallback).
"""

from .compile import CompiledFunction, CompileWarning, compile
from .recorder import TraceError

__all__ = ["compile", "CompiledFunction", "CompileWarning", "TraceError"]
