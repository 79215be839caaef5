"""What every `gradkit` subcommand shares: one-line errors, argument checks, run files.

A user mistake (a bad option value, a missing file, an `--out` that is a file) ends the
command with exit code 2 and one line on stderr, `gradkit <command>: error: <what to do>`,
never a traceback. A failure that is not the user's mistake in the command line (the data
cannot be found) ends with exit code 1 and the message that says how to fix it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, NoReturn, TextIO

from ..backend.devices import parse_device
from ..errors import DeviceError
from ..io import ConfigError, FormatError, atomic_write_bytes
from ..io import load as gk_load
from ..nn import Module

RUN_FILE = "run.json"  # settings, preprocessing and results of a run, beside its model
MODEL_FILE = "model.safetensors"
CHECKPOINT_FILE = "checkpoint.safetensors"
MAX_RUN_FILE_BYTES = 16 << 20  # a run.json is a few kB

USAGE_ERROR = 2
RUNTIME_ERROR = 1


class CLIError(Exception):
    """A mistake in the command line or its files: printed as one line, exit code 2."""

    code = USAGE_ERROR


class CLIFailure(CLIError):
    """The command could not do its work (e.g. missing data): printed, exit code 1."""

    code = RUNTIME_ERROR


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (plus where to find help), exit code 2."""

    def error(self, message: str) -> NoReturn:  # noqa: D401 - argparse's hook
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's line breaks (the examples stay readable)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


# ---- argument types (argparse turns ArgumentTypeError into a one-line error) ---------------
def _whole(text: str, low: int) -> int:
    """`text` as an int >= low (low is 0 or 1), else an ArgumentTypeError."""
    bound = "> 0" if low == 1 else ">= 0"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number {bound}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _whole(text, 1)


def non_negative_int(text: str) -> int:
    return _whole(text, 0)


MAX_SEED = 2**63 - 1


def seed_value(text: str) -> int:
    """A random seed: a whole number in [0, 2**63 - 1]."""
    value = _whole(text, 0)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be at most 2**63 - 1, got {text}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def fraction(text: str) -> float:
    """A number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def hidden_sizes(text: str) -> list[int]:
    """'512,512' -> [512, 512]; '' or 'none' -> [] (no hidden layer: softmax regression)."""
    cleaned = text.strip().lower()
    if cleaned in ("", "none", "0"):
        return []
    sizes = []
    for part in cleaned.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) <= 0:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated layer widths > 0 such as 512,512 (or 'none'), "
                f"got {text!r}")
        sizes.append(int(part))
    return sizes


def device_name(text: str) -> str:
    try:
        kind, index = parse_device(text)
    except DeviceError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return "cpu" if kind == "cpu" else f"cuda:{index}"


# ---- files ------------------------------------------------------------------------------
def check_model_path(path: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise CLIError(f"model file '{path}' does not exist (train one with 'gradkit train "
                       "--out DIR'; the model is DIR/model.safetensors)")
    if p.is_dir():
        if (p / MODEL_FILE).is_file():
            return p / MODEL_FILE
        raise CLIError(f"'{path}' is a folder without a {MODEL_FILE}; give the model file")
    return p


def load_model(path: Path, device: str = "cpu") -> Module:
    """gk.load(path) with one-line errors for files that are not gradkit models."""
    try:
        return gk_load(path, device=None if device == "cpu" else device)
    except (FormatError, ConfigError, OSError, ValueError, KeyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CLIError(f"cannot read the model '{path}': {first}") from None


def read_run_info(model_path: Path) -> dict | None:
    """The run.json beside a model file (written by `gradkit train`), or None."""
    info = model_path.with_name(RUN_FILE)
    if not info.is_file():
        return None
    try:
        data = read_run_json(info)
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read {info}: {first_line(exc)}") from None
    return data if isinstance(data, dict) else None


def read_run_json(path: Path) -> Any:
    """A run.json's content; ValueError for one larger than gradkit writes or not JSON."""
    size = path.stat().st_size
    if size > MAX_RUN_FILE_BYTES:
        raise ValueError(f"{size:,} bytes, more than a run.json that gradkit train writes "
                         f"({MAX_RUN_FILE_BYTES:,} at most)")
    try:
        return json.loads(path.read_text())
    except RecursionError:
        raise ValueError("nested too deeply") from None


def write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, allow_nan=True) + "\n").encode())
    readable(path)


def readable(path: Path) -> None:
    """Atomic writes create files 0600; give them the usual permissions (the umask's)."""
    mask = os.umask(0)
    os.umask(mask)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o666 & ~mask)


def say(*parts: object, file: TextIO | None = None) -> None:
    print(*parts, file=file or sys.stdout, flush=True)


def note(text: str) -> None:
    print(f"note: {text}", file=sys.stderr, flush=True)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def write_history(out: Path, rows: list[dict]) -> None:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    lines = [",".join(keys)]
    lines += [",".join("" if r.get(k) is None else repr(r[k]) for k in keys) for r in rows]
    atomic_write_bytes(out / "history.csv", ("\n".join(lines) + "\n").encode())
    write_json(out / "history.json", {k: [r.get(k) for r in rows] for k in keys})
