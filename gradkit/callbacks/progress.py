"""`ProgressBar`: fit's verbose output as a callback (Lightning's idea).

With verbose=1 the form follows where the output goes:
- a terminal of known width: a bar per epoch (tqdm when installed, else a built-in one),
  redrawn in place a few times a second. The live line keeps within the width: it
  abbreviates the running metrics (`loss 0.1234 acc 0.9612`) and then drops the last ones,
  rather than squeeze the bar or cut a number. The lines an epoch leaves show every metric in
  full, wrapped onto indented lines when they do not fit beside the bar.
- a Jupyter notebook (the stdout of an IPython kernel): a notebook bar per epoch, one output
  updated in place: tqdm's widget when tqdm and ipywidgets are installed, else a built-in
  HTML bar.
- anything else (CI logs, files, pipes, a terminal that reports no width): one plain line
  per epoch, no carriage returns.
verbose=2 prints plain lines everywhere. Each refresh reads the running values from the
device once. The epoch time includes validation; samples/s counts the training batches only.
"""

from __future__ import annotations

import html
import os
import sys
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, TextIO

from .base import Callback, Logs

SKIP = ("batch", "size", "lr")  # batch log entries that are not metrics
MIN_BAR = 10  # columns the terminal bar keeps before the metrics are abbreviated or dropped
#: Abbreviations of the live terminal line, applied in order to each metric's name.
SHORT_NAMES = (("accuracy", "acc"), ("precision", "prec"), ("recall", "rec"),
               ("mean_squared_error", "mse"), ("mean_absolute_error", "mae"),
               ("categorical_", "cat_"), ("sparse_", ""))
_TQDM_FORMAT = "{desc} {bar} {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"


def _parts(logs: Mapping[str, Any], skip: Collection[str] = SKIP) -> list[str]:
    return [f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}"
            for key, value in logs.items() if key not in skip]


def format_logs(logs: Mapping[str, Any], skip: Collection[str] = SKIP) -> str:
    """'loss: 0.1234 - accuracy: 0.9612 - ...' (floats to 4 decimals)."""
    return " - ".join(_parts(logs, skip))


def short_parts(logs: Mapping[str, Any], digits: int = 4) -> list[str]:
    """['loss 0.1234', 'acc 0.9612', ...]: abbreviated names (SHORT_NAMES), floats to
    `digits` significant digits; the entries of SKIP left out."""
    parts = []
    for key, value in logs.items():
        if key in SKIP:
            continue
        for long, short in SHORT_NAMES:
            key = key.replace(long, short)
        parts.append(f"{key} {value:.{digits}g}" if isinstance(value, float) else
                     f"{key} {value}")
    return parts


def fit_text(options: list[tuple[str, list[str]]], room: int) -> str:
    """The first option (separator, parts) whose joined text fits in `room` columns, else
    the leading parts of the last one that fit (whole parts: never a cut number)."""
    for sep, parts in options:
        if len(sep.join(parts)) <= room:
            return sep.join(parts)
    sep, parts = options[-1]
    while parts and len(sep.join(parts)) > room:
        parts = parts[:-1]
    return sep.join(parts)


