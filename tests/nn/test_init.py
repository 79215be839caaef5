"""nn.init: statistics of each initialiser, fan and gain calculations equal to PyTorch's."""

import math

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.nn import init

SHAPES = [(3, 4), (5, 3, 2, 2), (7, 1), (2, 6, 3)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_pytorch(torch, shape):
    want = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.calculate_fan_in_and_fan_out(gk.zeros(shape)) == want


def test_fans_need_two_axes():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.calculate_fan_in_and_fan_out(gk.zeros(5))


@pytest.mark.parametrize("args", [("linear",), ("sigmoid",), ("tanh",), ("relu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2),
                                  ("leaky_relu", math.sqrt(5)), ("selu",), ("conv2d",)])
def test_gains_match_pytorch(torch, args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))


def test_gain_rejects_unknown_nonlinearity():
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def _big(*shape):
    return nn.Parameter(gk.zeros(*shape))  # requires grad: init must still work (no graph)


def _check_uniform(t, bound):
    a = t.numpy()
    assert np.abs(a).max() <= bound
    assert abs(a.mean()) < 0.02 * bound
    assert a.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def _check_normal(t, std, mean=0.0):
    a = t.numpy()
    assert a.mean() == pytest.approx(mean, abs=0.02 * std)
    assert a.std() == pytest.approx(std, rel=0.02)


def test_uniform_and_normal():
    t = _big(200, 300)
    assert init.uniform_(t, -2.0, 4.0) is t
    a = t.numpy()
    assert a.min() >= -2 and a.max() <= 4 and a.mean() == pytest.approx(1.0, abs=0.03)
    assert init.normal_(t, mean=3.0, std=0.5) is t
    _check_normal(t, 0.5, mean=3.0)
    assert t.grad is None and t.is_leaf and t.dtype == np.float32


def test_constant_zeros_ones():
    t = _big(3, 4)
    assert np.all(init.constant_(t, 2.5).numpy() == 2.5)
    assert np.all(init.ones_(t).numpy() == 1)
    assert np.all(init.zeros_(t).numpy() == 0)


def test_xavier():
    t = _big(300, 200)
    init.xavier_uniform_(t, gain=2.0)
    _check_uniform(t, 2.0 * math.sqrt(6 / 500))
    init.xavier_normal_(t)
    _check_normal(t, math.sqrt(2 / 500))


@pytest.mark.parametrize("mode, fan", [("fan_in", 200), ("fan_out", 300)])
def test_kaiming(mode, fan):
    t = _big(300, 200)
    init.kaiming_uniform_(t, mode=mode, nonlinearity="relu")
    _check_uniform(t, math.sqrt(2) * math.sqrt(3 / fan))
    init.kaiming_normal_(t, a=0.1, mode=mode)
    _check_normal(t, math.sqrt(2 / (1 + 0.01)) / math.sqrt(fan))


def test_kaiming_uniform_sqrt5_is_pytorch_linear_default():
    t = _big(400, 250)
    init.kaiming_uniform_(t, a=math.sqrt(5))
    _check_uniform(t, 1 / math.sqrt(250))


def test_init_is_reproducible_and_keeps_float64():
    t = gk.zeros(20, 10, dtype="float64")
    gk.manual_seed(7)
    a = init.xavier_normal_(t).numpy().copy()
    gk.manual_seed(7)
    np.testing.assert_array_equal(init.xavier_normal_(t).numpy(), a)
    assert t.dtype == np.float64


def test_init_errors():
    with pytest.raises(ValueError, match="fan_in, fan_out"):
        init.kaiming_uniform_(gk.zeros(2, 2), mode="fan_avg")
    with pytest.raises(TypeError, match="Tensor"):
        init.normal_(np.zeros(3))
    with pytest.raises(TypeError, match="floating"):
        init.normal_(gk.zeros(3, dtype="int64"))
    assert init.kaiming_normal_(gk.zeros(0, 3)).shape == (0, 3)  # empty: nothing to do
