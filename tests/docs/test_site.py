"""The docs site builds with `mkdocs build --strict` (every warning is an error)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="the [docs] extra (also in [test]) installs mkdocs")
    pytest.importorskip("material", reason="the [docs] extra installs mkdocs-material")
    pytest.importorskip("mkdocs_static_i18n", reason="the [docs] extra installs the i18n plugin")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                          "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                         capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1",
                                                              "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "bn" / "index.html").exists()
