"""Every ```python block in docs/*.md, README.md and the translated pages (docs/bn/*.md,
docs/mr/*.md) runs (blocks of one page share a namespace, in order), and docs/api.md is what
docs/gen_api.py generates.

A block preceded by `<!-- no-test -->` is skipped. Pages written by other parts of the
project whose examples need an MPI job or a GPU are listed in NOT_RUN with the reason.
"""

import importlib.util
import re
from pathlib import Path

import pytest

from .pages import DOCS, ROOT, translated_pages

NOT_RUN = {
    "distributed.md": "its examples run under mpiexec (tests/distributed covers them)",
    "gpu.md": "its examples need a GPU and CuPy",
}
# Optional packages: a block that needs one that is missing is skipped, not failed.
OPTIONAL = {"torch", "onnx", "onnxruntime", "sklearn", "safetensors", "matplotlib", "PIL"}
BLOCK = re.compile(r"(<!--\s*no-test\s*-->\s*\n)?```python\n(.*?)```", re.S)


def pages():
    return sorted(DOCS.glob("*.md")) + [ROOT / "README.md"] + translated_pages()


def page_id(page: Path) -> str:
    """tensors.md, README.md, bn/tensors.md."""
    return page.relative_to(DOCS).as_posix() if page.is_relative_to(DOCS) else page.name


def blocks(path: Path) -> list[tuple[int, str]]:
    text = path.read_text()
    return [(text[:m.start()].count("\n") + 1, m.group(2)) for m in BLOCK.finditer(text)
            if not m.group(1)]


@pytest.mark.parametrize("page", pages(), ids=page_id)
def test_python_examples_run(page, tmp_path, monkeypatch):
    if page.name in NOT_RUN:
        pytest.skip(NOT_RUN[page.name])
    found = blocks(page)
    if not found:
        pytest.skip("no python examples")
    monkeypatch.chdir(tmp_path)  # examples write their files here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import gradkit as gk

    gk.manual_seed(0)
    namespace = {"__name__": f"docs_{page_id(page).removesuffix('.md').replace('/', '_')}"}
    skipped = []
    for line, code in found:
        try:
            exec(compile(code, f"{page_id(page)}:{line}", "exec"), namespace)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] in OPTIONAL:
                skipped.append((line, exc.name))
                continue
            raise
    assert len(skipped) < len(found), f"every example needed a missing package: {skipped}"


def test_every_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    missing = [p.name for p in DOCS.glob("*.md") if p.name not in nav]
    assert not missing, f"add these pages to mkdocs.yml's nav: {missing}"


def test_api_reference_is_up_to_date():
    pytest.importorskip("sklearn")  # the page lists gradkit.sklearn too
    spec = importlib.util.spec_from_file_location("gen_api", DOCS / "gen_api.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert (DOCS / "api.md").read_text() == gen.render(), (
        "docs/api.md is out of date: run python docs/gen_api.py")
