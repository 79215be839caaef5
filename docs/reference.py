"""The API reference pages, docs/reference/*.md: one page per module of docs/gen_api.py's
MODULES, rendered from the docstrings by mkdocstrings when the site is built.

    python docs/reference.py          # rewrite docs/reference/*.md
    python docs/reference.py --check  # exit 1 if a page is out of date (the tests do this)

The pages hold only mkdocstrings directives (`::: gradkit.nn`); what they show comes from the
code. `gradkit`'s own page lists its members explicitly (they are re-exported names, which
mkdocstrings would otherwise leave out) and documents the names loaded on first use (gk.save,
gk.compile, ...) or named like a submodule (gk.tensor) where they are defined.

mkdocs also loads this file as a hook (mkdocs.yml `hooks:`): the Bengali and Marathi sites get
a short page pointing to the English reference instead of a second and third copy of it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "reference"


def _gen_api():
    spec = importlib.util.spec_from_file_location("gen_api", DOCS / "gen_api.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _module_page(name: str) -> str:
    real = importlib.import_module(name).__name__  # gradkit.onnx is gradkit.io.onnx
    also = "" if real == name else f"\n(`{name}` is `{real}`.)\n"
    return f"# `{name}`\n{also}\n::: {real}\n"


def _top_page(gen) -> str:
    import gradkit

    names = gen.public_names(gradkit)
    pkg = Path(gradkit.__file__).parent
    # loaded on first use, or named like a submodule (gk.tensor, the function, vs
    # gradkit/tensor.py): documented where they are defined
    lazy = [n for n in names if n in getattr(gradkit, "_LAZY", {})
            or (pkg / f"{n}.py").is_file() or (pkg / n).is_dir()]
    members = "".join(f"        - {n}\n" for n in names if n not in lazy)
    parts = ["# `gradkit`\n",
             "What `import gradkit as gk` gives (a one-line summary of every name is in "
             "[every public name](../api.md)).\n",
             f"::: gradkit\n    options:\n      members:\n{members}"]
    if lazy:
        parts.append("## Also `gk.<name>`\n\nDefined in submodules (some loaded on first use).\n")
        for n in lazy:
            obj = getattr(gradkit, n)
            parts.append(f"::: {obj.__module__}.{obj.__qualname__}\n    options:\n"
                         "      show_root_heading: true\n      heading_level: 3\n")
    return "\n".join(parts)


def render() -> dict[str, str]:
    """File name -> content of every reference page."""
    gen = _gen_api()
    return {f"{name}.md": _top_page(gen) if name == "gradkit" else _module_page(name)
            for name in gen.MODULES}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true")
    args = p.parse_args(argv)
    pages = render()
    stale = sorted(set(pages) ^ {p.name for p in OUT.glob("*.md")}
                   | {n for n, t in pages.items()
                      if not (OUT / n).is_file() or (OUT / n).read_text() != t})
    if args.check:
        if stale:
            print(f"docs/reference/ is out of date ({', '.join(stale)}): run python "
                  "docs/reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.mkdir(exist_ok=True)
    for p_ in OUT.glob("*.md"):
        if p_.name not in pages:
            p_.unlink()
    for name, text in pages.items():
        (OUT / name).write_text(text)
    print(f"wrote {len(pages)} pages into {OUT}")
    return 0


# ---- mkdocs hook ----------------------------------------------------------------------------
def on_page_markdown(markdown: str, page, config, files) -> str:
    """On the translated sites, a reference page points to the English one (not rendered
    again: the API's docstrings are in English)."""
    lang = getattr(page.file, "locale_alternate_of", None)
    if lang in (None, "en") or not page.file.src_uri.startswith("reference/"):
        return markdown
    title = markdown.splitlines()[0] if markdown else "# API reference"
    target = "../" * page.file.url.count("/") + page.file.url.split("/", 1)[1]
    return (f"{title}\n\nThe API reference is in English, generated from the docstrings: "
            f"[{title.lstrip('# ')}]({target}).\n")


if __name__ == "__main__":
    sys.exit(main())
