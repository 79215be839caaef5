"""The progress bar on terminals of 80 and 120 columns (tqdm and the built-in bar), on a
real pseudo-terminal, and its plain lines where the width is unknown or the output is not a
terminal. A small terminal emulator replays the output to check what a user would see."""

import io
import os
import re
import threading

import pytest

from gradkit import nn, optim
from gradkit.callbacks import ProgressBar, progress

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
FD = 987  # the fake terminals' file descriptor


class FakeTerminal(io.StringIO):
    """A terminal-like stream whose descriptor reports `columns` (see `sized`)."""

    def __init__(self, columns):
        super().__init__()
        self.columns = columns

    def isatty(self):
        return True

    def fileno(self):
        return FD


@pytest.fixture
def sized(monkeypatch):
    """Make os.get_terminal_size answer for FakeTerminal's descriptor; no $COLUMNS."""
    monkeypatch.delenv("COLUMNS", raising=False)
    real = os.get_terminal_size
    state = {}

    def fake(fd=None):
        if fd == FD:
            return os.terminal_size((state["columns"], 24))
        return real(fd) if fd is not None else real()

    monkeypatch.setattr(os, "get_terminal_size", fake)

    def make(columns):
        state["columns"] = columns
        return FakeTerminal(columns)

    return make


@pytest.fixture(params=["tqdm", "built-in"])
def bar_kind(request, monkeypatch):
    if request.param == "tqdm":
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setattr(progress, "_tqdm", lambda: None)
    return request.param


def _fit(blobs, stream, epochs=2, refresh=0.0, **kwargs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 3))
    model.compile(optim.SGD(model.parameters(), lr=0.1), "cross_entropy", ["accuracy"])
    bar = ProgressBar(stream=stream, refresh=refresh, **kwargs)
    model.fit(x, y, epochs=epochs, batch_size=8, validation_split=0.2, callbacks=[bar],
              verbose=0)
    return bar


def screen(text, width):
    """The rows a terminal of `width` columns shows after `text`: carriage return, line
    feed (as CR LF), erase to the end of the line (ESC [ K) and wrapping at the last column."""
    rows, r, col, i = [[]], 0, 0, 0
    while i < len(text):
        if text.startswith("\x1b[K", i):
            del rows[r][col:]
            i += 3
            continue
        ch = text[i]
        if ch == "\r":
            col = 0
        elif ch == "\n":
            r, col = r + 1, 0
        else:
            if col >= width:  # the cursor wraps onto the next row
                r, col = r + 1, 0
            while r >= len(rows):
                rows.append([])
            row = rows[r]
            row.extend(" " * (col - len(row)))
            row[col:col + 1] = [ch]
            col += 1
        while r >= len(rows):
            rows.append([])
        i += 1
    shown = ["".join(row).rstrip() for row in rows]
    while shown and not shown[-1]:
        shown.pop()
    return shown


def test_the_emulator_wraps_and_overwrites():
    assert screen("abcdef\rXY\x1b[K\n12345678", 5) == ["abcde", "XY", "12345", "678"]
    assert screen("abc\rZ", 9) == ["Zbc"]


def _written_lines(text):
    """Every line the stream wrote, live redraws included (ESC [ K dropped)."""
    return [s for s in re.split(r"[\r\n]", text.replace("\x1b[K", "")) if s]


@pytest.mark.parametrize("columns", [80, 120])
def test_the_bar_keeps_to_the_width_and_the_metrics_in_view(blobs, sized, bar_kind, columns):
    stream = sized(columns)
    bar = _fit(blobs, stream)
    assert bar.mode == "terminal"
    out = stream.getvalue()
    written = _written_lines(out)
    assert max(len(s) for s in written) <= columns - 1  # never wraps, so \r redraws in place
    live = [s for s in written if re.search(r"\bloss", s) and "val_" not in s]
    assert live, "no live redraw of the bar with the running metrics"
    for line in live:  # running metrics, perhaps abbreviated, but whole numbers
        assert line.startswith("Epoch "), line
        assert re.search(r"\bloss:? \d+(\.\d+)?( |,|$|\])", line), line
        assert re.search(r"\bacc(uracy)?:? \d+(\.\d+)?( |,|$|\])", line), line
        assert not re.search(r"\d\.\]?$", line), line
    rows = screen(out, columns)
    assert len([r for r in rows if r.startswith("Epoch ")]) == 2  # one bar line per epoch
    for epoch in (1, 2):
        start = rows.index(next(r for r in rows if r.startswith(f"Epoch {epoch}/2")))
        block = " ".join(rows[start:start + 3])
        for name in METRICS:  # every metric in full, 4 decimals, nothing cut
            assert re.search(rf"(^| ){name}: \d+\.\d{{4}}( |$)", block), (name, block)
        head = re.match(rf"Epoch {epoch}/2 (.*?) \d+/\d+ ", rows[start])
        assert head and len(head.group(1)) >= progress.MIN_BAR, rows[start]  # a real bar


