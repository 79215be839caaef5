"""Overfitting on purpose: the detector fires once, EarlyStopping restores the best epoch."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.callbacks import EarlyStopping, OverfitDetector
from gradkit.datasets import make_moons
from gradkit.train import find_overfitting


def _big_net():
    return nn.Sequential(nn.Linear(2, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 2))


@pytest.fixture
def small_noisy():
    x, y = make_moons(n_samples=60, noise=0.4, random_state=1)
    x = x.astype(np.float32)
    return x[:30], y[:30], x[30:], y[30:]


def test_deliberate_overfitting(small_noisy, capsys):
    xtr, ytr, xva, yva = small_noisy
    gk.manual_seed(0)
    model = _big_net()
    model.compile(optim.Adam(model.parameters(), lr=2e-3), "cross_entropy", ["accuracy"])
    stop = EarlyStopping(patience=10, restore_best_weights=True)
    history = model.fit(xtr, ytr, epochs=100, batch_size=30, validation_data=(xva, yva),
                        callbacks=[stop], verbose=1)
    loss, val = history.history["loss"], history.history["val_loss"]
    best = int(np.argmin(val))
    assert val[-1] > val[best] * 1.2 and loss[-1] < loss[best] * 0.8  # val turned up
    out = capsys.readouterr().out
    assert out.count("Overfitting:") == 1
    assert f"was at epoch {best + 1}." in out
    assert "EarlyStopping will restore that epoch's weights" in out  # not "Consider ..."
    assert history.overfit_epoch == best
    assert 0 < stop.stopped_epoch < 99 and stop.best_epoch == best
    assert len(history.epoch) == best + 11
    assert model.evaluate(xva, yva)["loss"] == pytest.approx(val[best], rel=1e-5)


def test_without_restoring_the_message_suggests_early_stopping(small_noisy, capsys):
    xtr, ytr, xva, yva = small_noisy
    gk.manual_seed(0)
    model = _big_net()
    model.compile(optim.Adam(model.parameters(), lr=2e-3), "cross_entropy")
    model.fit(xtr, ytr, epochs=40, batch_size=30, validation_data=(xva, yva), verbose=1)
    assert "Consider EarlyStopping(restore_best_weights=True)" in capsys.readouterr().out


def test_detection_is_recorded_silently_with_verbose_0(small_noisy, capsys):
    xtr, ytr, xva, yva = small_noisy
    gk.manual_seed(0)
    model = _big_net()
    model.compile(optim.Adam(model.parameters(), lr=2e-3), "cross_entropy")
    detector = OverfitDetector(patience=2, verbose=0)
    history = model.fit(xtr, ytr, epochs=30, batch_size=30, validation_data=(xva, yva),
                        callbacks=[detector], verbose=0)
    assert capsys.readouterr().out == ""
    assert history.overfit_epoch is not None
    assert detector.overfit_epoch == history.overfit_epoch


def test_find_overfitting_on_curves():
    train = [1.0 / (e + 1) for e in range(12)]
    u_shape = [0.9, 0.6, 0.45, 0.4, 0.42, 0.47, 0.53, 0.6, 0.68, 0.75, 0.83, 0.9]
    assert find_overfitting(train[:6], u_shape[:6]) is None  # too early to tell
    assert find_overfitting(train, u_shape) == 3
    diverging = [t * 5 for t in reversed(train)]  # training loss rising too: not overfitting
    assert find_overfitting(diverging, u_shape) is None
    falling = [1.0 / (e + 1) for e in range(60)]
    for seed in range(20):  # healthy runs: converging or flat validation loss with noise
        rng = np.random.default_rng(seed)
        converging = 0.3 + 0.5 * np.exp(-np.arange(60) / 15) + 0.01 * rng.standard_normal(60)
        flat = 0.3 + 0.006 * rng.standard_normal(60)
        for val in (converging, flat):
            assert all(find_overfitting(falling[:n], list(val[:n])) is None for n in range(61))
