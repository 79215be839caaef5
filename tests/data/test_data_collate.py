"""default_collate: structure kept, leaves stacked, gradkit's dtype rules, clear errors."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import gradkit as gk
from gradkit.data import default_collate

Pair = namedtuple("Pair", "x y")


def test_numbers():
    assert default_collate([1, 2, 3]).dtype == np.int64
    assert default_collate([1.0, 2.5]).dtype == np.float32
    assert default_collate([1, 2.5]).dtype == np.float32
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.int32(1), np.int32(2)]).dtype == np.int32
    assert default_collate([np.float64(1), np.float64(2)]).dtype == np.float32


def test_arrays_and_tensors():
    out = default_collate([np.zeros((2, 3), np.uint8)] * 4)
    assert isinstance(out, gk.Tensor) and out.shape == (4, 2, 3) and out.dtype == np.uint8
    assert default_collate([np.zeros(2)] * 3).dtype == np.float32
    t = default_collate([gk.tensor([1.0, 2.0], dtype="float64")] * 2)
    assert t.shape == (2, 2) and t.dtype == np.float64  # Tensors keep their dtype


def test_structures():
    out = default_collate([Pair(np.ones(2), 1), Pair(np.zeros(2), 2)])
    assert isinstance(out, Pair) and out.x.shape == (2, 2) and out.y.tolist() == [1, 2]
    out = default_collate([[1, "a"], [2, "b"]])
    assert isinstance(out, list) and out[0].tolist() == [1, 2] and out[1] == ["a", "b"]
    out = default_collate([{"a": {"b": 1}}, {"a": {"b": 2}}])
    assert out["a"]["b"].tolist() == [1, 2]


@pytest.mark.parametrize(
    "samples, exc, msg",
    [
        ([], ValueError, "empty"),
        ([(1, 2), (1,)], ValueError, "different lengths"),
        ([np.zeros(2), np.zeros(3)], ValueError, r"different shapes \[\(2,\), \(3,\)\]"),
        ([None, None], TypeError, "NoneType"),
    ],
)
def test_errors(samples, exc, msg):
    with pytest.raises(exc, match=msg):
        default_collate(samples)
