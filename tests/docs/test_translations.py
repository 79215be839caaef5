"""The Bengali (docs/bn/) and Marathi (docs/mr/) pages: each listed English page has both,
their code blocks are the English page's byte for byte (test_docs.py runs them), their prose is
in their language, they use the terms of docs/glossary.md, their links resolve, the lessons
page's notebook table matches examples/notebooks/ (and examples/notebooks/<lang>/), and the
site builds with them. tests/notebooks/test_translated_notebooks.py checks the translated
notebooks with the helpers here."""

from __future__ import annotations

import logging
import re

import pytest

from .pages import DOCS, LANGS, PAGES, ROOT, english_text, fences

CASES = [(lang, page) for lang in LANGS for page in PAGES]
IDS = [f"{lang}/{page}" for lang, page in CASES]
# Both languages end sentences with the danda (U+0964), which Unicode puts in Devanagari: it
# counts as neither script.
BENGALI, DEVANAGARI = r"\u0980-\u09ff", r"\u0900-\u0963\u0966-\u097f"
SCRIPT = {"bn": re.compile(f"[{BENGALI}]"), "mr": re.compile(f"[{DEVANAGARI}]")}
OTHER_WORD = {"bn": re.compile(f"[{DEVANAGARI}]+"), "mr": re.compile(f"[{BENGALI}]+")}
LANGUAGE_NAMES = {"বাংলা", "मराठी"}  # each page names the other language in its switch note
LATIN = re.compile(r"[A-Za-z]")
INLINE_CODE = re.compile(r"`[^`]+`")
LINK_TARGET = re.compile(r"\]\(([^)\s]*)\)")
VOWEL_SIGN_END = re.compile(r"[\u09be-\u09cc\u093e-\u094c]$")  # া ি ... ৌ, ा ि ... ौ
NOTEBOOKS = ROOT / "examples" / "notebooks"
EXISTS, COMING = "✅", "⏳"


def page_text(lang: str, page: str) -> str:
    path = DOCS / lang / page
    if not path.is_file():
        pytest.fail(f"docs/{lang}/{page} is missing: translate docs/{page}")
    return path.read_text()


