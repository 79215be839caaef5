"""`gradkit train` keeps the best weights (EarlyStopping with restore_best_weights, --patience)
and says so; its report lists every file of the run with its size and role, and says why
charts are missing without matplotlib."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import gradkit as gk
from gradkit.cli import main, stopping
from gradkit.cli.data import load_run_data

from ..cli_main import run_main as run

# moons with a high learning rate: val_loss turns up within a few epochs (stops at 4 of 30)
EARLY = ["--dataset", "moons", "--hidden", "16", "--lr", "0.05", "--epochs", "30",
         "--patience", "1", "--quiet"]


@pytest.fixture(scope="module")
def early_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "moons"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["train", *EARLY, "--out", str(out)]) == 0
    return out, buf.getvalue()


def val_loss_of(model, settings) -> float:
    data = load_run_data(settings["dataset"], settings["seed"], settings["val_split"],
                         settings["train_size"], layout="flat")
    model.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])
    return float(model.evaluate(data.x_val, data.y_val, batch_size=1024)["loss"])


def test_the_saved_model_holds_the_best_epochs_weights(early_run):
    out, printed = early_run
    info = json.loads((out / "run.json").read_text())
    kept = info["results"]["best_weights"]
    history = json.loads((out / "history.json").read_text())
    epochs = history["epoch"]
    assert kept["stopped_early"] and len(epochs) < 30  # stopped before --epochs
    best = int(np.argmin(history["val_loss"]))
    assert kept["epoch"] == epochs[best] < epochs[-1] == kept["last_epoch"]
    # the saved model's validation loss is the best epoch's, not the last epoch's
    saved = val_loss_of(gk.load(out / "model.safetensors"), info["settings"])
    assert saved == pytest.approx(history["val_loss"][best], rel=1e-5)
    assert saved < history["val_loss"][-1]
    assert "keeping the best weights" in printed
    assert (f"val_loss was lowest at epoch {kept['epoch']}" in printed
            and f"stopped after epoch {kept['last_epoch']} (1 epoch without" in printed)


def test_the_report_lists_every_file_with_its_size_and_role(early_run):
    out, printed = early_run
    page = (out / "report.html").read_text()
    files = page.split("<h2>Files</h2>")[1].split("</table>")[0]
    on_disk = sorted(p.name for p in out.iterdir())
    listed = sorted(re.findall(r'<a href="([^"]+)">', files))
    assert listed == on_disk and "checkpoint.safetensors" in listed
    for name in on_disk:
        row = files.split(f'<a href="{name}">')[1].split("</tr>")[0]
        if name != "report.html":
            size = (out / name).stat().st_size
            assert re.search(r"<td>\d+(\.\d)? (B|kB|MB)</td>", row), (name, row)
            assert (f"<td>{size} B</td>" in row) == (size < 1000), (name, row)
        assert re.search(r'<td class="l">\w', row), (name, row)  # what it is
    assert "--resume continues from it" in files and "(the best), not the last" in files
    assert "Weights kept: epoch" in page and "the test results above are theirs" in page
    assert "--patience 1" in page.split("Reproduce")[1]
    wrote = next(ln for ln in printed.splitlines() if ln.startswith("wrote "))
    assert all(f"{name} (" in wrote for name in on_disk), wrote
    assert json.loads((out / "run.json").read_text())["files"] == [
        "model.safetensors", "checkpoint.safetensors", "run.json", "history.csv",
        "history.json", "curves.png", "confusion.png", "report.html"]


def test_patience_zero_trains_every_epoch_and_keeps_the_last(tmp_path, capsys):
    args = [a for a in EARLY if a not in ("--patience", "1")]
    code, out, _ = run(["train", *args, "--epochs", "6", "--patience", "none",
                        "--out", str(tmp_path / "r")], capsys)
    assert code == 0 and "keeping the last epoch's weights (--patience 0" in out
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["settings"]["patience"] == 0 and info["results"]["epochs_done"] == 6
    assert info["results"]["best_weights"] == {"kept": "last", "epoch": 6,
                                               "early_stopping": False, "patience": 0}
    assert "early stopping was off" in (tmp_path / "r" / "report.html").read_text()


def test_without_validation_the_last_weights_are_kept(tmp_path, capsys):
    code, out, _ = run(["train", "--dataset", "moons", "--hidden", "8", "--epochs", "2",
                        "--val-split", "0", "--quiet", "--out", str(tmp_path / "r")], capsys)
    assert code == 0 and "no validation set to pick the best one by" in out


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_bad_patience_is_one_line(value, capsys):
    code, _, err = run(["train", "--dataset", "moons", "--patience", value], capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "--patience" in lines[0]


def test_patience_values():
    assert [stopping.patience_value(t) for t in ("0", "none", "OFF", "3", " 12 ")] == [
        0, 0, 0, 3, 12]
    assert stopping.patience_of({}) == stopping.DEFAULT_PATIENCE == 5
    assert stopping.keep_best({"patience": 2}, has_validation=True).restore_best_weights
    assert stopping.keep_best({"patience": 2}, has_validation=False) is None


def test_without_matplotlib_the_report_says_why_there_are_no_charts(tmp_path, capsys,
                                                                    monkeypatch):
    from gradkit import viz

    def absent():
        raise ImportError("plotting needs matplotlib: pip install matplotlib")

    monkeypatch.setattr(viz, "require_matplotlib", absent)
    code, out, err = run(["train", "--dataset", "moons", "--hidden", "8", "--epochs", "2",
                          "--quiet", "--out", str(tmp_path / "r")], capsys)
    assert code == 0 and "no charts: plotting needs matplotlib" in err
    page = (tmp_path / "r" / "report.html").read_text()
    assert "No charts: plotting needs matplotlib: pip install matplotlib" in page
    assert "data:image/png" not in page and not list((tmp_path / "r").glob("*.png"))
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert "matplotlib" in info["results"]["charts_missing"]
