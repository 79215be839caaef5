"""nn.functional: the stateless forms reuse gradkit's ops and agree with the loss classes."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.nn import functional as F

API_NAMES = ["linear", "relu", "tanh", "sigmoid", "softmax", "log_softmax", "dropout",
             "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss",
             "binary_cross_entropy", "binary_cross_entropy_with_logits", "one_hot", "gelu",
             "leaky_relu", "elu", "softplus", "batch_norm", "layer_norm",
             # round two: convolution and pooling
             "conv1d", "conv2d", "conv_transpose2d", "max_pool1d", "max_pool2d", "avg_pool1d",
             "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "dropout2d", "pad",
             "interpolate", "embedding", "scaled_dot_product_attention"]


def test_every_name_is_there():
    assert sorted(F.__all__) == sorted(API_NAMES)
    for name in API_NAMES:
        assert callable(getattr(F, name))


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "softmax", "log_softmax", "gelu",
                                  "leaky_relu", "elu", "softplus", "one_hot", "linear",
                                  "dropout"])
def test_activations_are_the_ops_themselves(name):
    assert getattr(F, name) is getattr(gk.ops, name)


def test_dropout_signature():
    x = gk.ones(100, 100)
    assert F.dropout(x, 0.5, training=False) is x
    y = F.dropout(x, 0.25, True).numpy()
    assert abs((y == 0).mean() - 0.25) < 0.02


def test_one_hot():
    out = F.one_hot(gk.tensor([2, 0]), 3)
    assert out.dtype == np.float32 and out.tolist() == [[0, 0, 1], [1, 0, 0]]


LOSS_PAIRS = [
    (F.mse_loss, nn.MSELoss, "regression"), (F.l1_loss, nn.L1Loss, "regression"),
    (F.huber_loss, nn.HuberLoss, "regression"), (F.binary_cross_entropy, nn.BCELoss, "prob"),
    (F.binary_cross_entropy_with_logits, nn.BCEWithLogitsLoss, "regression"),
    (F.cross_entropy, nn.CrossEntropyLoss, "labels"), (F.nll_loss, nn.NLLLoss, "labels"),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("fn, cls, kind", LOSS_PAIRS, ids=[p[0].__name__ for p in LOSS_PAIRS])
def test_functional_losses_equal_the_classes(rng, fn, cls, kind, reduction):
    if kind == "labels":
        x, y = gk.tensor(rng.standard_normal((5, 3)) - 2), gk.tensor(rng.integers(0, 3, 5))
    else:
        x = gk.tensor(rng.uniform(0.1, 0.9, (5, 2)) if kind == "prob" else rng.standard_normal(
            (5, 2)))
        y = gk.tensor(rng.uniform(0, 1, (5, 2)))
    np.testing.assert_array_equal(fn(x, y, reduction=reduction).numpy(),
                                  cls(reduction=reduction)(x, y).numpy())


def test_functional_errors_name_the_function():
    with pytest.raises(gk.ShapeError, match=r"^mse_loss: prediction of shape \(4, 1\)"):
        F.mse_loss(gk.zeros(4, 1), gk.zeros(4))
    with pytest.raises(ValueError, match="l1_loss: reduction must be"):
        F.l1_loss(gk.zeros(2), gk.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
        F.huber_loss(gk.zeros(2), gk.zeros(2), delta=-1.0)


def test_huber_loss_delta(torch, rng):
    x, y = rng.standard_normal(20).astype(np.float32) * 3, rng.standard_normal(20).astype(
        np.float32)
    want = torch.nn.functional.huber_loss(torch.tensor(x), torch.tensor(y), delta=2.0)
    np.testing.assert_allclose(F.huber_loss(gk.tensor(x), gk.tensor(y), delta=2.0).item(),
                               want.item(), rtol=1e-6)


def test_functional_norms(torch, rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    got = F.layer_norm(gk.tensor(x), 3)
    want = torch.nn.functional.layer_norm(torch.tensor(x), (3,))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    got = F.batch_norm(gk.tensor(x), training=True)
    want = torch.nn.functional.batch_norm(torch.tensor(x), None, None, training=True)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
