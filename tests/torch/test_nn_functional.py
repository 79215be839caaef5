"""torch.nn.functional and the loss modules against real PyTorch 2.13: values and input
gradients, including weights, ignore_index, label smoothing, K-dimensional inputs,
pos_weight, the legacy size_average/reduce and every reduction."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.torch as gt

RNG = np.random.default_rng(3)
X = RNG.standard_normal((6, 4)).astype(np.float32)
X4 = RNG.standard_normal((2, 3, 5, 5)).astype(np.float32)
LABELS = np.array([0, 3, 1, 2, 3, 1])
PROBS = RNG.random((6, 4)).astype(np.float32)
W = np.array([0.2, 1.0, 2.0, 0.5], np.float32)


def _compare(torch, fn, *arrays, tol=2e-5, grad=True):
    """fn(module, *tensors) with both modules: same values, same gradients w.r.t. the
    floating inputs."""
    results = []
    for mod in (gt, torch):
        ts = [mod.tensor(a.copy()) for a in arrays]
        for t in ts:
            if grad and t.dtype.is_floating_point:
                t.requires_grad_(True)
        out = fn(mod, *ts)
        if grad and out.requires_grad:
            (out * mod.linspace(0.5, 1.5, out.numel()).reshape(out.shape)).sum().backward()
        results.append((out.detach().numpy(), [t.grad.numpy() if t.grad is not None else None
                                                for t in ts], str(out.dtype)))
    (a, ga, da), (b, gb, db) = results
    assert da == db
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    for x, y in zip(ga, gb):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


ACTIVATIONS = [
    lambda t, x: t.nn.functional.relu(x), lambda t, x: t.nn.functional.relu6(x * 4),
    lambda t, x: t.nn.functional.silu(x), lambda t, x: t.nn.functional.hardtanh(x, -0.5, 0.5),
    lambda t, x: t.nn.functional.tanh(x), lambda t, x: t.nn.functional.sigmoid(x),
    lambda t, x: t.nn.functional.gelu(x), lambda t, x: t.nn.functional.gelu(x, approximate="tanh"),
    lambda t, x: t.nn.functional.leaky_relu(x, 0.1), lambda t, x: t.nn.functional.elu(x, 0.7),
    lambda t, x: t.nn.functional.softplus(x, beta=2.0),
    lambda t, x: t.nn.functional.softmax(x, dim=1),
    lambda t, x: t.nn.functional.softmax(x, dim=0, dtype=t.float64),
    lambda t, x: t.nn.functional.log_softmax(x, dim=-1),
    lambda t, x: t.nn.functional.normalize(x), lambda t, x: t.nn.functional.normalize(x, p=1,
                                                                                        dim=0),
    lambda t, x: t.nn.functional.cosine_similarity(x[:3], x[3:]),
    lambda t, x: t.nn.functional.dropout(x, 0.3, training=False),
    lambda t, x: t.nn.functional.pad(x, (1, 2)),
    lambda t, x: t.nn.functional.pad(x, (1, 1, 2, 0), value=3.0),
    lambda t, x: t.nn.functional.layer_norm(x, (4,)),
    lambda t, x: t.nn.functional.linear(x, x[:3], x[0, :3]),
]


@pytest.mark.parametrize("fn", ACTIVATIONS, ids=[str(i) for i in range(len(ACTIVATIONS))])
def test_elementwise_and_dim_functions(torch, fn):
    _compare(torch, fn, X)


IMAGE = [
    lambda t, x: t.nn.functional.max_pool2d(x, 2),
    lambda t, x: t.nn.functional.max_pool2d(x, 3, stride=2, padding=1),
    lambda t, x: t.nn.functional.avg_pool2d(x, 2, stride=1),
    lambda t, x: t.nn.functional.adaptive_avg_pool2d(x, 2),
    lambda t, x: t.nn.functional.conv2d(x, x[:2, :, :3, :3], padding=1),
    lambda t, x: t.nn.functional.conv2d(x, x[:2, :, :3, :3], x[0, 0, 0, :2], stride=2),
    lambda t, x: t.nn.functional.dropout2d(x, 0.5, training=False),
    lambda t, x: t.nn.functional.interpolate(x, scale_factor=2),
    lambda t, x: t.nn.functional.batch_norm(x, None, None, training=True),
]


@pytest.mark.parametrize("fn", IMAGE, ids=[str(i) for i in range(len(IMAGE))])
def test_image_functions(torch, fn):
    _compare(torch, fn, X4)


@pytest.mark.parametrize("kwargs", [
    {}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.2},
    {"ignore_index": 3}, {"ignore_index": 1, "reduction": "sum"},
    {"ignore_index": 3, "reduction": "none"},
    {"weight": W}, {"weight": W, "reduction": "sum"}, {"weight": W, "reduction": "none"},
    {"weight": W, "label_smoothing": 0.1}, {"weight": W, "ignore_index": 1},
    {"weight": W, "ignore_index": 1, "label_smoothing": 0.3},
    {"ignore_index": 0, "label_smoothing": 0.2},
], ids=str)
def test_cross_entropy_with_labels(torch, kwargs):
    def fn(t, x, y):
        kw = {k: (t.tensor(v) if k == "weight" else v) for k, v in kwargs.items()}
        return t.nn.functional.cross_entropy(x, y, **kw)
    _compare(torch, fn, X, LABELS)
    _compare(torch, lambda t, x, y: t.nn.CrossEntropyLoss(**{
        k: (t.tensor(v) if k == "weight" else v) for k, v in kwargs.items()})(x, y), X, LABELS)


@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.1}, {"weight": W},
                                    {"weight": W, "reduction": "none"}], ids=str)
def test_cross_entropy_with_probabilities(torch, kwargs):
    def fn(t, x, p):
        kw = {k: (t.tensor(v) if k == "weight" else v) for k, v in kwargs.items()}
        return t.nn.functional.cross_entropy(x, p / p.sum(1, keepdim=True), **kw)
    _compare(torch, fn, X, PROBS)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_and_nll_of_k_dimensional_input(torch, reduction):
    x = RNG.standard_normal((2, 4, 3, 5)).astype(np.float32)
    y = RNG.integers(0, 4, (2, 3, 5))
    y[0, 0, 0] = -100
    _compare(torch, lambda t, a, b: t.nn.functional.cross_entropy(a, b, reduction=reduction),
             x, y)
    _compare(torch, lambda t, a, b: t.nn.functional.nll_loss(
        t.nn.functional.log_softmax(a, 1), b, reduction=reduction), x, y)
    _compare(torch, lambda t, a, b: t.nn.functional.cross_entropy(a[0, :, 0, 0], b[0, 1, 0]),
             x, y)  # one (C,) row and a 0-d label


@pytest.mark.parametrize("kwargs", [{}, {"reduction": "sum"}, {"reduction": "none"},
                                    {"weight": W}, {"ignore_index": 3},
                                    {"weight": W, "ignore_index": 1, "reduction": "none"}],
                         ids=str)
def test_nll_loss(torch, kwargs):
    def fn(t, x, y):
        kw = {k: (t.tensor(v) if k == "weight" else v) for k, v in kwargs.items()}
        return t.nn.NLLLoss(**kw)(t.nn.functional.log_softmax(x, 1), y)
    _compare(torch, fn, X, LABELS)


TARGET = RNG.standard_normal((6, 4)).astype(np.float32)
BINARY = (RNG.random((6, 4)) > 0.5).astype(np.float32)
POINTWISE = [
    lambda t, x, y: t.nn.functional.mse_loss(x, y),
    lambda t, x, y: t.nn.functional.mse_loss(x, y, reduction="none"),
    lambda t, x, y: t.nn.functional.mse_loss(x, y, weight=y.detach().abs()),
    lambda t, x, y: t.nn.functional.l1_loss(x, y, weight=y.detach().abs()),
    lambda t, x, y: t.nn.functional.huber_loss(x, y, weight=y.detach().abs()),
    lambda t, x, y: t.nn.functional.l1_loss(x, y, reduction="sum"),
    lambda t, x, y: t.nn.functional.huber_loss(x, y, delta=0.5),
    lambda t, x, y: t.nn.functional.smooth_l1_loss(x, y, beta=0.5),
    lambda t, x, y: t.nn.functional.smooth_l1_loss(x, y, beta=0.0),
    lambda t, x, y: t.nn.MSELoss(reduction="sum")(x, y),
    lambda t, x, y: t.nn.L1Loss()(x, y), lambda t, x, y: t.nn.HuberLoss(delta=2.0)(x, y),
    lambda t, x, y: t.nn.SmoothL1Loss(beta=0.3)(x, y),
    lambda t, x, y: t.nn.functional.kl_div(t.nn.functional.log_softmax(x, 1),
                                           t.nn.functional.softmax(y, 1),
                                           reduction="batchmean"),
    lambda t, x, y: t.nn.KLDivLoss(reduction="sum", log_target=True)(
        t.nn.functional.log_softmax(x, 1), t.nn.functional.log_softmax(y, 1)),
]


@pytest.mark.parametrize("fn", POINTWISE, ids=[str(i) for i in range(len(POINTWISE))])
def test_pointwise_losses(torch, fn):
    _compare(torch, fn, X, TARGET)


BINARY_LOSSES = [
    lambda t, x, y: t.nn.functional.binary_cross_entropy(t.sigmoid(x), y),
    lambda t, x, y: t.nn.functional.binary_cross_entropy(
        t.sigmoid(x), y, weight=t.tensor([1.0, 2.0, 0.5, 3.0]), reduction="sum"),
    lambda t, x, y: t.nn.BCELoss(reduction="none")(t.sigmoid(x), y),
    lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(x, y),
    lambda t, x, y: t.nn.functional.binary_cross_entropy_with_logits(
        x, y, pos_weight=t.tensor([1.0, 2.0, 0.5, 3.0])),
    lambda t, x, y: t.nn.BCEWithLogitsLoss(weight=t.tensor([1.0, 2.0, 0.5, 3.0]),
                                           pos_weight=t.tensor([2.0, 1.0, 1.0, 1.0]),
                                           reduction="none")(x, y),
]


@pytest.mark.parametrize("fn", BINARY_LOSSES, ids=[str(i) for i in range(len(BINARY_LOSSES))])
def test_binary_losses(torch, fn):
    _compare(torch, fn, X, BINARY)


def test_legacy_size_average_and_reduce(torch):
    with pytest.warns(UserWarning, match="size_average"):
        _compare(torch, lambda t, x, y: t.nn.functional.mse_loss(x, y, size_average=False),
                 X, TARGET)
    with pytest.warns(UserWarning):
        loss = gt.nn.CrossEntropyLoss(reduce=False)
    assert loss.reduction == "none"


def test_softmax_without_dim_warns_and_picks_pytorchs_axis(torch):
    with pytest.warns(UserWarning, match="Implicit dimension"):
        got = gt.nn.functional.softmax(gt.tensor(X)).numpy()
    with pytest.warns(UserWarning):
        want = torch.nn.functional.softmax(torch.tensor(X)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(gt.nn.Softmax()(gt.tensor(X4)).numpy(),
                                   torch.nn.Softmax()(torch.tensor(X4)).numpy(), rtol=1e-6)


def test_one_hot_embedding_and_dropout(torch):
    y = np.array([0, 2, 1])
    a = gt.nn.functional.one_hot(gt.tensor(y))
    b = torch.nn.functional.one_hot(torch.tensor(y))
    assert str(a.dtype) == str(b.dtype) == "torch.int64"
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert gt.nn.functional.one_hot(gt.tensor(y), num_classes=5).shape == (3, 5)
    with pytest.raises(TypeError, match="index tensor"):
        gt.nn.functional.one_hot(gt.tensor([0.5]))
    _compare(torch, lambda t, w, i: t.nn.functional.embedding(i, w, padding_idx=1), X,
             np.array([[0, 1], [5, 2]]))
    gt.manual_seed(0)
    out = gt.nn.functional.dropout(gt.ones(1000), 0.5)  # training=True by default
    kept = out.numpy()[out.numpy() != 0]
    assert 400 < kept.size < 600 and np.allclose(kept, 2.0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        gt.nn.functional.dropout(gt.ones(3), 1.5)


def test_results_are_dialect_tensors_and_bad_input_is_named():
    x = gt.tensor(X)
    for out in (gt.nn.functional.relu(x), gt.nn.functional.cross_entropy(x, gt.tensor(LABELS)),
                gt.nn.functional.softmax(x, 1), gt.nn.functional.mse_loss(x, x)):
        assert type(out) is gt.Tensor
    with pytest.raises(ValueError, match="same shape"):
        gt.nn.functional.mse_loss(x, x[:, :1])
    with pytest.raises(ValueError, match="label 7 is outside"):
        gt.nn.functional.cross_entropy(x, gt.tensor([7, 0, 0, 0, 0, -100]))
    with pytest.raises(ValueError, match="weight must have one value per class"):
        gt.nn.functional.nll_loss(x, gt.tensor(LABELS), weight=gt.ones(3))
    with pytest.raises(ValueError, match="reduction"):
        gt.nn.functional.l1_loss(x, x, reduction="avg")
