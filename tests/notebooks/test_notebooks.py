"""Every lesson notebook in examples/notebooks runs from top to bottom (nbclient, a real
kernel), at the small settings it is saved with (the MNIST and overfitting notebooks with
still fewer epochs: GRADKIT_NOTEBOOK_QUICK=1); and the saved notebooks are the ones
build_notebooks.py writes, with their outputs."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "examples" / "notebooks"
FILES = sorted(NOTEBOOKS.glob("*.ipynb"))
CELL_TIMEOUT = int(os.environ.get("GRADKIT_NOTEBOOK_TIMEOUT", "300"))


def builder():
    spec = importlib.util.spec_from_file_location("build_notebooks",
                                                  NOTEBOOKS / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_notebook_is_built_by_the_script_and_saved_with_outputs():
    nbformat = pytest.importorskip("nbformat")
    cells = builder().NOTEBOOKS
    assert sorted(cells) == [f.stem for f in FILES]
    for f in FILES:
        nb = nbformat.read(f, as_version=4)
        assert [c.source for c in nb.cells] == [text for _, text in cells[f.stem]], (
            f"{f.name} differs from build_notebooks.py: run "
            "python examples/notebooks/build_notebooks.py --execute")
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), f"{f.name} was saved without running it"
        assert not any(o.output_type == "error" for c in code for o in c.outputs)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_notebook_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    if "mnist" in path.stem or "cnn" in path.stem:
        from gradkit.datasets import DatasetUnavailable, load_mnist

        try:
            load_mnist()
        except DatasetUnavailable as exc:
            pytest.skip(f"MNIST is not available here: {exc}")
    from nbclient import NotebookClient

    monkeypatch.delenv("GRADKIT_FULL_RUN", raising=False)
    monkeypatch.setenv("GRADKIT_NOTEBOOK_QUICK", "1")  # fewer epochs in the slow notebooks
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        # one BLAS thread per kernel: the test workers already use every core, and threads
        # spinning for each other's cores make small matrix products many times slower
        monkeypatch.setenv(var, "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.outputs = [] if cell.cell_type == "code" else cell.get("outputs")
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
