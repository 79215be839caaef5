"""Helpers shared by the io tests: models with non-default values, comparisons."""

from __future__ import annotations

import numpy as np

import gradkit as gk
from gradkit import nn


def randomize(model, seed: int = 0):
    """Give every parameter and float buffer random values (so a load that does nothing is
    caught), and a batch count to BatchNorm; returns the model."""
    rng = np.random.default_rng(seed)
    for name, t in model._state_tensors().items():
        if t.dtype.kind == "f":
            values = rng.standard_normal(t.shape)
            if name.endswith("running_var"):
                values = np.abs(values) + 0.5
            t.data[...] = values.astype(t.dtype)
        else:
            t.data[...] = rng.integers(1, 100)
    return model


def assert_same_state(a, b) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype, k
        assert sa[k].shape == sb[k].shape, k
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)


class MLP(nn.Module):
    """A custom Module class (gk.save records it by name only)."""

    def __init__(self, hidden: int = 5):
        super().__init__()
        self.fc1 = nn.Linear(4, hidden)
        self.fc2 = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


class Configurable(MLP):
    """A custom class that records its arguments with get_config()."""

    def __init__(self, hidden: int = 5):
        super().__init__(hidden)
        self.hidden = hidden

    def get_config(self) -> dict:
        return {"hidden": self.hidden}


def small_model():
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.2),
                         nn.Sequential(nn.Linear(6, 3), nn.LayerNorm(3)))


def run(model, x):
    with gk.no_grad():
        return model(gk.tensor(x)).numpy()