def test_a_narrow_terminal_drops_whole_metrics_rather_than_cut_numbers(blobs, sized,
                                                                      bar_kind):
    stream = sized(52)
    _fit(blobs, stream)
    written = _written_lines(stream.getvalue())
    assert max(len(s) for s in written) <= 51
    assert all(not re.search(r"\d\.\]?$", s) for s in written)
    assert "val_accuracy: " in stream.getvalue()  # the final lines wrap instead


@pytest.mark.parametrize("reported, env", [(0, None), (0, "0"), (0, "wide")])
def test_an_unknown_width_gives_plain_lines(blobs, sized, monkeypatch, reported, env):
    if env is not None:
        monkeypatch.setenv("COLUMNS", env)
    stream = sized(reported)
    bar = _fit(blobs, stream, epochs=3)
    out = stream.getvalue()
    assert bar.mode == "lines" and "\r" not in out and "\x1b" not in out
    lines = out.split("\n")
    assert lines[-1] == "" and len(lines) == 4 and all(lines[:-1])  # no blank lines
    assert all(line.startswith(f"Epoch {i + 1}/3 - ") for i, line in enumerate(lines[:-1]))


def test_columns_from_the_environment_when_the_terminal_reports_none(blobs, sized,
                                                                      monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    stream = sized(0)
    bar = _fit(blobs, stream)
    assert bar.mode == "terminal" and bar._width == 100
    assert max(len(s) for s in _written_lines(stream.getvalue())) <= 99


def test_a_stream_that_is_not_a_terminal_gets_plain_lines(blobs):
    stream = io.StringIO()
    bar = _fit(blobs, stream, epochs=3)
    out = stream.getvalue()
    assert bar.mode == "lines" and "\r" not in out
    assert len(out.splitlines()) == 3 and "\n\n" not in out


def test_terminal_width(monkeypatch, sized):
    class NoDescriptor(io.StringIO):
        def isatty(self):
            return True

    assert progress.terminal_width(NoDescriptor()) == 80  # shutil's assumption
    monkeypatch.setenv("COLUMNS", "132")
    assert progress.terminal_width(NoDescriptor()) == 132
    assert progress.terminal_width(sized(90)) == 90  # the terminal wins over $COLUMNS
    assert progress.terminal_width(sized(0)) == 132
    monkeypatch.delenv("COLUMNS")
    assert progress.terminal_width(sized(0)) is None


def test_fit_text_and_wrap_parts():
    options = [(" - ", ["loss: 0.1234", "accuracy: 0.9000"]), (" ", ["loss 0.123", "acc 0.9"])]
    assert progress.fit_text(options, 40) == "loss: 0.1234 - accuracy: 0.9000"
    assert progress.fit_text(options, 20) == "loss 0.123 acc 0.9"
    assert progress.fit_text(options, 12) == "loss 0.123"
    assert progress.fit_text(options, 5) == ""
    assert progress.wrap_parts(["aa", "bb", "cc"], 9) == ["  aa - bb", "  cc"]
    assert progress.short_parts({"val_accuracy": 0.912345, "batch": 3, "loss": 2.0}) == [
        "val_acc 0.9123", "loss 2"]


def _pty_fit(blobs, columns, epochs=2):
    """Fit with the bar on a real pseudo-terminal of `columns` columns; what it shows."""
    pytest.importorskip("termios")  # POSIX only
    import fcntl
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    chunks = []
    reader = threading.Thread(target=_drain, args=(master, chunks), daemon=True)
    reader.start()
    tty = os.fdopen(slave, "w", encoding="utf-8")
    try:
        bar = _fit(blobs, tty, epochs=epochs)
        tty.write(DONE)
        tty.flush()
        reader.join(timeout=30)
    finally:
        tty.close()
        os.close(master)
    out = b"".join(chunks).decode("utf-8")
    assert out.endswith(DONE)
    return bar, out[:-len(DONE)]


DONE = "<<done>>"


def _drain(fd, chunks):
    """Read the terminal's output until DONE (the end of the pseudo-terminal is kept open
    until then: closing it first could drop what was not read yet)."""
    while not b"".join(chunks).endswith(DONE.encode()):
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        chunks.append(data)


def test_a_real_pseudo_terminal_of_80_columns(blobs, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    bar, out = _pty_fit(blobs, 80)
    assert bar.mode == "terminal" and "\r" in out
    rows = screen(out, 80)
    assert len([r for r in rows if r.startswith("Epoch ")]) == 2
    text = " ".join(rows)
    for name in METRICS:
        assert re.search(rf"{name}: \d+\.\d{{4}}", text), name


def test_a_real_pseudo_terminal_without_a_width(blobs, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    bar, out = _pty_fit(blobs, 0, epochs=3)
    assert bar.mode == "lines" and "\x1b" not in out
    lines = out.replace("\r\n", "\n").split("\n")
    assert len(lines) == 4 and all(lines[:3]) and lines[3] == ""
