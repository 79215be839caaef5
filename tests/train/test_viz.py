"""gradkit.viz: training curves and 2-D decision boundaries as PNG files."""

import sys

import numpy as np
import pytest

from gradkit import nn, optim
from gradkit.viz import curves as viz

pytest.importorskip("matplotlib")
PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_history_from_a_dict(tmp_path):
    logs = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "mae": [0.3, 0.2], "lr": [0.1, 0.1]}
    fig = viz.plot_history(logs, tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:8] == PNG
    assert [ax.get_title() for ax in fig.axes] == ["loss", "mae"]
    ticks = [t for t in fig.axes[0].get_xticks() if 1 <= t <= 2]
    assert ticks and all(float(t).is_integer() for t in ticks)  # epochs, never 1.5
    with pytest.raises(ValueError, match="history is empty"):
        viz.plot_history({})


def test_plot_decision_boundary(lesson, tmp_path):
    xtr, ytr, xva, yva = lesson
    model = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 2))
    model.compile(optim.SGD(model.parameters(), lr=0.5), "cross_entropy")
    model.fit(xtr, ytr, epochs=20, batch_size=8, verbose=0)
    fig = viz.plot_decision_boundary(model, xtr, ytr, tmp_path / "b.png", resolution=50)
    assert (tmp_path / "b.png").read_bytes()[:8] == PNG
    assert len(fig.axes) == 1
    binary = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    viz.plot_decision_boundary(binary, xtr, np.eye(2)[ytr], tmp_path / "c.png", resolution=20)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2\)"):
        viz.plot_decision_boundary(model, np.zeros((5, 3)), np.zeros(5))


def test_missing_matplotlib_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install matplotlib.*gradkit\[viz\]"):
        viz.plot_history({"loss": [1.0]})
