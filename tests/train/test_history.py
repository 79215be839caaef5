"""History: per-epoch lists (with lr), params, resumed runs, and the curves PNG."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.callbacks import History


def _model():
    gk.manual_seed(5)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
    model.compile(optim.SGD(model.parameters(), lr=0.05, momentum=0.9), "cross_entropy",
                  ["accuracy"])
    return model


def _fit(model, blobs, **kwargs):
    x, y = blobs
    return model.fit(x[:45], y[:45], batch_size=15, validation_data=(x[45:], y[45:]),
                     shuffle=False, verbose=0, **kwargs)


def test_lists_params_and_model_history(blobs):
    model = _model()
    history = _fit(model, blobs, epochs=3)
    assert model.history is history and history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(v) == 3 for v in history.history.values())
    assert history.history["lr"] == [0.05] * 3
    assert history.params["epochs"] == 3 and history.params["steps"] == 3
    assert history.params["samples"] == 45 and history.overfit_epoch is None
    assert all(isinstance(v, float) for v in history.history["loss"])
    assert _fit(model, blobs, epochs=1) is not history  # a new fit starts a new history


def test_resume_from_a_state_dict_continues_the_same_history(blobs):
    full = _fit(_model(), blobs, epochs=6).history
    first = _model()
    history = _fit(first, blobs, epochs=3)
    weights, opt_state = first.state_dict(), first.optimizer.state_dict()

    resumed = _model()  # e.g. a new process that loaded a checkpoint
    resumed.load_state_dict(weights)
    resumed.optimizer.load_state_dict(opt_state)
    again = _fit(resumed, blobs, epochs=6, initial_epoch=3, callbacks=[history])
    assert again is history and history.epoch == [0, 1, 2, 3, 4, 5]
    for key, values in full.items():
        np.testing.assert_allclose(history.history[key], values, rtol=1e-5, atol=1e-7)


def test_resume_on_the_same_model_reuses_model_history(blobs):
    model = _model()
    history = _fit(model, blobs, epochs=2)
    assert _fit(model, blobs, epochs=4, initial_epoch=2) is history
    assert history.epoch == [0, 1, 2, 3]
    _fit(model, blobs, epochs=3, initial_epoch=1, callbacks=[history])  # rewinds
    assert history.epoch == [0, 1, 2] and len(history.history["loss"]) == 3


def test_plot_writes_a_png(blobs, tmp_path):
    pytest.importorskip("matplotlib")
    history = _fit(_model(), blobs, epochs=3)
    fig = history.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy"]
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["training", "validation"]


def test_a_fresh_history_object():
    h = History()
    assert h.history == {} and h.epoch == [] and h.overfit_epoch is None
    assert "epochs=0" in repr(h)
