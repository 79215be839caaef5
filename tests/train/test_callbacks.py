"""Each callback on its own: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN,
LambdaCallback and the shared MonitorCallback logic."""

import math
import os

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.callbacks import (
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    MonitorCallback,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from gradkit.callbacks import saving as _saving

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def _model(lr=0.1):
    model = nn.Sequential(nn.Linear(4, 3))
    model.compile(optim.SGD(model.parameters(), lr=lr), "cross_entropy")
    return model


def _drive(cb, model, values, key="val_loss", weights=False):
    """Run the callback over epochs whose logs hold `values`; with `weights`, the weight of
    epoch e is filled with e so restored weights show which epoch they came from."""
    cb.set_model(model)
    model.stop_training = False
    cb.on_train_begin({})
    last = None
    for epoch, value in enumerate(values):
        if weights:
            model[0].weight.data[...] = epoch
        cb.on_epoch_end(epoch, {key: value, "lr": model.optimizer.lr})
        last = epoch
        if model.stop_training:
            break
    cb.on_train_end({})
    return last


@pytest.mark.parametrize("mode, monitor, expected", [
    ("auto", "val_loss", "min"), ("auto", "val_accuracy", "max"), ("auto", "acc", "max"),
    ("auto", "val_f1", "max"), ("auto", "mae", "min"), ("max", "val_loss", "max"),
])
def test_monitor_direction(mode, monitor, expected):
    assert MonitorCallback(monitor, mode).direction == expected
    with pytest.raises(ValueError, match="mode must be"):
        MonitorCallback(mode="up")


def test_monitor_min_delta():
    cb = MonitorCallback("val_loss", min_delta=0.1)
    assert cb._is_improvement(0.85, 1.0) and not cb._is_improvement(0.95, 1.0)
    assert cb._is_improvement(5.0, None) and not cb._is_improvement(math.nan, None)


def test_early_stopping_patience():
    cb = EarlyStopping(patience=2)
    last = _drive(cb, _model(), [1.0, 0.8, 0.9, 0.85, 0.95, 0.5])
    assert last == 3 and cb.stopped_epoch == 3 and cb.best_epoch == 1 and cb.best == 0.8


def test_early_stopping_restores_best_weights_even_without_stopping():
    model = _model()
    cb = EarlyStopping(patience=10, restore_best_weights=True)
    last = _drive(cb, model, [1.0, 0.7, 0.9, 0.8], weights=True)
    assert last == 3 and cb.stopped_epoch == 0
    assert np.all(model[0].weight.numpy() == 1)  # the best epoch's weights


def test_early_stopping_maximises_accuracy_and_honours_start_from_epoch():
    cb = EarlyStopping(monitor="val_accuracy", patience=1, start_from_epoch=2)
    last = _drive(cb, _model(), [0.1, 0.0, 0.5, 0.6, 0.55, 0.4], key="val_accuracy")
    assert cb.best == 0.6 and last == 4


def test_early_stopping_baseline():
    values = [0.9, 0.8, 0.7, 0.75, 0.72, 0.71]
    assert _drive(EarlyStopping(patience=2), _model(), values) == 4
    # improving but never below the baseline: the wait is not reset (Keras's rule)
    assert _drive(EarlyStopping(patience=2, baseline=0.5), _model(), values) == 3


def test_early_stopping_in_fit(blobs, capsys):
    x, y = blobs
    model = _model()
    cb = EarlyStopping(monitor="loss", min_delta=100.0, patience=1, verbose=1)
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[cb])
    assert history.epoch == [0, 1] and cb.stopped_epoch == 1
    assert "Epoch 2: early stopping" in capsys.readouterr().out


def test_a_missing_monitor_warns_once():
    cb = EarlyStopping(monitor="val_auc")
    with pytest.warns(UserWarning, match="'val_auc' is not in the logs"):
        _drive(cb, _model(), [1.0, 2.0, 3.0])


def _load(path):
    return safetensors_numpy.load_file(path)


def test_model_checkpoint_every_epoch_with_formatted_names(blobs, tmp_path):
    x, y = blobs
    model = _model()
    pattern = str(tmp_path / "ckpt" / "{epoch:02d}-{loss:.3f}.safetensors")
    cb = ModelCheckpoint(pattern, save_weights_only=True)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[cb])
    names = sorted(os.listdir(tmp_path / "ckpt"))
    expected = [f"{e + 1:02d}-{loss:.3f}.safetensors"
                for e, loss in enumerate(history.history["loss"])]
    assert names == expected
    saved = _load(cb.last_path)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(saved[name], value)


