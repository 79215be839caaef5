"""The one place training callbacks write model files: `gk.save` / `save_weights`.

Both write one safetensors file atomically (temporary file, fsync, rename; gradkit.io.atomic),
so a crash never leaves a torn file. `weights_finite` tells whether a model is worth saving:
ModelCheckpoint never replaces a file with NaN or infinite weights.
"""

from __future__ import annotations

import os

from ..backend.devices import xp_of
from ..io import ConfigError, save, save_weights
from ..nn import Module


def weights_finite(model: Module) -> bool:
    """True when every floating-point parameter and buffer of `model` is finite."""
    for t in (*model.parameters(), *model.buffers()):
        a = t._data
        if a.dtype.kind in "fc" and not bool(xp_of(a).isfinite(a).all()):
            return False
    return True


def save_model_file(model: Module, path: str | os.PathLike[str],
                    weights_only: bool = False) -> str:
    """Save `model` to `path` (architecture + weights, or weights only); returns the path.

    A model that `gk.save` cannot describe (e.g. one layer shared at two places) falls back
    to its weights.
    """
    path = os.fspath(path)
    if not weights_only:
        try:
            return save(model, path)
        except ConfigError:
            pass
    return save_weights(model, path)
