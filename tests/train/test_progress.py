"""Progress output: silent, one line per epoch (CI logs), or a bar on a terminal."""

import io
import re

import pytest

from gradkit import nn, optim
from gradkit.callbacks import ProgressBar, progress


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def _fit(blobs, epochs=3, **kwargs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 3))
    model.compile(optim.SGD(model.parameters(), lr=0.1), "cross_entropy", ["accuracy"])
    return model.fit(x, y, epochs=epochs, batch_size=8, validation_split=0.2, **kwargs)


def test_verbose_0_prints_nothing(blobs, capsys):
    _fit(blobs, verbose=0)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("verbose", [1, 2])
def test_one_line_per_epoch_when_not_a_terminal(blobs, capsys, verbose):
    _fit(blobs, verbose=verbose)
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert len(lines) == 3
    pattern = (r"Epoch 2/3 - \d+\.\ds - [\d,]+ samples/s - loss: \d\.\d{4} - accuracy: "
               r"\d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}$")
    assert re.match(pattern, lines[1]), lines[1]


def test_a_bar_on_a_terminal_with_tqdm(blobs):
    pytest.importorskip("tqdm")
    stream = FakeTTY()
    _fit(blobs, verbose=1, callbacks=[ProgressBar(stream=stream, refresh=0.0)])
    out = stream.getvalue()
    assert "\r" in out and out.count("Epoch 3/3") >= 1
    assert "samples/s" in out and "val_accuracy" in out


def test_the_built_in_bar_without_tqdm(blobs, monkeypatch):
    monkeypatch.setattr(progress, "_tqdm", lambda: None)
    stream = FakeTTY()
    _fit(blobs, epochs=2, callbacks=[ProgressBar(stream=stream, refresh=0.0)])
    out = stream.getvalue()
    finals = [seg for seg in out.split("\r") if seg.endswith("\n")]
    assert len(finals) == 2 and "6/6" in finals[0] and "val_loss:" in finals[0]
    assert "samples/s" in out


def test_verbose_2_on_a_terminal_is_still_one_line_per_epoch(blobs):
    stream = FakeTTY()
    _fit(blobs, epochs=2, callbacks=[ProgressBar(verbose=2, stream=stream)])
    out = stream.getvalue()
    assert "\r" not in out and len(out.splitlines()) == 2


def test_format_logs():
    assert progress.format_logs({"loss": 0.123456, "lr": 0.1, "n": 3}) == "loss: 0.1235 - n: 3"
