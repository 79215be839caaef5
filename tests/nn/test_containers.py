"""Sequential and ModuleList (gradkit/nn/containers.py)."""

from collections import OrderedDict

import pytest

import gradkit as gk
from gradkit import nn


def test_sequential_indexing_and_growth():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b
    assert seq.append(c) is seq and len(seq) == 3 and seq[2] is c
    assert list(seq) == [a, b, c]
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and list(head) == [b, c]
    assert [n for n, _ in head.named_parameters()] == ["2.weight", "2.bias"]
    assert seq(gk.randn(5, 2)).shape == (5, 1)
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    with pytest.raises(TypeError, match="Module"):
        nn.Sequential(nn.Linear(2, 2), gk.relu)


def test_sequential_from_ordered_dict():
    seq = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.Tanh())]))
    assert [n for n, _ in seq.named_parameters()] == ["hidden.weight", "hidden.bias"]
    assert seq.hidden is seq[0]


def test_module_list():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.Linear(1, 2)).extend([nn.Linear(2, 3)])
    assert len(ml) == 3 and [m.out_features for m in ml] == [1, 2, 3]
    assert ml[-1].out_features == 3 and isinstance(ml[:2], nn.ModuleList)
    ml[0] = nn.Linear(1, 5)
    ml.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in ml] == ["Linear", "Tanh", "Linear", "Linear"]
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"]
    assert [n for n, _ in ml.named_parameters()][2] == "2.weight"
    del ml[1]
    assert [n for n, _ in ml.named_children()] == ["0", "1", "2"]
    with pytest.raises(NotImplementedError, match="iterate"):
        ml(gk.zeros(1))
