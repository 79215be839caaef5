"""Atomic file writes: a crash in the middle of a save leaves the previous file intact.

The data goes to a temporary file in the target's directory, is flushed and fsync'ed, then
`os.replace`d onto the target (atomic on POSIX and Windows), and the directory is fsync'ed
so that the rename itself survives a power loss.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import BinaryIO

TMP_SUFFIX = ".tmp"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() gives a new file (mkstemp alone gives 0600)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, suffix: str = TMP_SUFFIX) -> Iterator[tuple]:
    """Yield `(file, temporary path)` for a file beside `path`; on success fsync it and move
    it onto `path`, on any exception (KeyboardInterrupt included) remove it and leave `path`
    as it was. The parent directory is created; the new file gets open()'s permissions."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), FILE_MODE)
            yield f, tmp
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    fsync_dir(folder)


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> str:
    """Call `write(file)` on a temporary file next to `path`, then move it onto `path`.

    On any exception (KeyboardInterrupt included) the temporary file is removed and `path`
    is left as it was. Returns `path` as a string.
    """
    with atomic_file(path) as (f, _):
        write(f)
    return os.fspath(path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> str:
    """Write `data` to `path` atomically."""
    return atomic_write(path, lambda f: f.write(data))


def fsync_dir(folder: str) -> None:
    """Make a rename in `folder` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
