"""Atomic file writes: a crash in the middle of a save leaves the previous file intact.

The data goes to a temporary file in the target's directory, is flushed and fsync'ed, then
`os.replace`d onto the target (atomic on POSIX and Windows), and the directory is fsync'ed
so that the rename itself survives a power loss.

A process killed during a save leaves its temporary file behind. The next save into the
same directory removes such orphans (`clean_stale`): only files named like ours
(`.<name>.<8 random characters>.tmp`, or `.part` for downloads), and only when no process
is writing them. A writer holds an exclusive `flock` on its temporary file until the file
has been renamed, so a file whose lock can be taken belongs to a process that has ended
(the kernel drops the locks of a dead process). A file younger than `GRACE_SECONDS` is kept
anyway (it may have been created an instant before its writer took the lock); where the
file system cannot lock, only files older than `UNLOCKED_MAX_AGE` are removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import BinaryIO

try:  # POSIX; on Windows writers are not locked and orphans are aged out instead
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

TMP_SUFFIX = ".tmp"
#: Temporary files of our own writes: "." + target name + "." + mkstemp's 8 characters.
TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.(tmp|part)$")
GRACE_SECONDS = 5.0  # a temporary file this young is never removed
UNLOCKED_MAX_AGE = 24 * 3600.0  # without locks: an orphan must be this old to be removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() gives a new file (mkstemp alone gives 0600)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, suffix: str = TMP_SUFFIX) -> Iterator[tuple]:
    """Yield `(file, temporary path)` for a file beside `path`; on success fsync it and move
    it onto `path`, on any exception (KeyboardInterrupt included) remove it and leave `path`
    as it was. The parent directory is created; the new file gets open()'s permissions.
    Orphaned temporary files of earlier, killed saves in that directory are removed first."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    clean_stale(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=suffix)
    f = os.fdopen(fd, "wb")
    try:
        _lock(f.fileno())  # held until the rename: cleaners of other processes skip it
        os.fchmod(f.fileno(), FILE_MODE)
        yield f, tmp
        f.flush()
        os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    finally:
        f.close()
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


# ---- orphans of killed saves ----------------------------------------------------------------
def _lock(fd: int) -> bool:
    """Take an exclusive lock on `fd` without waiting: True if taken, False if another
    process holds it; OSError where the file system cannot lock."""
    if fcntl is None:  # pragma: no cover - Windows
        raise OSError("no flock on this platform")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def clean_stale(folder: str | os.PathLike) -> list[str]:
    """Remove the orphaned temporary files of interrupted saves in `folder` (see the module
    docstring for which); returns the names removed. Never raises for a file it cannot read
    or remove (another process may be cleaning too)."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(os.fspath(folder)))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not TEMP_NAME.match(entry.name):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and _remove_if_orphaned(entry.path, now):
                removed.append(entry.name)
    return removed


def _remove_if_orphaned(path: str, now: float) -> bool:
    if now - os.stat(path).st_mtime < GRACE_SECONDS:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            free = _lock(fd)
        except OSError:  # no locks here: only very old files are surely orphans
            free = now - os.fstat(fd).st_mtime > UNLOCKED_MAX_AGE
        if not free:
            return False
        os.remove(path)  # under our lock: no writer can be using it
        return True
    finally:
        os.close(fd)
