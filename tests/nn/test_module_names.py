"""A parameter, buffer or child may not take the name of a Module method (PyTorch's rule):
`forward` or `load_state_dict` as a child would silently replace the method."""

import json

import numpy as np
import pytest

import gradkit as gk
from gradkit.io.safe import write_safetensors
from gradkit.io.serialize import MODEL, header


@pytest.mark.parametrize("name", ["forward", "load_state_dict", "parameters"])
def test_add_module_refuses_a_method_name(name):
    m = gk.nn.Sequential()
    with pytest.raises(KeyError, match=f"would hide the Sequential.{name} method"):
        m.add_module(name, gk.nn.ReLU())
    assert callable(getattr(m, name))


def test_setattr_and_register_parameter_refuse_a_method_name():
    m = gk.nn.Linear(2, 2)
    with pytest.raises(KeyError, match="would hide"):
        m.forward = gk.nn.ReLU()
    with pytest.raises(KeyError, match="would hide"):
        m.register_parameter("state_dict", gk.nn.Parameter(gk.zeros(2)))
    m.extra = gk.nn.ReLU()  # any other name is fine
    assert "extra" in dict(m.named_children())


def test_a_file_naming_a_child_forward_is_refused_at_load(tmp_path):
    arch = {"class": "Sequential", "children": [["forward", {"class": "ReLU", "config": {}}]]}
    path = tmp_path / "m.safetensors"
    write_safetensors(path, {"x": np.zeros(1, np.float32)},
                      header(MODEL, architecture=json.dumps({"model": arch, "training": False})))
    with pytest.raises((KeyError, gk.io.ConfigError), match="forward"):
        gk.load(path)
