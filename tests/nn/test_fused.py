"""Fused nodes give the numbers of the unfused ops they replace (forward and gradients).

- `linear(x, W, b, activation=...)` (what `Sequential` runs for Linear -> ReLU/Tanh) against
  `linear` followed by the `relu`/`tanh` op: bit for bit;
- `cross_entropy` (softmax + cross-entropy in one node) against `log_softmax` + `nll_loss`.
"""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.nn import functional as F
from gradkit.ops.neural import linear

ACTS = {"relu": gk.relu, "tanh": gk.tanh}


def _leaves(rng, dtype, shape=(7, 5), out=4):
    x = rng.standard_normal(shape).astype(dtype)
    x[0, :2] = 0.0  # some pre-activations at exactly 0 (ReLU's kink)
    w = rng.standard_normal((out, shape[-1])).astype(dtype)
    b = rng.standard_normal(out).astype(dtype)
    b[0] = 0.0
    return [gk.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, b)]


def _run(fn, leaves, g):
    for t in leaves:
        t.grad = None
    out = fn(*leaves)
    out.backward(gk.tensor(g, dtype=out.dtype))
    return out.numpy(), [t.grad.numpy() for t in leaves]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", ["relu", "tanh"])
@pytest.mark.parametrize("shape", [(7, 5), (2, 3, 5)])
def test_fused_linear_activation_equals_unfused(rng, dtype, act, shape):
    leaves = _leaves(rng, dtype, shape)
    g = rng.standard_normal(shape[:-1] + (4,)).astype(dtype)
    g_before = g.copy()
    fused, fused_grads = _run(lambda x, w, b: linear(x, w, b, act), leaves, g)
    plain, plain_grads = _run(lambda x, w, b: ACTS[act](linear(x, w, b)), leaves, g)
    np.testing.assert_array_equal(fused, plain)
    for a, b in zip(fused_grads, plain_grads):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(g, g_before)  # the incoming gradient is never written
    assert fused.dtype == dtype


def test_fused_linear_node_is_one_node_and_backward_twice_accumulates(rng):
    x, w, b = _leaves(rng, np.float32)
    out = linear(x, w, b, "relu")
    assert out._op == "linear+relu" and out._parents == (x, w, b)
    out.sum().backward(retain_graph=True)
    once = w.grad.numpy().copy()
    out.sum().backward()  # the graph (and the activation output it keeps) is intact
    np.testing.assert_allclose(w.grad.numpy(), 2 * once, rtol=1e-6)


def test_fused_linear_refuses_unknown_activation(rng):
    x, w, b = _leaves(rng, np.float32)
    with pytest.raises(ValueError, match="activation"):
        linear(x, w, b, "gelu")


def _model():
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 6), nn.Tanh(),
                         nn.Linear(6, 3), nn.ReLU())


