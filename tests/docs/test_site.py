"""The docs site builds with `mkdocs build --strict` (every warning is an error), and its API
reference is rendered from the docstrings (mkdocstrings) on pages docs/reference.py keeps in
step with the package."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gradkit as gk

ROOT = Path(__file__).resolve().parents[2]


def reference_script():
    spec = importlib.util.spec_from_file_location("docs_reference", ROOT / "docs" / "reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="the [docs] extra (also in [test]) installs mkdocs")
    pytest.importorskip("material", reason="the [docs] extra installs mkdocs-material")
    pytest.importorskip("mkdocs_static_i18n", reason="the [docs] extra installs the i18n plugin")
    pytest.importorskip("mkdocstrings_handlers.python",
                        reason="the [docs] extra installs mkdocstrings[python]")
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                          "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
                         capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1",
                                                              "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out


def test_the_site_builds_strictly(site):
    assert (site / "index.html").exists()
    assert (site / "bn" / "index.html").exists()


def test_the_api_reference_is_rendered_from_the_docstrings(site):
    page = (site / "reference" / "gradkit.nn" / "index.html").read_text()
    assert 'id="gradkit.nn.Linear"' in page and 'id="gradkit.nn.Module"' in page
    first = gk.nn.Linear.__doc__.strip().split("\n")[0][:40]
    assert first.split("`")[0] in page  # the docstring's own words
    top = (site / "reference" / "gradkit" / "index.html").read_text()
    for name in ("Tensor", "no_grad", "manual_seed"):
        assert f'id="gradkit.{name}"' in top, name
    for name in ("gradkit.io.serialize.save", "gradkit.jit.compile.compile",
                 "gradkit.tensor.tensor"):  # loaded on first use / named like a submodule
        assert f'id="{name}"' in top, name


def test_translated_sites_point_to_the_english_reference(site):
    page = (site / "bn" / "reference" / "gradkit.nn" / "index.html").read_text()
    assert 'id="gradkit.nn.Linear"' not in page
    assert re.search(r'href="\.\./\.\./\.\./reference/gradkit\.nn/"', page)


def test_the_reference_pages_are_up_to_date_and_in_the_nav():
    ref = reference_script()
    assert ref.main(["--check"]) == 0, "run python docs/reference.py"
    nav = (ROOT / "mkdocs.yml").read_text()
    missing = [name for name in ref.render() if f"reference/{name}" not in nav]
    assert not missing, f"add to mkdocs.yml's nav: {missing}"
