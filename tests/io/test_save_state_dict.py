"""gk.save(model.state_dict(), path) works like torch.save: gk.load gives the dict back."""

import numpy as np
import pytest

import gradkit as gk


def test_state_dict_round_trips_and_loads_into_a_model(tmp_path):
    m = gk.nn.Sequential(gk.nn.Linear(3, 4), gk.nn.ReLU(), gk.nn.Linear(4, 2))
    path = tmp_path / "sd.safetensors"
    gk.save(m.state_dict(), path)
    back = gk.load(path)
    assert isinstance(back, dict) and set(back) == set(m.state_dict())
    other = gk.nn.Sequential(gk.nn.Linear(3, 4), gk.nn.ReLU(), gk.nn.Linear(4, 2))
    other.load_state_dict(back)
    x = gk.randn(5, 3)
    np.testing.assert_array_equal(other(x).numpy(), m(x).numpy())
    other.load_weights(path)  # the same file is a plain weights file too


def test_tensors_in_the_dict_are_saved_as_arrays(tmp_path):
    path = tmp_path / "t.safetensors"
    gk.save({"w": gk.tensor([[1.0, 2.0]]), "n": np.arange(3)}, path)
    back = gk.load(path)
    np.testing.assert_array_equal(back["w"], [[1.0, 2.0]])
    assert back["n"].dtype == np.int64


@pytest.mark.parametrize("bad, match", [(3, "Module or a state dict"),
                                        ({"w": "text"}, "'w' is a str"),
                                        ({1: np.zeros(2)}, "keys must be strings")])
def test_bad_input_is_refused_by_name(tmp_path, bad, match):
    with pytest.raises(TypeError, match=match):
        gk.save(bad, tmp_path / "x.safetensors")


def test_a_zero_d_tensor_formats_as_its_number():
    t = gk.tensor(0.25)
    assert f"{t}" == "0.25" and f"{t:.3f}" == "0.250" and f"{gk.tensor(3):>3}" == "  3"
    assert f"{gk.tensor([1.0, 2.0])}" == str(gk.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        f"{gk.tensor([1.0, 2.0]):.2f}"
