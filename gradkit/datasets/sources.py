"""Where dataset files live and how they are fetched: cache directory, SHA-256 checks,
atomic writes, a small checksum-verifying downloader, and `DatasetUnavailable`.

Pure standard library + NumPy. Environment variables:

- ``GRADKIT_DATA``: a directory searched for dataset files, also used as the cache.
- ``XDG_CACHE_HOME``: the cache is ``$XDG_CACHE_HOME/gradkit`` when ``GRADKIT_DATA`` is unset
  (default ``~/.cache/gradkit``).
- ``GRADKIT_OFFLINE=1``: never touch the network.
- ``GRADKIT_DOWNLOAD_TIMEOUT``: seconds per network operation (default 10).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar

from ..io.atomic import atomic_file

T = TypeVar("T")

__all__ = [
    "ChecksumError",
    "CorruptCacheWarning",
    "DatasetUnavailable",
    "atomic_write",
    "cache_dir",
    "data_dir",
    "download",
    "move_aside",
    "offline",
    "read_payload",
    "sha256_bytes",
    "sha256_file",
]

DEFAULT_TIMEOUT = 10.0
_CHUNK = 1 << 20
_USER_AGENT = "gradkit-datasets/0.1 (+https://pypi.org/project/gradkit/)"


class ChecksumError(ValueError):
    """A file's SHA-256 differs from the pinned value (it is never used)."""


class DatasetUnavailable(RuntimeError):
    """No source could provide a dataset.

    ``attempts`` holds ``(place, why it failed)`` for every place looked at, in order;
    ``hints`` the ways a user can provide the files. Both are in the message.
    """

    def __init__(
        self, dataset: str, attempts: list[tuple[str, str]], hints: list[str] | tuple[str, ...]
    ) -> None:
        self.dataset = dataset
        self.attempts = list(attempts)
        self.hints = list(hints)
        lines = [f"{dataset} is not available. Places tried, in order:"]
        lines += [f"  {i}. {place}: {why}" for i, (place, why) in enumerate(self.attempts, 1)]
        if self.hints:
            lines.append("To provide the data, do one of:")
            lines += [f"  - {h}" for h in self.hints]
        super().__init__("\n".join(lines))


class CorruptCacheWarning(UserWarning):
    """A cached file failed verification: it was moved aside and the next source is tried."""


# ---------------------------------------------------------------- locations and settings


def data_dir() -> Path | None:
    """The ``GRADKIT_DATA`` directory, or None when the variable is unset or empty."""
    value = os.environ.get("GRADKIT_DATA", "").strip()
    return Path(value).expanduser() if value else None


def user_provided(root: str | os.PathLike[str] | None, name: str,
                  probe: Callable[[Path, str], T | None],
                  attempts: list[tuple[str, str]], root_label: str = "root=") -> T | None:
    """What the user put in place: 1. `root=` (the path itself, then root/name), 2. the
    GRADKIT_DATA directory (GRADKIT_DATA/name, then itself). `probe(path, label)` reads one
    candidate or returns None (noting why in `attempts`); the first found is returned."""
    found = None
    if root is None:
        attempts.append(("root= argument", "not given"))
    else:
        found = probe(Path(root), root_label) or probe(Path(root) / name, root_label)
    env = data_dir()
    if found is None:
        if env is None:
            attempts.append(("GRADKIT_DATA directory", "environment variable not set"))
        else:
            found = (probe(env / name, "GRADKIT_DATA directory")
                     or probe(env, "GRADKIT_DATA directory"))
    return found


def cache_dir() -> Path:
    """gradkit's cache: ``$GRADKIT_DATA``, else ``$XDG_CACHE_HOME/gradkit``, else
    ``~/.cache/gradkit``. Not created here."""
    explicit = data_dir()
    if explicit is not None:
        return explicit
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "gradkit"