@pytest.mark.parametrize("grad_mode", [True, False])
def test_sequential_fuses_and_matches_layer_by_layer(rng, grad_mode):
    gk.manual_seed(0)
    model = _model()
    x = gk.tensor(rng.standard_normal((9, 5)).astype(np.float32))
    g = rng.standard_normal((9, 3)).astype(np.float32)

    def layer_by_layer(t):
        for m in model:
            t = m(t)  # each layer's own forward: no fusion
        return t

    results = []
    for fn in (model, layer_by_layer):
        model.zero_grad()
        with gk.enable_grad() if grad_mode else gk.no_grad():
            out = fn(x)
        if grad_mode:
            out.backward(gk.tensor(g))
            results.append([out.numpy()] + [p.grad.numpy() for p in model.parameters()])
        else:
            results.append([out.numpy()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    if grad_mode:
        out = model(x)
        assert out._op == "linear+relu" and out._parents[0]._op == "linear+tanh"


def _layer_by_layer(model, x):
    for m in model:
        x = m(x)  # each layer's own forward: no fusion
    return x


def test_sequential_fuses_subclasses_that_keep_the_forward(rng):
    class Named(nn.Linear):  # adds a method, keeps Linear.forward
        def describe(self):
            return f"{self.in_features} -> {self.out_features}"

    class MyReLU(nn.ReLU):
        pass

    class MyTanh(nn.Tanh):
        extra = 1

    model = nn.Sequential(Named(3, 5), MyReLU(), Named(5, 4), MyTanh())
    x = gk.tensor(rng.standard_normal((6, 3)).astype(np.float32))
    out = model(x)
    assert out._op == "linear+tanh" and out._parents[0]._op == "linear+relu"  # fused
    np.testing.assert_array_equal(out.numpy(), _layer_by_layer(model, x).numpy())


def test_sequential_does_not_fuse_a_linear_whose_forward_or_call_is_its_own(rng):
    calls = []

    class Doubled(nn.Linear):
        def forward(self, x):
            calls.append("forward")
            return super().forward(x) * 2.0

    class Hooked(nn.Linear):
        def __call__(self, x):
            calls.append("call")
            return super().__call__(x)

    x = gk.tensor(rng.standard_normal((6, 3)).astype(np.float32))
    gk.manual_seed(0)
    model = nn.Sequential(Doubled(3, 5), nn.ReLU())
    out = model(x)
    assert calls == ["forward"] and out._op == "relu"  # not fused: its forward ran
    lin = model[0]
    want = gk.relu(gk.ops.linear(x, lin.weight, lin.bias) * 2.0)
    np.testing.assert_array_equal(out.numpy(), want.numpy())
    calls.clear()
    out = nn.Sequential(Hooked(3, 5), nn.Tanh())(x)
    assert calls == ["call"] and out._op == "tanh"


def test_sequential_fusion_follows_layers_changed_after_the_first_call(rng):
    x = gk.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU())
    assert model(x)._op == "linear+relu"
    model[1].__dict__["forward"] = lambda t: gk.tanh(t)  # e.g. summary's spy
    assert model(x)._op == "tanh"
    del model[1].__dict__["forward"]
    assert model(x)._op == "linear+relu"


def test_sequential_does_not_fuse_subclasses_or_patched_layers(rng):
    class Clipped(nn.ReLU):
        def forward(self, x):
            return gk.clip(x, 0.0, 0.5)

    x = gk.tensor(rng.standard_normal((4, 3)).astype(np.float32) * 3)
    model = nn.Sequential(nn.Linear(3, 5), Clipped())
    assert model(x).numpy().max() <= 0.5
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU())
    calls = []
    relu = model[1]
    relu.__dict__["forward"] = lambda t: calls.append(1) or gk.relu(t)  # e.g. summary's spy
    model(x)
    assert calls == [1]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_cross_entropy_equals_log_softmax_then_nll(rng, reduction, dtype):
    z = rng.standard_normal((6, 5)).astype(dtype) * 4
    y = gk.tensor(rng.integers(0, 5, 6))
    g = rng.standard_normal(() if reduction != "none" else (6,)).astype(dtype)
    logits = gk.tensor(z, dtype=dtype, requires_grad=True)
    fused, (g_fused,) = _run(lambda t: F.cross_entropy(t, y, reduction), [logits], g)
    plain, (g_plain,) = _run(lambda t: F.nll_loss(F.log_softmax(t, axis=1), y, reduction),
                             [logits], g)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fused, plain, rtol=tol, atol=tol)
    np.testing.assert_allclose(g_fused, g_plain, rtol=tol * 10, atol=tol)
    assert fused.dtype == dtype and g_fused.dtype == dtype


def test_fused_cross_entropy_mean_is_numpys_mean(rng):
    z = rng.standard_normal((33, 10)).astype(np.float32)
    y = rng.integers(0, 10, 33)
    got = F.cross_entropy(gk.tensor(z), gk.tensor(y)).numpy()
    per_row = F.cross_entropy(gk.tensor(z), gk.tensor(y), reduction="none").numpy()
    assert got == per_row.mean()
