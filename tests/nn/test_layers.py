"""Layers: Linear, activations, Dropout, Flatten, Identity (BatchNorm/LayerNorm: test_norm.py)."""

import math

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn

from .helpers import close, forward_backward, load_from_torch, torch_state

# ---- Linear --------------------------------------------------------------------------------------


def test_linear_shapes_and_default_init_bounds():
    m = nn.Linear(400, 30)
    assert m.weight.shape == (30, 400) and m.bias.shape == (30,)
    assert m.weight.dtype == np.float32 and m.weight.requires_grad
    bound = 1 / math.sqrt(400)
    w = m.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound  # uniform on [-bound, bound]
    assert nn.Linear(3, 2, bias=False).bias is None
    assert [n for n, _ in nn.Linear(3, 2, bias=False).named_parameters()] == ["weight"]


def test_linear_init_is_reproducible():
    gk.manual_seed(3)
    a = nn.Linear(5, 4).state_dict()
    gk.manual_seed(3)
    b = nn.Linear(5, 4).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5), (5,)])
def test_linear_matches_pytorch(torch, rng, shape, bias):
    m, tm = nn.Linear(5, 4, bias=bias), torch.nn.Linear(5, 4, bias=bias)
    tm.load_state_dict(torch_state(torch, m))  # gradkit -> torch
    x = rng.standard_normal(shape).astype(np.float32)
    got, want, gx, tx = forward_backward(m, tm, torch, x)
    close(got, want)
    close(gx, tx, rtol=1e-4, atol=1e-5)
    close(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    if bias:
        close(m.bias.grad.numpy(), tm.bias.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_linear_loads_torch_weights(torch):
    tm = torch.nn.Linear(3, 2)
    m = nn.Linear(3, 2)
    load_from_torch(m, tm)  # torch -> gradkit
    x = np.ones((1, 3), np.float32)
    close(m(gk.tensor(x)).numpy(), tm(torch.tensor(x)).detach().numpy())


def test_linear_gradcheck_float64():
    m = nn.Linear(3, 2).to(dtype="float64")
    assert gk.gradcheck(lambda x, w, b: nn.functional.linear(x, w, b), gk.randn(4, 3),
                        m.weight, m.bias)
    assert gk.gradcheck(lambda x: m(x), gk.randn(2, 3))


def test_linear_bad_shape_names_the_layer():
    m = nn.Linear(784, 512)
    with pytest.raises(gk.ShapeError) as info:
        m(gk.zeros(32, 28, 28))
    msg = str(info.value)
    assert msg.startswith("Linear(in_features=784, out_features=512, bias=True) got input of "
                          "shape (32, 28, 28): its last axis must be 784")
    assert "nn.Flatten()" in msg
    assert isinstance(info.value, ValueError)
    with pytest.raises(gk.ShapeError, match=r"shape \(4, 3\): its last axis must be 784$"):
        m(np.zeros((4, 3), np.float32))


def test_linear_refuses_nan_and_inf_data_naming_the_layer(device):
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).to(device)
    x = np.ones((5, 4), np.float32)
    x[2, 1], x[3, 0] = np.nan, np.inf
    with pytest.raises(ValueError) as info:  # on a GPU: raised when a value is read back
        m(gk.tensor(x, device=device)).numpy()
    msg = str(info.value)
    assert msg.startswith("Linear(in_features=4, out_features=3, bias=True) got input of "
                          "shape (5, 4) with ")
    if device == "cpu":
        assert "1 NaN and 1 inf values (the first in row 2)" in msg
    else:  # pragma: no cover - needs a GPU
        assert "2 NaN or inf values" in msg
    with pytest.raises(ValueError, match=r"with 1 NaN and 0 inf values \(the first in position"):
        nn.Linear(3, 1)(np.array([0.0, np.nan, 1.0], np.float32))


def test_finite_checks_cost_one_reduction_per_forward(monkeypatch):
    from gradkit.nn import layers

    calls = []
    real = layers._check_finite_input
    monkeypatch.setattr(layers, "_check_finite_input", lambda m, x: calls.append(m) or real(m, x))
    m = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8),
                      nn.Linear(8, 2))
    m(gk.randn(3, 2, 2)).sum().backward()  # only the data is checked, not the layers' outputs
    assert calls == [m[1]]
    with gk.no_grad():  # nor when no graph is recorded (inference)
        m(gk.randn(3, 2, 2))
    assert calls == [m[1], m[1]]
    bad = np.ones((3, 2, 2), np.float32)
    bad[1, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"^Linear\(in_features=4.*1 NaN and 0 inf values "
                                         r"\(the first in row 1\)"):
        m(bad)  # flattened data is still data
    for rows in (2, 2000):  # small inputs are summed, large ones dotted with themselves
        big = np.full((rows, 4), 3e38, np.float32)  # overflows, yet every value is finite
        nn.Linear(4, 1)(big)  # no error
        big[-1, 2] = -np.inf
        with pytest.raises(ValueError, match=rf"0 NaN and 1 inf values \(the first in row "
                                             rf"{rows - 1}\)"):
            nn.Linear(4, 1)(big)


