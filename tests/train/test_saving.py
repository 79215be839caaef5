"""save_model_file: the files ModelCheckpoint writes load back through gradkit.io."""

import os

import numpy as np

import gradkit as gk
from gradkit import nn
from gradkit.callbacks import saving as _saving


def test_model_file_round_trips(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    path = _saving.save_model_file(model, tmp_path / "sub" / "m.safetensors")
    loaded = gk.load(path)
    x = gk.randn(4, 3)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert os.listdir(tmp_path / "sub") == ["m.safetensors"]


def test_weights_only(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    path = _saving.save_model_file(model, tmp_path / "w.safetensors", weights_only=True)
    other = nn.Sequential(nn.Linear(3, 2))
    other.load_weights(path)
    np.testing.assert_array_equal(other[0].weight.numpy(), model[0].weight.numpy())


def test_shared_layers_fall_back_to_weights(tmp_path):
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    path = _saving.save_model_file(model, tmp_path / "m.safetensors")
    copy = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    copy.load_weights(path, strict=False)
    np.testing.assert_array_equal(copy[0].weight.numpy(), shared.weight.numpy())