def wrap_parts(parts: list[str], width: int, indent: str = "  ", sep: str = " - ") -> list[str]:
    """`parts` joined by `sep` into lines of at most `width` columns, each starting with
    `indent` (a part longer than a line gets a line of its own)."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(indent + part)
    return lines


def terminal_width(stream: Any) -> int | None:
    """Columns of the terminal `stream` writes to: what the terminal reports, else $COLUMNS.
    A terminal-like stream without a file descriptor counts as 80 columns (as
    shutil.get_terminal_size assumes); None when a terminal reports no width (0 columns, as
    some pseudo-terminals and serial consoles do) and $COLUMNS does not say either."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        fd = None
    cols = 0
    if fd is not None:
        try:
            cols = os.get_terminal_size(fd).columns
        except (OSError, ValueError):
            cols = 0
    if cols > 0:
        return cols
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return 80 if fd is None else None


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel with a notebook front end (Jupyter, VS Code,
    Colab), not in terminal IPython, qtconsole or Spyder (tqdm.autonotebook's test)."""
    if "ipykernel.zmqshell" not in sys.modules:
        return False
    if any(k == "QT_API" or k.startswith("SPYDER") for k in os.environ):
        return False
    get = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get() if callable(get) else None
    name = type(shell).__name__.lower()
    return shell is not None and "qt" not in name and "spyder" not in name


def _tqdm():
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


def _notebook_tqdm():
    """tqdm's notebook widget bar when tqdm and ipywidgets are installed, else None."""
    try:
        from tqdm import notebook
    except ImportError:
        return None
    return notebook.tqdm if getattr(notebook, "IProgress", None) is not None else None


def _display() -> Callable:
    from IPython.display import display  # only called in a Jupyter kernel

    return display


def _ascii_bar(n: int, total: int, width: int) -> str:
    done = min(int(width * n / total) if total else width, width)
    return "=" * done + ">" * (done < width) + "." * max(width - done - 1, 0)


class _LineBar:
    """A single-line terminal bar for when tqdm is missing: at most `ncols` columns."""

    def __init__(self, total: int, desc: str, stream: TextIO) -> None:
        self.total, self.desc, self.stream, self.n, self.postfix = total, desc, stream, 0, ""
        self.ncols: int | None = None
        self._t0 = time.perf_counter()

    def update(self, k: int) -> None:
        self.n += k

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text
        if refresh:
            self.refresh()

    def line(self) -> str:
        tail = f" {self.n}/{self.total} {time.perf_counter() - self._t0:.1f}s"
        tail += f" - {self.postfix}" if self.postfix else ""
        width = min(24, (self.ncols or 80) - len(self.desc) - len(tail) - 3)
        bar = f" [{_ascii_bar(self.n, self.total, width)}]" if width >= 3 else ""
        return (self.desc + bar + tail)[:self.ncols]

    def refresh(self) -> None:
        self.stream.write(f"\r{self.line()}\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        self.refresh()
        self.stream.write("\n")
        self.stream.flush()


class _Rich:
    """What IPython displays: `html` in a notebook, `text` where only plain text shows."""

    def __init__(self, html_text: str, text: str) -> None:
        self.html, self.text = html_text, text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


class _HTMLBar(_LineBar):
    """A notebook bar without ipywidgets: one display output, updated in place."""

    def __init__(self, total: int, desc: str, display: Callable) -> None:
        super().__init__(total, desc, sys.stdout)
        self._handle = display(self._view(), display_id=True)

    def _view(self) -> _Rich:
        tail = f"{self.n}/{self.total} {time.perf_counter() - self._t0:.1f}s"
        tail += f" - {self.postfix}" if self.postfix else ""
        bar = (f'<progress value="{self.n}" max="{self.total}" '
               'style="width: 14em; vertical-align: middle"></progress>')
        page = (f'<div style="font-family: monospace; white-space: pre-wrap">'
                f"{html.escape(self.desc)} {bar} {html.escape(tail)}</div>")
        return _Rich(page, f"{self.desc} [{_ascii_bar(self.n, self.total, 24)}] {tail}")

    def refresh(self) -> None:
        self._handle.update(self._view())

    def close(self) -> None:
        self.refresh()


class ProgressBar(Callback):
    """Per-epoch progress of fit (see the module docstring). `stream` defaults to stdout;
    `refresh` is the minimum time between bar updates in seconds."""

    main_process_only = True  # prints: rank 0 only in a distributed fit

    def __init__(self, verbose: int = 1, stream: TextIO | None = None,
                 refresh: float = 0.25) -> None:
        super().__init__()
        self.verbose, self.stream, self.refresh = verbose, stream, refresh
        self.mode, self.bar_mode = "lines", False  # mode: "terminal", "notebook" or "lines"
        self._bar: Any = None  # a tqdm bar, a _LineBar or an _HTMLBar
        self._t0: float | None = None
        self._train_s: float | None = None
        self._width, self._fixed = 80, 0  # terminal columns; those the bar line's text takes

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _pick_mode(self) -> str:
        out = self._out()
        if self.verbose != 1 or not self.params.get("steps"):
            return "lines"
        if type(out).__module__.startswith("ipykernel.") and in_notebook():
            return "notebook"  # the kernel's own stdout, not a file or a redirection
        if not getattr(out, "isatty", lambda: False)():
            return "lines"
        width = terminal_width(out)
        if width is None:  # a bar would wrap at an unknown column: plain lines instead
            return "lines"
        self._width = width
        return "terminal"

    def on_train_begin(self, logs: Logs = None) -> None:
        self.mode = self._pick_mode()
        self.bar_mode = self.mode != "lines"
        self.batch_hooks = self.bar_mode

    def _new_bar(self, desc: str, steps: int) -> Any:
        if self.mode == "notebook":
            widget = _notebook_tqdm()
            if widget is not None:
                return widget(total=steps, desc=desc, unit="batch", leave=True)
            return _HTMLBar(steps, desc, _display())
        tqdm = _tqdm()
        if tqdm is None:
            self._fixed = len(desc) + len(f" [] {steps}/{steps} 9999.9s - ")
            bar = _LineBar(steps, desc, self._out())
            bar.ncols = self._width - 1
            return bar
        self._fixed = len(desc) + len(f"  {steps}/{steps} [00:00:00<00:00:00, ]")
        return tqdm(total=steps, desc=desc, unit="batch", file=self._out(), leave=True,
                    ncols=self._width - 1, mininterval=self.refresh, bar_format=_TQDM_FORMAT)

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        self._t0 = self._last = time.perf_counter()
        self._seen, self._pending, self._train_s = 0, 0, None
        if self.bar_mode:
            desc = f"Epoch {epoch + 1}/{self.params.get('epochs')}"
            self._bar = self._new_bar(desc, self.params["steps"])

    def _room(self) -> int:
        """Columns left for the metrics on the terminal bar line (following resizes)."""
        self._width = terminal_width(self._out()) or self._width
        self._bar.ncols = self._width - 1  # the last column would wrap on some terminals
        return self._width - 1 - self._fixed - MIN_BAR

    def _live(self, logs: Mapping[str, Any], rate: float) -> str:
        values = dict(logs.items())  # one read of the running values
        full = [*_parts(values), f"{rate:,.0f} samples/s"]
        if self.mode != "terminal":
            return " - ".join(full)
        return fit_text([(" - ", full), (" ", [*short_parts(values), f"{rate:,.0f}/s"]),
                         (" ", short_parts(values, 3))], self._room())

    def on_batch_end(self, batch: int, logs: Logs = None) -> None:
        assert logs is not None  # fit passes each batch's logs
        self._seen += logs["size"]
        self._pending += 1
        now = time.perf_counter()
        assert self._t0 is not None  # set by on_epoch_begin
        if now - self._last >= self.refresh:
            self._last = now
            text = self._live(logs, self._seen / max(now - self._t0, 1e-9))
            self._bar.update(self._pending)
            self._pending = 0
            self._bar.set_postfix_str(text)

    def on_test_begin(self, logs: Logs = None) -> None:
        if self._t0 is not None and self._train_s is None:  # validation inside an epoch
            self._train_s = time.perf_counter() - self._t0

    def _close_bar(self, rate: str, logs: Mapping[str, Any]) -> None:
        """The bar's final state; in a terminal, the metrics that do not fit beside it go
        on indented lines below."""
        metrics, extra = _parts(logs), []
        text = " - ".join([rate, *metrics])
        if self.mode == "terminal" and len(text) > self._room():
            text, extra = rate, wrap_parts(metrics, self._width - 1)
        self._bar.update(self._pending)
        self._bar.set_postfix_str(text, refresh=False)
        self._bar.close()
        self._bar = None
        if extra:
            out = self._out()
            out.write("\n".join(extra) + "\n")
            out.flush()

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        assert self._t0 is not None  # set by on_epoch_begin
        elapsed = time.perf_counter() - self._t0
        train_s = elapsed if self._train_s is None else self._train_s
        samples = self._seen if self.bar_mode else self.params.get("samples") or 0
        rate = f"{samples / max(train_s, 1e-9):,.0f} samples/s"
        if self._bar is not None:
            self._close_bar(rate, logs or {})
            return
        out = self._out()
        out.write(f"Epoch {epoch + 1}/{self.params.get('epochs')} - {elapsed:.1f}s - "
                  f"{rate} - {format_logs(logs or {})}\n")
        out.flush()

    def on_train_end(self, logs: Logs = None) -> None:
        if self._bar is not None:  # stopped inside an epoch
            self._bar.close()
            self._bar = None
        self._t0 = None
