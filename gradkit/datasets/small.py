"""Small classic datasets shipped inside gradkit (no download, no scikit-learn): iris and
the 8x8 digits. The files in ``_data/`` are scikit-learn's copies; see ``_data/README.md``
for their origin and licence. Each is checked against a pinned SHA-256 before it is read.
"""

from __future__ import annotations

import gzip
import io
from importlib import resources

import numpy as np

from .sources import ChecksumError, sha256_bytes

__all__ = ["load_digits", "load_iris"]

_FILES = {
    "iris.csv": "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449",
    "digits.csv.gz": "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22",
}

IRIS_FEATURE_NAMES = ("sepal length (cm)", "sepal width (cm)",
                      "petal length (cm)", "petal width (cm)")
IRIS_TARGET_NAMES = ("setosa", "versicolor", "virginica")


def _read_text(name: str) -> str:
    """The verified, decompressed text of a shipped data file."""
    raw = resources.files(__package__).joinpath("_data").joinpath(name).read_bytes()
    actual = sha256_bytes(raw)
    if actual != _FILES[name]:
        raise ChecksumError(
            f"gradkit's bundled {name} is damaged (SHA-256 {actual}, expected {_FILES[name]}); "
            "reinstall gradkit"
        )
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("ascii")


def _table(text: str, skip_header: bool) -> np.ndarray:
    return np.loadtxt(io.StringIO(text), delimiter=",", skiprows=int(skip_header),
                      dtype=np.float64, ndmin=2)


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris: ``x`` float32 (150, 4) (sepal length, sepal width, petal length,
    petal width, in cm) and ``y`` int64 (150,) in 0..2 (setosa, versicolor, virginica),
    50 of each. The same values as ``sklearn.datasets.load_iris``."""
    text = _read_text("iris.csv")
    n, d = (int(v) for v in text.split("\n", 1)[0].split(",")[:2])
    table = _table(text, skip_header=True)
    if table.shape != (n, d + 1):
        raise ValueError(f"iris.csv: table of shape {table.shape}, header says {n}x{d + 1}")
    return table[:, :d].astype(np.float32), table[:, d].astype(np.int64)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """UCI optical handwritten digits (test set): ``x`` float32 (1797, 64), flattened 8x8
    images with integer values 0..16, and ``y`` int64 (1797,) in 0..9. The same values as
    ``sklearn.datasets.load_digits``; ``x.reshape(-1, 8, 8)`` gives the images."""
    table = _table(_read_text("digits.csv.gz"), skip_header=False)
    if table.shape != (1797, 65):
        raise ValueError(f"digits.csv.gz: table of shape {table.shape}, expected (1797, 65)")
    return table[:, :64].astype(np.float32), table[:, 64].astype(np.int64)
