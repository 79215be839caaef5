"""gradkit.viz's pictures of trained classifiers: weights, confusion matrix, mistakes."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def digits_model():
    x, y = gk.datasets.load_digits()
    x = (x / 16).astype(np.float32)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    rec = gk.viz.WeightHistory()
    model.fit(x[:1000], y[:1000], epochs=3, batch_size=64, verbose=0, callbacks=[rec])
    return model, rec, x[1000:], y[1000:]


def test_weight_history_and_plot_weights(digits_model, tmp_path):
    model, rec, _, _ = digits_model
    assert rec.epochs == [0, 1, 2, 3]
    assert list(rec.max_abs) == ["0.weight", "2.weight"]
    assert all(len(v) == 4 for v in rec.max_abs.values())
    fig = gk.viz.plot_weights(model, rec, path=tmp_path / "w.png")
    assert len(fig.axes) == 2
    assert (tmp_path / "w.png").read_bytes()[:8] == PNG
    gk.viz.plot_weights(rec, path=tmp_path / "w2.png")
    gk.viz.plot_weights(model, path=tmp_path / "w3.png")
    # the MNIST lab example's rows
    gk.viz.plot_weights([{"max_w": [0.1, 0.2]}, {"max_w": [0.2, 0.3]}], path=tmp_path / "w4.png")
    for name in ("w2.png", "w3.png", "w4.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG
    with pytest.raises(TypeError, match="WeightHistory"):
        gk.viz.plot_weights(42)


def test_confusion_matrix_from_labels_or_scores(digits_model, tmp_path):
    model, _, x, y = digits_model
    scores = model.predict(x)
    fig = gk.viz.plot_confusion_matrix(y, scores, path=tmp_path / "cm.png")
    assert (tmp_path / "cm.png").read_bytes()[:8] == PNG
    acc = float((scores.argmax(1) == y).mean())
    assert f"{acc:.4f}" in fig.axes[0].get_title()
    gk.viz.plot_confusion_matrix([0, 1, 1], [0, 1, 0], class_names=["cat", "dog"],
                                 normalize=True, path=tmp_path / "cm2.png")
    assert (tmp_path / "cm2.png").read_bytes()[:8] == PNG


def test_misclassified_grid(digits_model, tmp_path):
    model, _, x, y = digits_model
    wrong = int((model.predict(x).argmax(1) != y).sum())
    fig = gk.viz.plot_misclassified(model, x, y, n=9, path=tmp_path / "m.png")
    assert (tmp_path / "m.png").read_bytes()[:8] == PNG
    assert len(fig.axes) - 1 == min(9, wrong)  # one hidden frame + one panel per image
    # images as (N, 8, 8): flattened for the model
    gk.viz.plot_misclassified(model, x.reshape(-1, 8, 8), y, n=4, path=tmp_path / "m2.png")
    with pytest.raises(ValueError, match="image_shape"):
        gk.viz.plot_misclassified(model, x[:, :63], y)


def test_misclassified_when_nothing_is_wrong(tmp_path):
    model = nn.Sequential(nn.Linear(4, 2))
    with gk.no_grad():
        model[0].weight.data[...] = np.array([[1, 0, 0, 0], [-1, 0, 0, 0]], np.float32)
        model[0].bias.data[...] = 0
    x = np.array([[1, 0, 0, 0], [-1, 0, 0, 0]], np.float32)
    fig = gk.viz.plot_misclassified(model, x, np.array([0, 1]), path=tmp_path / "ok.png")
    assert "no misclassified" in fig.axes[0].texts[0].get_text()
