"""Sequential under no_grad (gradkit/nn/inference.py): Linear layers on arrays, the numbers,
checks and errors of the normal path, and the normal path wherever the plan does not apply."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.errors import ShapeError
from gradkit.nn import inference


def _mlp(act=nn.ReLU, dtype=None):
    gk.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8, dtype=dtype), act(), nn.Linear(8, 8, dtype=dtype),
                         act(), nn.Linear(8, 3, dtype=dtype))


def _both(model, x):
    """(no_grad output, output with the graph) of model(x)."""
    with gk.no_grad():
        fast = model(x)
    return fast, model(x)


@pytest.mark.parametrize("act", [nn.ReLU, nn.Tanh])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 6), (6,), (2, 3, 6)])
def test_no_grad_gives_the_graph_paths_numbers_bit_for_bit(rng, act, dtype, shape):
    model = _mlp(act, dtype)
    x = gk.tensor(rng.standard_normal(shape).astype(dtype))
    fast, slow = _both(model, x)
    assert isinstance(fast, gk.Tensor) and not fast.requires_grad
    assert fast.shape == slow.shape and fast.dtype == slow.dtype
    assert np.array_equal(fast.numpy(), slow.numpy())
    assert slow.requires_grad


def test_the_plan_runs_without_the_linear_op(rng, monkeypatch):
    model = _mlp()
    x = rng.standard_normal((4, 6)).astype(np.float32)
    with gk.no_grad():
        expected = model(x).numpy()
    monkeypatch.setattr(nn.layers, "linear", lambda *a, **k: pytest.fail("linear op called"))
    with gk.no_grad():
        assert np.array_equal(model(x).numpy(), expected)  # a NumPy array in works too


def test_nan_input_is_refused_as_by_the_layer(rng):
    model = _mlp()
    x = rng.standard_normal((4, 6)).astype(np.float32)
    x[1, 2] = np.nan
    with gk.no_grad(), pytest.raises(ValueError, match="1 NaN") as fast:
        model(gk.tensor(x))
    with pytest.raises(ValueError, match="1 NaN") as slow:
        model(gk.tensor(x))
    assert str(fast.value) == str(slow.value)


def test_wrong_shapes_and_dtypes_take_the_normal_path_and_its_errors(rng):
    model = _mlp()
    with gk.no_grad(), pytest.raises(ShapeError, match="Linear"):
        model(gk.tensor(rng.standard_normal((4, 5)).astype(np.float32)))
    x64 = rng.standard_normal((4, 6))  # float64 data into a float32 model
    with gk.no_grad():
        fast = model(gk.tensor(x64, dtype=np.float64))
    assert np.array_equal(fast.numpy(), model(gk.tensor(x64, dtype=np.float64)).numpy())


def test_other_layers_run_as_modules_between_the_linear_ones(rng):
    gk.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Dropout(0.5), nn.Linear(8, 8),
                          nn.ReLU(), nn.LayerNorm(8), nn.Linear(8, 3), nn.Softmax())
    model.eval()
    x = gk.tensor(rng.standard_normal((5, 3, 4)).astype(np.float32))
    fast, slow = _both(model, x)
    assert np.array_equal(fast.numpy(), slow.numpy())


def test_the_plan_follows_changes_to_the_model(rng):
    model = _mlp()
    x = gk.tensor(rng.standard_normal((3, 6)).astype(np.float32))
    with gk.no_grad():
        first = model(x).numpy()
        model[4].weight.data = model[4].weight.data * 2  # new weights are read each call
        assert np.array_equal(model(x).numpy(), model(x).numpy())
        assert not np.array_equal(model(x).numpy(), first)
        model.append(nn.Tanh())  # a new layer: a new plan
        out = model(x).numpy()
    assert np.array_equal(out, model(x).numpy()) and np.all(np.abs(out) <= 1)


def test_a_spy_or_a_subclass_forward_is_called(rng):
    model = _mlp()
    calls = []
    lin = model[2]
    original = lin.forward
    lin.forward = lambda x: calls.append(1) or original(x)  # what summary() does
    x = gk.tensor(rng.standard_normal((3, 6)).astype(np.float32))
    with gk.no_grad():
        model(x)
    assert calls == [1]
    del lin.forward

    class Doubled(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2

    gk.manual_seed(0)
    odd = nn.Sequential(Doubled(6, 3))
    with gk.no_grad():
        assert np.array_equal(odd(x).numpy(), (x.numpy() @ odd[0].weight.numpy().T
                                               + odd[0].bias.numpy()) * 2)


def test_models_without_linear_layers_use_the_normal_loop(rng):
    model = nn.Sequential(nn.ReLU(), nn.Tanh())
    x = rng.standard_normal((3, 4)).astype(np.float32)
    with gk.no_grad():
        assert np.array_equal(model(x).numpy(), np.tanh(np.maximum(x, 0)))
    assert inference._PLANS[model][1] is None