def test_model_checkpoint_save_best_only(tmp_path):
    model = _model()
    cb = ModelCheckpoint(str(tmp_path / "best-{epoch}.safetensors"), save_best_only=True)
    _drive(cb, model, [1.0, 1.2, 0.9, 0.95, 0.5])
    assert sorted(os.listdir(tmp_path)) == ["best-1.safetensors", "best-3.safetensors",
                                            "best-5.safetensors"]


def test_model_checkpoint_metadata_and_bad_names(tmp_path):
    model = _model()
    path = _saving.save_model_file(model, tmp_path / "m.safetensors")
    assert type(gk.load(path)).__name__ == "Sequential"
    cb = ModelCheckpoint(str(tmp_path / "{val_acc}.safetensors"))
    cb.set_model(model)
    with pytest.raises(KeyError, match="names 'val_acc'"):
        cb.on_epoch_end(0, {"loss": 1.0})


def test_reduce_lr_on_plateau_steps():
    model = _model(lr=0.1)
    cb = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.02)
    cb.set_model(model)
    cb.on_train_begin({})
    lrs = []
    for epoch in range(9):
        cb.on_epoch_end(epoch, {"val_loss": 1.0})
        lrs.append(model.optimizer.lr)
    # reduce after 2 flat epochs, then 1 cooldown epoch; never below min_lr (Keras's rule)
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02])
    with pytest.raises(ValueError, match="factor must be in"):
        ReduceLROnPlateau(factor=1.5)


class _Flat(nn.Module):
    """Its training loss is 1.0 whatever the weights: a perfect plateau."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)

    def train_step(self, batch):
        return (self.fc.weight * 0.0).sum() + 1.0


def test_reduce_lr_on_plateau_in_fit_and_lr_in_history(blobs):
    x, y = blobs
    model = _Flat()
    model.compile(optim.SGD(model.parameters(), lr=0.1))
    cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=0)
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[cb])
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    assert model.optimizer.lr == pytest.approx(0.0125)


def test_terminate_on_nan_says_where(blobs, capsys):
    x, y = blobs
    calls = []

    def flaky(y_pred, y_true):
        calls.append(1)
        loss = nn.functional.cross_entropy(y_pred, y_true)
        return loss * math.nan if len(calls) == 8 else loss

    model = nn.Sequential(nn.Linear(4, 3))
    model.compile("sgd", flaky)
    cb = TerminateOnNaN()
    history = model.fit(x, y, epochs=5, batch_size=10, verbose=0, callbacks=[cb])
    assert (cb.stopped_epoch, cb.stopped_batch) == (1, 1) and len(calls) == 8
    assert history.epoch == [0, 1] and math.isnan(history.history["loss"][1])
    assert "at epoch 2, batch 2; training stopped" in capsys.readouterr().out


def test_lambda_callback_calls_each_hook(blobs):
    x, y = blobs
    events = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_batch_begin=lambda batch, logs: events.append(f"batch_begin {batch}"),
        on_batch_end=lambda batch, logs: events.append(f"batch_end {batch} {logs['size']}"),
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"),
    )
    model = _model()
    model.fit(x[:30], y[:30], epochs=2, batch_size=20, verbose=0, callbacks=[cb])
    assert events == [
        "train_begin",
        "epoch_begin 0", "batch_begin 0", "batch_end 0 20", "batch_begin 1", "batch_end 1 10",
        "epoch_end 0 ['loss', 'lr']",
        "epoch_begin 1", "batch_begin 0", "batch_end 0 20", "batch_begin 1", "batch_end 1 10",
        "epoch_end 1 ['loss', 'lr']",
        "train_end",
    ]
    with pytest.raises(TypeError, match="must be callable"):
        LambdaCallback(on_epoch_end=3)


def test_batch_logs_hold_the_running_loss(blobs):
    x, y = blobs
    seen = []
    model = _model()
    model.compile(optim.SGD(model.parameters(), lr=0.1), "cross_entropy", ["accuracy"])
    cb = LambdaCallback(on_batch_end=lambda b, logs: seen.append(dict(logs)))
    history = model.fit(x, y, epochs=1, batch_size=25, verbose=0, callbacks=[cb])
    assert [s["size"] for s in seen] == [25, 25, 10]
    assert set(seen[0]) == {"batch", "size", "loss", "accuracy"}
    assert seen[-1]["loss"] == pytest.approx(history.history["loss"][0])
    assert gk.is_grad_enabled()
