"""Saving and interop: model files, weights, checkpoints (safetensors, never pickle), DLPack.

    gk.save(model, "model.safetensors");  model = gk.load("model.safetensors")
    model.save_weights("w.safetensors");  model.load_weights("w.safetensors")
    gk.save_checkpoint("ckpt.safetensors", model, opt, epoch=3, scheduler=s, loader=dl)
    info = gk.load_checkpoint("ckpt.safetensors", model, opt, scheduler=s, loader=dl)

ONNX export lives in `gradkit.onnx`, the scikit-learn wrappers in `gradkit.sklearn`.
"""

from .atomic import atomic_write, atomic_write_bytes
from .checkpoint import load_checkpoint, save_checkpoint
from .config import architecture, build, builtin_layers
from .dlpack import from_dlpack
from .errors import ConfigError, FormatError
from .fingerprint import RunMismatchError, run_fingerprint
from .safe import read_metadata, read_safetensors, write_safetensors
from .serialize import load, load_weights, save, save_weights

__all__ = [
    "save", "load", "save_weights", "load_weights", "save_checkpoint", "load_checkpoint",
    "from_dlpack", "FormatError", "ConfigError", "architecture", "build", "builtin_layers",
    "read_safetensors", "read_metadata", "write_safetensors", "atomic_write",
    "atomic_write_bytes", "RunMismatchError", "run_fingerprint",
]
