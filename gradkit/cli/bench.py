"""`gradkit bench`: runs the benchmark suite of a source checkout (`benchmarks/suite/`).

The suite compares gradkit with PyTorch and a hand-written NumPy loop; it is not part of the
installed package, so this command looks for a `benchmarks/suite` folder in the current
directory and next to the package (an editable install from a clone), and runs it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

from .common import CLIError


def _roots() -> list[Path]:
    return [Path.cwd(), Path(__file__).resolve().parents[2]]


def load_suite() -> ModuleType:
    """The `benchmarks.suite` package of the checkout (CLIError when there is none)."""
    for root in _roots():
        if (root / "benchmarks" / "suite" / "__init__.py").is_file():
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))
            return importlib.import_module("benchmarks.suite")
    raise CLIError("gradkit bench runs the benchmarks of a source checkout (they are not in "
                   "the installed package): run it from a clone of gradkit's repository, "
                   "where `python -m benchmarks` does the same")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench", help="run the performance benchmark (gradkit vs PyTorch vs NumPy)",
        description="Run gradkit's performance benchmark (benchmarks/suite in a source "
                    "checkout); every argument is passed on to it: see 'gradkit bench --help' "
                    "for its own options (e.g. --quick for a smoke run).", add_help=False)
    p.add_argument("bench_args", nargs="*", metavar="ARGS")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = load_suite().main(list(args.bench_args), prog="gradkit bench")
    return result if isinstance(result, int) else 0
