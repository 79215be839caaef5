"""torch.nn.init and torch.nn.utils: PyTorch's formulas (bounds, fans, gains), in place,
no graph recorded; clip_grad_norm_ / clip_grad_value_ against real PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradkit as gk
import gradkit.torch as gt

init = gt.nn.init


def test_fills_in_place_and_returns_the_tensor():
    w = gt.nn.Linear(50, 40).weight
    for fn, args in ((init.zeros_, ()), (init.ones_, ()), (init.constant_, (0.3,)),
                     (init.uniform_, (-1.0, 1.0)), (init.normal_, (0.0, 0.1)),
                     (init.xavier_uniform_, ()), (init.kaiming_normal_, ())):
        assert fn(w, *args) is w
        assert w.requires_grad and w.grad_fn is None and type(w) is gt.nn.Parameter
    init.constant_(w, 0.3)
    assert np.all(w.numpy() == np.float32(0.3))


@pytest.mark.parametrize("name, kwargs, bound", [
    ("uniform_", {"a": -0.2, "b": 0.5}, None),
    ("xavier_uniform_", {"gain": 2.0}, 2.0 * math.sqrt(6 / (200 + 300))),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, math.sqrt(6 / (1 + 5)) / math.sqrt(200)),
    ("kaiming_uniform_", {"nonlinearity": "relu", "mode": "fan_out"},
     math.sqrt(2) * math.sqrt(3 / 300)),
])
def test_uniform_inits_fill_pytorchs_range(name, kwargs, bound):
    gk.manual_seed(0)
    t = gt.empty(300, 200)
    getattr(init, name)(t, **kwargs)
    v = t.numpy()
    lo, hi = (kwargs["a"], kwargs["b"]) if bound is None else (-bound, bound)
    assert v.min() >= lo and v.max() <= hi
    assert v.min() < lo + 0.01 * (hi - lo) and v.max() > hi - 0.01 * (hi - lo)


@pytest.mark.parametrize("name, kwargs, std", [
    ("normal_", {"mean": 1.0, "std": 0.5}, 0.5),
    ("xavier_normal_", {}, math.sqrt(2 / 500)),
    ("kaiming_normal_", {"nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(200)),
])
def test_normal_inits_have_pytorchs_spread(name, kwargs, std):
    gk.manual_seed(0)
    t = gt.empty(300, 200)
    getattr(init, name)(t, **kwargs)
    assert t.numpy().std() == pytest.approx(std, rel=0.02)
    assert t.numpy().mean() == pytest.approx(kwargs.get("mean", 0.0), abs=0.01)


def test_trunc_normal_eye_orthogonal():
    gk.manual_seed(0)
    t = init.trunc_normal_(gt.empty(100, 100), std=1.0, a=-1.0, b=1.5)
    v = t.numpy()
    assert v.min() >= -1.0 and v.max() <= 1.5 and v.min() < -0.98 and v.max() > 1.48
    e = init.eye_(gt.empty(3, 4))
    np.testing.assert_array_equal(e.numpy(), np.eye(3, 4))
    q = init.orthogonal_(gt.empty(4, 6), gain=2.0).numpy().astype(np.float64)
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(4), atol=1e-5)
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(gt.empty(3))


def test_gains_and_fans_match_pytorch(torch):
    for nl, param in (("linear", None), ("relu", None), ("tanh", None), ("leaky_relu", 0.2),
                      ("sigmoid", None), ("selu", None)):
        assert init.calculate_gain(nl, param) == pytest.approx(
            torch.nn.init.calculate_gain(nl, param))
    for shape in ((3, 4), (6, 2, 3, 3), (5, 4, 7)):
        assert init._calculate_fan_in_and_fan_out(gt.empty(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_generator_is_refused_with_a_hint():
    with pytest.raises(NotImplementedError, match="manual_seed"):
        init.normal_(gt.empty(2), generator=object())


@pytest.mark.parametrize("max_norm, norm_type", [(0.5, 2.0), (100.0, 2.0), (0.3, 1.0),
                                                 (0.1, float("inf"))])
def test_clip_grad_norm_matches_pytorch(torch, max_norm, norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (4,), (2, 2, 2))]
    results = []
    for mod in (gt, torch):
        ps = [mod.nn.Parameter(mod.zeros(*g.shape)) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = mod.tensor(g.copy())
        total = mod.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
        results.append((float(total), [p.grad.numpy() for p in ps]))
    (ta, ga), (tb, gb) = results
    assert ta == pytest.approx(tb, rel=1e-6)
    for a, b in zip(ga, gb):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_clip_grad_value_and_parameter_vectors(torch):
    m = gt.nn.Linear(3, 2)
    m(gt.randn(4, 3)).sum().backward()
    gt.nn.utils.clip_grad_value_(m.parameters(), 0.1)
    assert all(float(p.grad.abs().max()) <= np.float32(0.1) for p in m.parameters())
    v = gt.nn.utils.parameters_to_vector(m.parameters())
    assert type(v) is gt.Tensor and v.shape == (8,)
    gt.nn.utils.vector_to_parameters(gt.arange(8.0), m.parameters())
    np.testing.assert_array_equal(m.bias.detach().numpy(), [6.0, 7.0])
    seqs = [gt.ones(2, 3), gt.ones(4, 3)]
    padded = gt.nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    want = torch.nn.utils.rnn.pad_sequence([torch.ones(2, 3), torch.ones(4, 3)],
                                           batch_first=True)
    np.testing.assert_array_equal(padded.numpy(), want.numpy())
    with pytest.raises(AttributeError, match="PackedSequence"):
        gt.nn.utils.rnn.pack_padded_sequence  # noqa: B018
