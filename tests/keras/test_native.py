"""gradkit's own compile learns Keras's lessons: the Keras loss names (on probabilities, as
Keras, clipped at 1e-7), and a warning when the last layer and the loss disagree about
logits and probabilities."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.train.keras_losses import ClippedBCELoss, ProbabilityCrossEntropyLoss

R = np.random.default_rng(2)
X = R.normal(size=(60, 4)).astype(np.float32)
Y3 = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)
YB = (X[:, 2] > 0).astype(np.int64)


def _silent_compile(model, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.compile(**kwargs)


@pytest.mark.parametrize("name,cls", [("sparse_categorical_crossentropy",
                                       ProbabilityCrossEntropyLoss),
                                      ("categorical_crossentropy", ProbabilityCrossEntropyLoss),
                                      ("binary_crossentropy", ClippedBCELoss)])
def test_native_compile_takes_kerass_loss_names(name, cls):
    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax()) if cls is not ClippedBCELoss else \
        nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
    _silent_compile(model, optimizer=gk.optim.Adam(model.parameters(), lr=0.05), loss=name,
                    metrics=["accuracy"])
    assert isinstance(model._train_config.loss, cls)
    y = YB if cls is ClippedBCELoss else (np.eye(3, dtype=np.float32)[Y3] if name.startswith(
        "categorical") else Y3)
    h = model.fit(X, y, epochs=100, batch_size=60, verbose=0).history
    assert h["loss"][-1] < h["loss"][0] / 2 and h["accuracy"][-1] > 0.8


def test_the_keras_losses_have_kerass_numbers():
    p = gk.tensor([[0.0], [1.0], [0.7]])
    y = gk.tensor([[1.0], [1.0], [0.0]])
    expected = -(np.log(1e-7) + np.log(1 - 1e-7) + np.log(0.3)) / 3
    assert float(ClippedBCELoss()(p, y)) == pytest.approx(expected, rel=1e-5)
    probs = gk.tensor([[0.7, 0.2, 0.1], [0.0, 1.0, 0.0]])
    labels = gk.tensor([0, 0])
    want = -(np.log(0.7) + np.log(1e-7 / (1e-7 + (1 - 1e-7) + 1e-7))) / 2
    assert float(ProbabilityCrossEntropyLoss()(probs, labels)) == pytest.approx(want, rel=1e-4)


def test_a_softmax_before_cross_entropy_is_warned_about_with_the_fix():
    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax())
    with pytest.warns(UserWarning, match="ends with Softmax but the loss CrossEntropyLoss "
                                         "expects logits; remove the final Softmax.*"
                                         "sparse_categorical_crossentropy"):
        model.compile(optimizer="adam", loss="cross_entropy")
    nested = nn.Sequential(nn.Linear(4, 8), nn.Sequential(nn.ReLU(), nn.Linear(8, 1),
                                                          nn.Sigmoid()))
    with pytest.warns(UserWarning, match="ends with Sigmoid but the loss BCEWithLogitsLoss"):
        nested.compile(optimizer="adam", loss="bce_with_logits")
    with pytest.warns(UserWarning, match="Softmax but the loss NLLLoss.*LogSoftmax"):
        nn.Sequential(nn.Linear(4, 3), nn.Softmax()).compile(loss="nll")
    with pytest.warns(UserWarning, match="ends with Linear \\(logits, not probabilities\\)"):
        nn.Sequential(nn.Linear(4, 3)).compile(loss="sparse_categorical_crossentropy")


def test_matching_layers_and_losses_compile_silently():
    _silent_compile(nn.Sequential(nn.Linear(4, 3)), loss="cross_entropy")
    _silent_compile(nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax()), loss="nll")
    _silent_compile(nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax()), loss="cross_entropy")
    _silent_compile(nn.Sequential(nn.Linear(4, 1), nn.Sigmoid()), loss="bce")
    _silent_compile(nn.Sequential(nn.Linear(4, 3), nn.Softmax()),
                    loss="sparse_categorical_crossentropy")


def test_the_softmax_trap_the_warning_prevents():
    gk.manual_seed(0)
    trapped = nn.Sequential(nn.Linear(4, 3), nn.Softmax())
    with pytest.warns(UserWarning):
        trapped.compile(optimizer=gk.optim.Adam(trapped.parameters(), lr=0.05),
                        loss="cross_entropy")
    fixed = nn.Sequential(nn.Linear(4, 3), nn.Softmax())
    fixed.load_state_dict(trapped.state_dict())
    fixed.compile(optimizer=gk.optim.Adam(fixed.parameters(), lr=0.05),
                  loss="sparse_categorical_crossentropy")
    bad = trapped.fit(X, Y3, epochs=150, batch_size=60, verbose=0).history["loss"][-1]
    good = fixed.fit(X, Y3, epochs=150, batch_size=60, verbose=0).history["loss"][-1]
    assert bad > 0.551 > 0.45 > good  # softmax twice: never below -log(e / (e + 2)) = 0.551
