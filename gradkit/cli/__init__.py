"""The `gradkit` command (also `python -m gradkit`).

    gradkit train --dataset mnist --out runs/mnist      train, write model + report.html
    gradkit evaluate runs/mnist/model.safetensors       test loss and accuracy
    gradkit predict runs/mnist/model.safetensors digit.png
    gradkit bench [--quick]                             the performance benchmark
    gradkit data list | verify | remove NAME | fetch NAME   the dataset cache

`main(argv)` returns the exit code: 0 on success, 2 for a mistake in the command line or its
files (one line on stderr, no traceback), 1 when the work itself failed (e.g. MNIST cannot be
found: the message says where it looked), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys

from .._version import __version__
from ..datasets import DatasetUnavailable
from . import bench, datacmd, inference, train
from .common import CLIError, HelpFormatter, Parser

__all__ = ["main", "build_parser", "CLIError"]

DESCRIPTION = """\
gradkit: a light neural-network framework on NumPy (CPU) and CuPy (GPU).

Train a network on MNIST and look at its report:
  gradkit train --dataset mnist --out runs/mnist
  open runs/mnist/report.html

See what the dataset cache holds (and where): gradkit data list
"""


def build_parser() -> Parser:
    parser = Parser(prog="gradkit", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"gradkit {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = False
    train.add_parser(sub)
    inference.add_parsers(sub)
    bench.add_parser(sub)
    datacmd.add_parser(sub)
    for choice in sub.choices.values():
        choice.formatter_class = HelpFormatter
    return parser


def _version() -> str:
    return __version__


def main(argv: list[str] | None = None) -> int:
    """Run the `gradkit` command with `argv` (default: sys.argv[1:]); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":  # everything after `bench` belongs to the benchmark
        return _guard("bench", lambda: bench.run(argparse.Namespace(bench_args=argv[1:])))
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return _guard(args.command, lambda: args.run(args))


def _guard(command: str, fn) -> int:
    """Run a subcommand, turning expected failures into messages and exit codes."""
    try:
        code = fn()
    except CLIError as exc:
        print(f"gradkit {command}: error: {exc}", file=sys.stderr)
        return exc.code
    except DatasetUnavailable as exc:
        print(f"gradkit {command}: the dataset could not be found.\n{exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\ngradkit {command}: interrupted"
              + (" (continue with the same command and --resume)" if command == "train"
                 else ""), file=sys.stderr)
        return 130
    except BrokenPipeError:  # `gradkit predict ... | head -1`: the reader is gone, as for cat
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's flush at exit then writes nowhere
        return 141  # 128 + SIGPIPE, what a shell reports for a pipe closed early
    return 0 if code is None else int(code)