def offline() -> bool:
    """True when ``GRADKIT_OFFLINE`` is set to a true value (1, true, yes, on)."""
    return os.environ.get("GRADKIT_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def download_timeout() -> float:
    """Seconds for each network operation (``GRADKIT_DOWNLOAD_TIMEOUT``, default 10)."""
    try:
        value = float(os.environ.get("GRADKIT_DOWNLOAD_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT


# ---------------------------------------------------------------- hashing and reading


def sha256_bytes(data: bytes | memoryview) -> str:
    """Hex SHA-256 of a bytes-like object."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def check_sha256(data: bytes | memoryview, expected: str, what: str) -> None:
    """Raise `ChecksumError` unless ``sha256(data) == expected``."""
    actual = sha256_bytes(data)
    if actual != expected.lower():
        raise ChecksumError(f"{what}: SHA-256 mismatch (expected {expected}, got {actual})")


def read_payload(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """Read a file's content, transparently gunzipping it (detected by its magic bytes,
    not its name). At most ``max_bytes + 1`` decompressed bytes are read, so a huge or
    malicious archive cannot exhaust memory; callers compare the length with what they
    expect."""
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head == b"\x1f\x8b":
            try:
                with gzip.GzipFile(fileobj=f) as gz:
                    return _read_capped(gz, max_bytes)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                raise ValueError(f"{os.fspath(path)}: corrupt gzip data ({exc})") from None
        return _read_capped(f, max_bytes)


def _read_capped(f: BinaryIO | gzip.GzipFile, max_bytes: int) -> bytes:
    buf = io.BytesIO()
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = f.read(min(_CHUNK, remaining))
        if not chunk:
            break
        buf.write(chunk)
        remaining -= len(chunk)
    return buf.getvalue()


# ---------------------------------------------------------------- writing


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path`` for writing; on success fsync it and
    ``os.replace`` it onto ``path`` (readers never see a partial file); on error remove it.
    Creates the parent directory."""
    with atomic_file(path) as (f, _):
        yield f


def move_aside(path: str | os.PathLike[str], why: str) -> Path | None:
    """Rename a cached file that failed verification to ``<name>.corrupt-<time>`` (so the
    next load does not trip over it, and nothing is deleted) and warn with
    `CorruptCacheWarning`. Returns the new path, or None when it could not be renamed."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        os.replace(path, target)
    except OSError as exc:
        warnings.warn(f"gradkit: the cached {path} failed verification ({why}) and could not "
                      f"be moved aside ({describe_error(exc)}); delete it to stop this "
                      "check; trying the next source", CorruptCacheWarning, stacklevel=3)
        return None
    warnings.warn(f"gradkit: the cached {path} failed verification ({why}); moved it aside "
                  f"to {target.name} and trying the next source", CorruptCacheWarning,
                  stacklevel=3)
    return target


# ---------------------------------------------------------------- network


def download(
    url: str,
    dest: str | os.PathLike[str],
    verify: Callable[[Path], object],
    *,
    max_bytes: int,
    timeout: float | None = None,
) -> Path:
    """Fetch ``url`` into ``dest`` atomically.

    The body goes to a temporary file beside ``dest`` (at most ``max_bytes``), then
    ``verify(tmp_path)`` must pass (raise to refuse, e.g. `ChecksumError`) before the file
    is moved onto ``dest``. Raises ``OSError``/``urllib.error.URLError`` on network
    trouble, ``ValueError`` on a refused body; nothing is left behind on failure.
    """
    dest = Path(dest)
    timeout = download_timeout() if timeout is None else timeout
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    created = not dest.parent.exists()
    try:
        with atomic_file(dest, suffix=".part") as (out, tmp), \
                urllib.request.urlopen(request, timeout=timeout) as r:
            length = r.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise ValueError(f"{url}: server announces {length} bytes, over {max_bytes}")
            total = 0
            for chunk in iter(lambda: r.read(_CHUNK), b""):
                total += len(chunk)
                if total > max_bytes:
                    raise ValueError(f"{url}: more than {max_bytes} bytes, refusing")
                out.write(chunk)
            out.flush()
            verify(Path(tmp))
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                dest.parent.rmdir()  # only if still empty
        raise
    return dest


def describe_error(exc: BaseException) -> str:
    """A one-line reason for an attempts list."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"network error: {exc.reason}"
    if isinstance(exc, TimeoutError):
        return "network error: timed out"
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0] if "\n" in text else text