# ---- activations --------------------------------------------------------------------------------

ACTIVATIONS = [
    (nn.ReLU(), lambda t: t.nn.ReLU()),
    (nn.LeakyReLU(0.2), lambda t: t.nn.LeakyReLU(0.2)),
    (nn.LeakyReLU(), lambda t: t.nn.LeakyReLU()),
    (nn.Tanh(), lambda t: t.nn.Tanh()),
    (nn.Sigmoid(), lambda t: t.nn.Sigmoid()),
    (nn.GELU(), lambda t: t.nn.GELU()),
    (nn.ELU(), lambda t: t.nn.ELU()),
    (nn.ELU(0.5), lambda t: t.nn.ELU(0.5)),
    (nn.Softplus(), lambda t: t.nn.Softplus()),
    (nn.Softplus(beta=2.0), lambda t: t.nn.Softplus(beta=2.0)),
    (nn.Softmax(), lambda t: t.nn.Softmax(dim=-1)),
    (nn.Softmax(axis=0), lambda t: t.nn.Softmax(dim=0)),
    (nn.LogSoftmax(), lambda t: t.nn.LogSoftmax(dim=-1)),
    (nn.LogSoftmax(axis=1), lambda t: t.nn.LogSoftmax(dim=1)),
    (nn.Identity(), lambda t: t.nn.Identity()),
    (nn.Flatten(), lambda t: t.nn.Flatten()),
    (nn.Flatten(0), lambda t: t.nn.Flatten(0)),
    (nn.Flatten(1, 2), lambda t: t.nn.Flatten(1, 2)),
]


@pytest.mark.parametrize("layer, make", ACTIVATIONS, ids=[repr(a[0]) for a in ACTIVATIONS])
def test_activation_layers_match_pytorch(torch, rng, layer, make):
    x = rng.standard_normal((4, 3, 5)).astype(np.float32) * 3
    x[np.abs(x) < 1e-3] = 0.5  # keep away from kinks
    got, want, gx, tx = forward_backward(layer, make(torch), torch, x)
    close(got, want, rtol=1e-5, atol=1e-6)
    close(gx, tx, rtol=1e-4, atol=1e-5)


REPRS = {
    "ReLU()": nn.ReLU(), "LeakyReLU(negative_slope=0.01)": nn.LeakyReLU(),
    "Tanh()": nn.Tanh(), "Sigmoid()": nn.Sigmoid(), "GELU()": nn.GELU(),
    "ELU(alpha=1.0)": nn.ELU(), "Softplus(beta=1.0)": nn.Softplus(),
    "Softmax(axis=-1)": nn.Softmax(), "LogSoftmax(axis=1)": nn.LogSoftmax(axis=1),
    "Dropout(p=0.5)": nn.Dropout(), "Flatten(start_axis=1, end_axis=-1)": nn.Flatten(),
    "Identity()": nn.Identity(),
    "Linear(in_features=2, out_features=3, bias=False)": nn.Linear(2, 3, bias=False),
    "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)":
        nn.BatchNorm1d(4),
    "LayerNorm((4, 2), eps=1e-05, elementwise_affine=True)": nn.LayerNorm((4, 2)),
}


@pytest.mark.parametrize("text", list(REPRS))
def test_layer_reprs(text):
    assert repr(REPRS[text]) == text


def test_flatten_keeps_the_batch_axis_and_names_itself():
    assert nn.Flatten()(gk.zeros(8, 1, 28, 28)).shape == (8, 784)
    assert nn.Flatten()(gk.zeros(0, 2, 3)).shape == (0, 6)
    with pytest.raises(gk.ShapeError, match=r"Flatten\(start_axis=1, end_axis=-1\) got input of "
                                            r"shape \(5,\)"):
        nn.Flatten()(gk.zeros(5))


def test_activation_accepts_numpy_input():
    assert nn.ReLU()(np.array([-1.0, 2.0], np.float32)).tolist() == [0.0, 2.0]


# ---- Dropout -------------------------------------------------------------------------------------


def test_dropout_eval_is_identity():
    d = nn.Dropout(0.5).eval()
    x = gk.randn(10, 10)
    assert d(x) is x


def test_dropout_train_zeroes_about_p_and_scales():
    d = nn.Dropout(0.3)
    x = gk.ones(200, 500, requires_grad=True)
    y = d(x)
    out = y.numpy()
    zero = out == 0
    assert abs(zero.mean() - 0.3) < 0.01
    np.testing.assert_allclose(out[~zero], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out)  # gradient uses the same mask


def test_dropout_is_reproducible_under_manual_seed():
    x = gk.ones(50, 50)
    gk.manual_seed(42)
    a = nn.Dropout(0.5)(x).numpy()
    gk.manual_seed(42)
    b = nn.Dropout(0.5)(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, nn.Dropout(0.5)(x).numpy())


def test_dropout_edge_probabilities():
    x = gk.randn(4, 4)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        nn.Dropout(1.5)


def test_dropout_follows_train_and_eval():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9))
    x = gk.randn(64, 4)
    model.eval()
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.train()
    assert (model(x).numpy() == 0).mean() > 0.5
