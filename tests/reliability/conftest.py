"""The fault-injection suite: kills, full disks, read-only paths, corrupt files, hostile
headers and rank failures. Its summary line states how many cases ran:

    fault-injection: 66 cases (64 passed, 2 skipped)

(summary.py; under `pytest -n 2` with no paths, the line needs tests/conftest.py to import
the same hook, since pytest-xdist's controller loads only the conftest files of the paths it
was given.)

Fixtures: `full_dir` (a 256 kB tmpfs when this machine lets the tests mount one),
`read_only_dir` (a read-only tmpfs as root, else a folder without write permission).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from .summary import pytest_terminal_summary  # noqa: F401 - the "fault-injection: N cases" line


def _mount_tmpfs(path: Path, options: str) -> bool:
    if os.geteuid() != 0:
        return False
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                              capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _umount(path: Path) -> None:
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(["umount", str(path)], capture_output=True, timeout=20)


@pytest.fixture
def full_dir(tmp_path):
    """A folder on a tiny (256 kB) file system: writes soon fail with ENOSPC."""
    path = tmp_path / "tiny-disk"
    path.mkdir()
    if not _mount_tmpfs(path, "size=256k"):
        pytest.skip("cannot mount a tiny tmpfs here (needs root and mount); the patched "
                    "ENOSPC cases cover the same code")
    yield path
    _umount(path)


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder nothing can be written into: a read-only tmpfs as root (root ignores
    permissions), a folder of mode 0555 otherwise."""
    path = tmp_path / "read-only"
    path.mkdir()
    if os.geteuid() == 0:
        if not _mount_tmpfs(path, "ro,size=64k"):
            pytest.skip("running as root, and cannot mount a read-only tmpfs here")
        yield path
        _umount(path)
        return
    path.chmod(0o555)
    yield path
    path.chmod(0o755)
