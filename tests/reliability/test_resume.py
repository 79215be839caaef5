"""Resume: the fit -> save_checkpoint -> load_checkpoint -> fit(initial_epoch=...) recipe is
exact with shuffling, and a checkpoint of another run (other settings, data or model) is
refused with what differs, by the library and by `gradkit train --resume`."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.callbacks import Callback
from gradkit.data import DataLoader, TensorDataset
from gradkit.io.errors import FormatError
from gradkit.io.fingerprint import RunMismatchError, differences, run_fingerprint

from ..cli_main import run_main as cli


def data(n=120, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    return x, (x[:, 0] - x[:, 1] > 0).astype(np.int64)


def build(width=16):
    model = nn.Sequential(nn.Linear(6, width), nn.ReLU(), nn.Dropout(0.3), nn.Linear(width, 2))
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    return model


class Save(Callback):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        gk.save_checkpoint(self.path, self.model, self.model.optimizer, epoch=epoch + 1)


def same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


FIT = {"batch_size": 16, "verbose": 0, "shuffle": True}


@pytest.mark.parametrize("kw", [{}, {"validation_split": 0.25}], ids=["plain", "val-split"])
def test_the_fit_recipe_resumes_exactly_with_shuffling(tmp_path, kw):
    x, y = data()
    gk.manual_seed(0)
    straight = build()
    straight.fit(x, y, epochs=5, **FIT, **kw)
    gk.manual_seed(0)
    first = build()
    first.fit(x, y, epochs=2, callbacks=[Save(tmp_path / "c.safetensors")], **FIT, **kw)
    gk.manual_seed(99)  # a new process: other random state until the checkpoint restores it
    resumed = build()
    info = gk.load_checkpoint(tmp_path / "c.safetensors", resumed, resumed.optimizer)
    resumed.fit(x, y, epochs=5, initial_epoch=info["epoch"], **FIT, **kw)
    assert same(straight, resumed)


def test_a_user_dataloader_resumes_exactly_too(tmp_path):
    x, y = data()

    def run(epochs, initial=0, path=None, seed=0):
        gk.manual_seed(seed)
        model = build()
        loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
        if path is not None and initial:
            initial = gk.load_checkpoint(path, model, model.optimizer)["epoch"]
        cbs = [Save(tmp_path / "d.safetensors")] if path is not None and not initial else []
        model.fit(loader, epochs=epochs, initial_epoch=initial, verbose=0, callbacks=cbs)
        return model

    straight = run(4)
    run(2, path=tmp_path / "d.safetensors")
    assert same(straight, run(4, initial=1, path=tmp_path / "d.safetensors", seed=5))


def test_resuming_on_other_data_warns_and_starts_a_new_order(tmp_path):
    x, y = data()
    model = build()
    model.fit(x, y, epochs=1, callbacks=[Save(tmp_path / "c.safetensors")], **FIT)
    again = build()
    info = gk.load_checkpoint(tmp_path / "c.safetensors", again, again.optimizer)
    with pytest.warns(UserWarning, match="other data .*120 samples in the checkpoint, 100"):
        again.fit(x[:100], y[:100], epochs=2, initial_epoch=info["epoch"], **FIT)


def test_a_fresh_fit_ignores_what_the_checkpoint_left(tmp_path):
    x, y = data()
    model = build()
    model.fit(x, y, epochs=1, callbacks=[Save(tmp_path / "c.safetensors")], **FIT)
    gk.load_checkpoint(tmp_path / "c.safetensors", model, model.optimizer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x[:50], y[:50], epochs=1, **FIT)  # initial_epoch 0: nothing to continue


def test_the_fingerprint_refuses_another_run(tmp_path):
    x, y = data()
    model = build()
    path = gk.save_checkpoint(tmp_path / "c.safetensors", model, model.optimizer, epoch=1,
                              fingerprint=run_fingerprint(data=(x, y), settings={"lr": 0.1}))
    ok = run_fingerprint(model, (x, y), {"lr": 0.1})
    assert gk.load_checkpoint(path, build(), fingerprint=ok)["epoch"] == 1
    for other, words in [(run_fingerprint(settings={"lr": 0.01}), "setting lr: 0.1 in the "
                          "checkpoint, 0.01 here"),
                         (run_fingerprint(data=(x[:-1], y[:-1])), "120 samples in the "
                          "checkpoint, 119 here"),
                         (run_fingerprint(data=(x + 1, y)), "the same sizes but other values"),
                         (run_fingerprint(build(17)), "'0.weight' is (16, 6) float32 in the "
                          "checkpoint, (17, 6) float32 here")]:
        fresh = build()
        before = fresh.state_dict()
        with pytest.raises(RunMismatchError, match="checkpoint of another run") as info:
            gk.load_checkpoint(path, fresh, fingerprint=other)
        assert words in str(info.value)
        assert same_state(fresh, before)


def same_state(model, state):
    return all(np.array_equal(v, state[k]) for k, v in model.state_dict().items())


def test_a_loader_over_other_data_is_refused(tmp_path):
    x, y = data()
    model = build()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)
    path = gk.save_checkpoint(tmp_path / "c.safetensors", model, model.optimizer, epoch=1,
                              loader=loader)
    other = DataLoader(TensorDataset(x[::-1].copy(), y[::-1].copy()), batch_size=16,
                       shuffle=True, seed=0)
    with pytest.raises(RunMismatchError, match="other values"):
        gk.load_checkpoint(path, build(), loader=other)


def test_differences_name_at_most_a_few_things():
    a = {"settings": {"a": 1, "b": 2, "c": 3, "d": 4}}
    b = {"settings": {"a": 0, "b": 0, "c": 0, "d": 0}}
    assert len(differences(a, b)) == 3 and differences(a, a) == []


@pytest.mark.parametrize("field, value, message", [
    ("batches_done", -1, "fit.loader.batches_done must be an integer >= 0"),
    ("batches_done", 1e9, "fit.loader.batches_done must be an integer"),
    ("epoch", "three", "fit.loader.epoch must be an integer"),
])
def test_the_fit_loader_state_is_validated_on_load(tmp_path, field, value, message):
    from gradkit.io import read_safetensors, write_safetensors

    x, y = data()
    model = build()
    model.fit(x, y, epochs=1, callbacks=[Save(tmp_path / "c.safetensors")], **FIT)
    tensors, meta = read_safetensors(tmp_path / "c.safetensors")
    state = json.loads(meta["state"])
    state["fit"]["loader"][field] = value
    write_safetensors(tmp_path / "c.safetensors", tensors, {**meta, "state": json.dumps(state)})
    with pytest.raises(FormatError, match=message):
        gk.load_checkpoint(tmp_path / "c.safetensors", build(), build().optimizer)


# ---- gradkit train --resume ---------------------------------------------------------------------
QUICK = ["--dataset", "iris", "--quiet", "--patience", "0"]


def one_line(err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_resume_refuses_the_checkpoint_of_an_older_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli(["train", *QUICK, "--hidden", "8", "--epochs", "2", "--out", str(out)],
               capsys)[0] == 0
    # a new run over it wrote its run.json, then died before its first checkpoint
    info = json.loads((out / "run.json").read_text())
    info["settings"].update(hidden=[16], lr=0.01)
    (out / "run.json").write_text(json.dumps(info))
    before = (out / "checkpoint.safetensors").read_bytes()
    code, _, err = cli(["train", "--resume", "--epochs", "4", "--out", str(out)], capsys)
    line = one_line(err)
    assert code == 2 and "checkpoint of another run" in line
    assert "setting hidden: 8 in the checkpoint, 16 here" in line and "lr" in line
    assert "without --resume" in line
    assert (out / "checkpoint.safetensors").read_bytes() == before


@pytest.mark.parametrize("key, value", [("seed", -4), ("hidden", "wide"), ("lr", "fast"),
                                        ("optimizer", "magic"), ("epochs", 0)])
def test_resume_refuses_a_run_json_no_run_could_write(tmp_path, capsys, key, value):
    out = tmp_path / "run"
    assert cli(["train", *QUICK, "--hidden", "4", "--epochs", "1", "--out", str(out)],
               capsys)[0] == 0
    info = json.loads((out / "run.json").read_text())
    info["settings"][key] = value
    (out / "run.json").write_text(json.dumps(info))
    code, _, err = cli(["train", "--resume", "--out", str(out)], capsys)
    assert code == 2 and f"invalid setting {key}" in one_line(err)
