"""The place where Keras-style training attaches to every `Module`.

`Module` inherits from `TrainingMixin`, so methods defined here are available on every
model (a `Sequential` and a hand-written subclass alike). The training work adds
`compile`, `fit`, `evaluate` and `predict` (and `save_weights` / `load_weights`) here as
thin methods that import `gradkit.train` (or `gradkit.io`) inside the method body, so that
`import gradkit.nn` never depends on those packages. Nothing here may touch the call path
(`Module.__call__` / `forward`): calling a model must stay as cheap as calling a function.
"""

from __future__ import annotations


class TrainingMixin:
    """Keras-style training methods shared by every Module (filled in by gradkit.train)."""

    __slots__ = ()