def prose(text: str) -> str:
    """The page without its code blocks, inline code and link targets."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    return LINK_TARGET.sub("]", INLINE_CODE.sub(" ", text))


def uses(text: str, term: str) -> re.Match[str] | None:
    """Where text uses term, inflected: each word may lose its last vowel sign and take
    endings (Marathi धडा -> धड्यांचे, छुपा स्तर -> छुप्या स्तरांनंतर; Bengali স্তর -> স্তরগুলো)."""
    stems = [re.escape(VOWEL_SIGN_END.sub("", word)) for word in term.split()]
    return re.search(r"\S*\s+".join(stems), text)


def glossary() -> list[dict[str, str]]:
    """The rows of docs/glossary.md's table: {"en": ..., "bn": ..., "mr": ...}."""
    rows = []
    for line in (DOCS / "glossary.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 3 and cells[0] not in ("English", "---"):
            rows.append(dict(zip(("en", "bn", "mr"), cells)))
    return rows


@pytest.mark.parametrize("lang", LANGS)
def test_every_listed_page_has_a_translation(lang):
    missing = [page for page in PAGES if not (DOCS / lang / page).is_file()]
    assert not missing, f"docs/{lang}/ lacks {missing}"


@pytest.mark.parametrize(("lang", "page"), CASES, ids=IDS)
def test_code_blocks_are_the_english_pages(lang, page):
    ours, english = fences(page_text(lang, page)), fences(english_text(page))
    for i, (a, b) in enumerate(zip(ours, english)):
        assert a == b, f"docs/{lang}/{page}: code block {i + 1} is not the English one:\n{b[2]}"
    assert len(ours) == len(english), (
        f"docs/{lang}/{page} has {len(ours)} code blocks, the English page {len(english)}")


@pytest.mark.parametrize(("lang", "page"), CASES, ids=IDS)
def test_prose_is_in_its_language(lang, page):
    problems = script_problems(lang, prose(page_text(lang, page)))
    assert not problems, f"docs/{lang}/{page}: {problems}"


def test_glossary_has_each_language_in_its_column():
    rows = glossary()
    assert len(rows) >= 20
    for row in rows:
        assert LATIN.search(row["en"]) and not SCRIPT["bn"].search(row["en"]), row
        for lang in LANGS:
            letters = row[lang].replace(" ", "").replace("-", "")
            assert letters and all(SCRIPT[lang].match(c) for c in letters), (lang, row)
    english = [row["en"] for row in rows]
    assert len(set(english)) == len(english), "a term is listed twice"


@pytest.mark.parametrize("lang", LANGS)
def test_every_glossary_term_is_used(lang):
    text = "\n".join(prose(page_text(lang, page)) for page in PAGES)
    unused = [(row["en"], row[lang]) for row in glossary() if not uses(text, row[lang])]
    assert not unused, f"docs/{lang}/ never uses these glossary terms: {unused}"


def script_problems(lang: str, text: str) -> list[str]:
    """What is wrong with prose meant to be in lang: fewer letters in its script than Latin
    ones, or words in the other language's script (the language switch's names aside)."""
    own, latin = len(SCRIPT[lang].findall(text)), len(LATIN.findall(text))
    problems = [] if own > latin else [f"{own} letters in its script, {latin} Latin ones"]
    stray = set(OTHER_WORD[lang].findall(text)) - LANGUAGE_NAMES
    return problems + ([f"words in the other language's script: {stray}"] if stray else [])


def misused_terms(lang: str, text: str) -> list[str]:
    """Each 'X (loss)' of text where X is not the glossary's word for loss (within the few
    words before the bracket)."""
    terms = {row["en"].lower(): row[lang] for row in glossary()}
    wrong = []
    for m in re.finditer(r"\(([A-Za-z][A-Za-z -]*)\)", text):
        word = m.group(1).lower()
        term = next((t for t in (word, word[:-1], word[:-2]) if t in terms), None)
        if term and not uses(text[max(0, m.start() - 40):m.start()], terms[term]):
            wrong.append(text[max(0, m.start() - 40):m.end()].replace("\n", " "))
    return wrong


@pytest.mark.parametrize(("lang", "page"), CASES, ids=IDS)
def test_bracketed_english_terms_follow_the_glossary(lang, page):
    """'X (loss)': X is the glossary's word for loss (within the few words before)."""
    wrong = misused_terms(lang, prose(page_text(lang, page)))
    assert not wrong, f"docs/{lang}/{page}: not the glossary's word before the bracket: {wrong}"


@pytest.mark.parametrize(("lang", "page"), CASES, ids=IDS)
def test_links_resolve(lang, page):
    path = DOCS / lang / page
    broken = []
    for target in LINK_TARGET.findall(page_text(lang, page)):
        target = target.split("#")[0]
        if target and "://" not in target and not (path.parent / target).resolve().exists():
            broken.append(target)
    assert not broken, f"docs/{lang}/{page} links to missing files: {broken}"


@pytest.mark.parametrize("lang", LANGS)
def test_notebook_table_matches_the_notebooks(lang):
    rows = [line for line in page_text(lang, "lessons.md").splitlines()
            if line.startswith("|") and (EXISTS in line or COMING in line)]
    listed = {name: EXISTS in row for row in rows
              for name in re.findall(r"`(\d\d_[a-z0-9_]+)`", row)}
    assert rows and listed, f"docs/{lang}/lessons.md has no notebook table"
    existing = {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    assert not existing - set(listed), f"add to docs/{lang}/lessons.md: {existing - set(listed)}"
    stale = {name for name, done in listed.items() if done != (name in existing)}
    assert not stale, (f"docs/{lang}/lessons.md: mark {EXISTS} the notebooks that exist and "
                       f"{COMING} those that do not yet: {sorted(stale)}")
    # the notebooks in the page's language, examples/notebooks/<lang>/, in the same table
    named = set(re.findall(rf"`{lang}/(\d\d_[a-z0-9_]+)`", "\n".join(rows)))
    translated = {p.stem for p in (NOTEBOOKS / lang).glob("[0-9][0-9]_*.ipynb")}
    assert translated, f"examples/notebooks/{lang}/ has no notebook"
    assert named == translated, (f"docs/{lang}/lessons.md's table lists {sorted(named)} in "
                                 f"{lang}, examples/notebooks/{lang}/ has {sorted(translated)}")


def test_site_builds_with_the_translations(tmp_path, monkeypatch, caplog):
    pytest.importorskip("mkdocs_static_i18n", reason="pip install -e '.[docs]'")
    pytest.importorskip("material", reason="pip install -e '.[docs]'")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    site = tmp_path / "site"
    with caplog.at_level(logging.WARNING):
        build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(site)))
    ours = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
            and re.search(r"\b(bn|mr)/|glossary|i18n", r.getMessage())]
    assert not ours, ours
    for lang in LANGS:
        for page in PAGES:
            built = site / lang / ("" if page == "index.md" else page[:-3]) / "index.html"
            html = built.read_text()
            assert f'<html lang="{lang}"' in html, built
            assert all(f'hreflang="{other}"' in html for other in ("en", *LANGS)), built
