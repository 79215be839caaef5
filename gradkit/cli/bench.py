"""`gradkit bench`: runs the benchmark suite of a source checkout (`benchmarks/suite/`).

The suite compares gradkit with PyTorch, jax.jit, Keras 3 on JAX and a hand-written NumPy
loop; it is not part of the installed package, so this command looks for a
`benchmarks/suite` folder in the current directory and next to the package (an editable
install from a clone), and runs it. Its report starts with the machine and gradkit's GEMM
library (gradkit/backend/gemm.py) with the probe's measured rates.

`gradkit bench --gemm` (works in any install) prints only that: the GEMM library in use, why,
and each installed library's rates against NumPy's BLAS; `--gemm --reprobe` measures again.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

from ..backend import config, gemm
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
        "bench", help="run the performance benchmark (gradkit vs PyTorch, JAX, NumPy)",
        description="Run gradkit's performance benchmark (benchmarks/suite in a source "
                    "checkout); every argument is passed on to it: see 'gradkit bench --help' "
                    "for its own options (e.g. --quick for a smoke run). 'gradkit bench "
                    "--gemm [--reprobe]' prints the GEMM library in use and its measured "
                    "rates.", add_help=False)
    p.add_argument("bench_args", nargs="*", metavar="ARGS")
    p.set_defaults(run=run)


def gemm_report(reprobe: bool = False) -> int:
    """Print the GEMM seam's choice and the probe's rates (measured again with `reprobe`)."""
    if reprobe:
        print("gradkit bench: measuring the installed GEMM libraries ...", flush=True)
        gemm.reprobe()
    config.show_config()
    return 0


def run(args: argparse.Namespace) -> int:
    argv = list(args.bench_args)
    if "--gemm" in argv:
        unknown = [a for a in argv if a not in ("--gemm", "--reprobe")]
        if unknown:
            raise CLIError(f"--gemm takes only --reprobe, got {' '.join(unknown)}")
        return gemm_report("--reprobe" in argv)
    result = load_suite().main(argv, prog="gradkit bench")
    return result if isinstance(result, int) else 0
