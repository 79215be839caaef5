"""The Bengali and Marathi lesson notebooks (examples/notebooks/bn/, examples/notebooks/mr/).

Each is what build_notebooks.py builds from examples/notebooks/i18n/<lang>_<NN>.py: the English
notebook's code cells, its markdown cells in the notebook's language (following
docs/glossary.md), saved with the outputs of a real run, which are the English notebook's saved
outputs. CI does not execute them again: their code is the English notebooks' code, which
test_notebooks.py runs; comparing code cells and saved outputs keeps the notebook CI time as it
was. The slow test (GRADKIT_RUN_SLOW=1) executes them too.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from ..docs.pages import LANGS
from ..docs.test_translations import misused_terms, prose, script_problems
from .test_notebooks import NOTEBOOKS, builder

# the lesson notebooks every language has (issue 23); more may follow
LESSONS = ("01_own_framework", "03_low_level_vs_high_level")
TRANSLATED = sorted(p for lang in LANGS for p in (NOTEBOOKS / lang).glob("*.ipynb"))
IDS = [f"{p.parent.name}/{p.stem}" for p in TRANSLATED]
GRAPH_NODE_ID = re.compile(r"\bn\d{6,}\b")  # draw_graph names its Graphviz nodes by id()


def read(path: Path) -> Any:
    nbformat = pytest.importorskip("nbformat")
    return nbformat.read(path, as_version=4)


def english(path: Path) -> Any:
    """The English notebook that the translated notebook at path translates."""
    return read(NOTEBOOKS / path.name)


def outputs(cell: Any) -> list[tuple[str, Any]]:
    """A code cell's outputs, comparable between two runs: consecutive writes to one stream
    merged, the graphs' node ids (memory addresses) blanked."""
    out: list[tuple[str, Any]] = []
    for o in cell.outputs:
        if o.output_type == "stream":
            if out and out[-1][0] == o.name:
                out[-1] = (o.name, out[-1][1] + o.text)
            else:
                out.append((o.name, o.text))
        elif o.output_type == "error":
            out.append(("error", f"{o.ename}: {o.evalue}"))
        else:
            data = {k: GRAPH_NODE_ID.sub("n", v) if k == "image/svg+xml" else v
                    for k, v in o.data.items()}
            out.append((o.output_type, data))
    return out


def test_each_lesson_is_translated_and_every_build_is_saved():
    built = set(builder().TRANSLATIONS)
    saved = set(IDS)
    wanted = {f"{lang}/{name}" for lang in LANGS for name in LESSONS}
    assert wanted <= built, f"no i18n/<lang>_<NN>.py for {sorted(wanted - built)}"
    assert built == saved, (f"built but not saved: {sorted(built - saved)}; saved but not built: "
                            f"{sorted(saved - built)}: run python examples/notebooks/"
                            "build_notebooks.py bn mr --execute")


@pytest.mark.parametrize("path", TRANSLATED, ids=IDS)
def test_saved_notebook_is_the_build(path):
    cells = builder().TRANSLATIONS[f"{path.parent.name}/{path.stem}"]
    nb = read(path)
    assert [(c.cell_type, c.source) for c in nb.cells] == [
        ("markdown" if kind == "md" else "code", text) for kind, text in cells], (
        f"{path.parent.name}/{path.name} differs from its i18n file: run "
        f"python examples/notebooks/build_notebooks.py {path.parent.name} --execute")


@pytest.mark.parametrize("path", TRANSLATED, ids=IDS)
def test_code_cells_are_the_english_notebooks(path):
    ours, theirs = read(path).cells, english(path).cells
    assert [c.cell_type for c in ours] == [c.cell_type for c in theirs], (
        f"{path.parent.name}/{path.name}: not the cells of {path.name}")
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b.cell_type == "code":
            assert a.source == b.source, f"{path.parent.name}/{path.name}: code cell {i} differs"


@pytest.mark.parametrize("path", TRANSLATED, ids=IDS)
def test_markdown_is_in_its_language_and_follows_the_glossary(path):
    lang = path.parent.name
    markdown = [(i, c.source) for i, c in enumerate(read(path).cells)
                if c.cell_type == "markdown"]
    english_markdown = {c.source for c in english(path).cells if c.cell_type == "markdown"}
    assert markdown
    for i, text in markdown:
        where = f"{lang}/{path.name}, markdown cell {i}"
        assert text not in english_markdown, f"{where} is the English cell"
        assert not script_problems(lang, prose(text)), (where, script_problems(lang, prose(text)))
        wrong = misused_terms(lang, prose(text))
        assert not wrong, f"{where}: not the glossary's word before the bracket: {wrong}"


@pytest.mark.parametrize("path", TRANSLATED, ids=IDS)
def test_saved_with_the_english_notebooks_outputs(path):
    """Executed (every code cell has run, none failed), and its outputs are those saved in the
    English notebook: numbers, printed tables and figures, byte for byte."""
    ours, theirs = read(path).cells, english(path).cells
    code = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs)) if a.cell_type == "code"]
    assert all(a.execution_count for _, a, _ in code), f"{path} was saved without running it"
    for i, a, b in code:
        assert not [o for o in a.outputs if o.output_type == "error"], f"{path}: cell {i} failed"
        assert outputs(a) == outputs(b), (
            f"{path.parent.name}/{path.name}: cell {i}'s saved outputs are not {path.name}'s: "
            f"run python examples/notebooks/build_notebooks.py {path.stem[:2]} --execute")


@pytest.mark.slow
@pytest.mark.parametrize("path", TRANSLATED, ids=IDS)
def test_translated_notebook_runs(path, monkeypatch):
    """Run again from top to bottom, it prints what it was saved with."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    from nbclient import NotebookClient

    monkeypatch.setenv("MPLBACKEND", "Agg")  # no figures: the printed numbers are compared
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
    saved, nb = read(path), read(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for i, (a, b) in enumerate(zip(nb.cells, saved.cells)):
        if a.cell_type == "code":
            streams = [o for o in outputs(a) if o[0] in ("stdout", "stderr", "error")]
            assert streams == [o for o in outputs(b) if o[0] in ("stdout", "stderr")], (path, i)
