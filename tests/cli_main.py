"""Running `gradkit` in-process in a test: (exit code, stdout, stderr)."""

from __future__ import annotations

from gradkit.cli import main


def run_main(argv: list[str], capsys) -> tuple:
    """`gradkit ARGV` through `gradkit.cli.main`, with what it printed (capsys)."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err
