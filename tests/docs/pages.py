"""The translated pages (docs/bn/, docs/mr/), the English text each one translates, and the
fenced code blocks of a page: shared by test_docs.py and test_translations.py."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
LANGS = ("bn", "mr")
# The English pages that have a Bengali and a Marathi version, under the same name in
# docs/<lang>/. index.md translates the README's first screen (everything before its
# "## Learn more"), not docs/index.md.
PAGES = ("index.md", "getting-started.md", "tensors.md", "modules.md", "training.md",
         "overfitting.md", "lessons.md")
README_END = "\n## Learn more"
FENCE = re.compile(r"^(<!--\s*no-test\s*-->\s*\n)?```([^\n]*)\n(.*?)^```[ \t]*$", re.S | re.M)


def english_text(page: str) -> str:
    """The English text that docs/<lang>/<page> translates."""
    if page == "index.md":
        readme = (ROOT / "README.md").read_text()
        return readme[:readme.index(README_END)] if README_END in readme else readme
    return (DOCS / page).read_text()


def fences(text: str) -> list[tuple[bool, str, str]]:
    """Every fenced block of a page, in order: (marked no-test, info string, body)."""
    return [(bool(m.group(1)), m.group(2).strip(), m.group(3)) for m in FENCE.finditer(text)]


def translated_pages() -> list[Path]:
    """Every page of docs/bn/ and docs/mr/."""
    return [p for lang in LANGS for p in sorted((DOCS / lang).glob("*.md"))]
