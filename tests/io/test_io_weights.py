"""model.save_weights / model.load_weights: strict keys, shapes and dtypes, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.io import read_metadata, write_safetensors

from .helpers import MLP, assert_same_state, randomize, small_model


def test_round_trip_into_a_fresh_model(tmp_path):
    model = randomize(small_model())
    path = model.save_weights(tmp_path / "w.safetensors")
    assert read_metadata(path)["format"] == "gradkit.weights"
    fresh = small_model()
    result = fresh.load_weights(path)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert_same_state(model, fresh)


def test_custom_module_weights(tmp_path):
    model = randomize(MLP(hidden=3))
    other = MLP(hidden=3)
    other.load_weights(model.save_weights(tmp_path / "w.safetensors"))
    assert_same_state(model, other)


def test_wrong_shapes_name_the_file_key_and_shapes(tmp_path):
    path = MLP(hidden=3).save_weights(tmp_path / "w.safetensors")
    target = MLP(hidden=4)
    before = target.state_dict()
    with pytest.raises(nn.StateDictError) as info:
        target.load_weights(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "shape mismatch for 'fc1.weight': the model expects (4, 4), the state dict has (3, 4)" \
        in msg
    assert info.value.mismatched == ["fc1.weight", "fc1.bias", "fc2.weight"]
    for k, v in target.state_dict().items():  # nothing changed
        np.testing.assert_array_equal(v, before[k])


def test_missing_and_unexpected_keys(tmp_path):
    path = tmp_path / "w.safetensors"
    state = MLP().state_dict()
    state["extra.weight"] = np.zeros(2, np.float32)
    del state["fc2.bias"]
    write_safetensors(path, state)
    with pytest.raises(ValueError, match=r"missing keys: 'fc2.bias'.*\n.*unexpected keys: "
                                         r"'extra.weight'"):
        MLP().load_weights(path)
    result = MLP().load_weights(path, strict=False)
    assert result.missing_keys == ["fc2.bias"] and result.unexpected_keys == ["extra.weight"]


def test_integer_data_for_float_weights_is_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    state = nn.Linear(2, 2).state_dict()
    state["weight"] = np.ones((2, 2), np.int64)
    write_safetensors(path, state)
    with pytest.raises(ValueError, match=r"dtype mismatch for 'weight': the model holds float32, "
                                         r"the file has int64"):
        nn.Linear(2, 2).load_weights(path)


def test_float_into_int_buffer_is_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    state = nn.BatchNorm1d(2).state_dict()
    state["num_batches_tracked"] = np.array(1.5)
    write_safetensors(path, state)
    with pytest.raises(ValueError, match="num_batches_tracked.*refusing to cast float64 to int64"):
        nn.BatchNorm1d(2).load_weights(path)


def test_load_weights_reads_gk_save_files_and_checkpoints(tmp_path):
    model = randomize(small_model())
    fresh = small_model()
    fresh.load_weights(gk.save(model, tmp_path / "m.safetensors"))
    assert_same_state(model, fresh)
    opt = optim.SGD(model.parameters(), lr=0.1)
    ckpt = gk.save_checkpoint(tmp_path / "c.safetensors", model, opt, epoch=1)
    fresh = small_model()
    fresh.load_weights(ckpt)
    assert_same_state(model, fresh)


def test_dtypes_survive(tmp_path):
    model = randomize(nn.Sequential(nn.Linear(3, 2, dtype="float64"), nn.BatchNorm1d(2)))
    fresh = nn.Sequential(nn.Linear(3, 2, dtype="float64"), nn.BatchNorm1d(2))
    fresh.load_weights(model.save_weights(tmp_path / "w.safetensors"))
    assert fresh[0].weight.dtype == np.float64
    assert fresh[1].num_batches_tracked.dtype == np.int64
    assert_same_state(model, fresh)
