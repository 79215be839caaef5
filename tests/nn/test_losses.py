"""Loss classes: against PyTorch (forward and gradients), finite differences, stability,
and the shape checks that catch the (N, 1)-vs-(N,) slip."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn

from .helpers import close

REDUCTIONS = ["mean", "sum", "none"]


def _inputs(kind, rng, dtype=np.float32):
    """(prediction, target) arrays for a loss kind."""
    if kind == "regression":
        return rng.standard_normal((6, 3)).astype(dtype) * 2, rng.standard_normal(
            (6, 3)).astype(dtype)
    if kind == "probabilities":
        return rng.uniform(0.05, 0.95, (6, 3)).astype(dtype), rng.uniform(0, 1, (6, 3)).astype(
            dtype)
    if kind == "logits-binary":
        return rng.standard_normal((6, 3)).astype(dtype) * 3, rng.uniform(0, 1, (6, 3)).astype(
            dtype)
    if kind == "labels":
        return rng.standard_normal((6, 4)).astype(dtype) * 2, rng.integers(0, 4, 6)
    if kind == "log-probs":
        z = rng.standard_normal((6, 4))
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        return logp.astype(dtype), rng.integers(0, 4, 6)
    if kind == "soft-labels":
        q = rng.uniform(0, 1, (6, 4))
        return rng.standard_normal((6, 4)).astype(dtype), (q / q.sum(1, keepdims=True)).astype(
            dtype)
    raise AssertionError(kind)


LOSSES = [  # (id, gradkit factory, torch factory, kind)
    ("mse", lambda r: nn.MSELoss(r), lambda t, r: t.nn.MSELoss(reduction=r), "regression"),
    ("l1", lambda r: nn.L1Loss(r), lambda t, r: t.nn.L1Loss(reduction=r), "regression"),
    ("huber", lambda r: nn.HuberLoss(reduction=r), lambda t, r: t.nn.HuberLoss(reduction=r),
     "regression"),
    ("huber-0.5", lambda r: nn.HuberLoss(0.5, r),
     lambda t, r: t.nn.HuberLoss(reduction=r, delta=0.5), "regression"),
    ("ce", lambda r: nn.CrossEntropyLoss(r), lambda t, r: t.nn.CrossEntropyLoss(reduction=r),
     "labels"),
    ("ce-smooth", lambda r: nn.CrossEntropyLoss(r, label_smoothing=0.1),
     lambda t, r: t.nn.CrossEntropyLoss(reduction=r, label_smoothing=0.1), "labels"),
    ("ce-probs", lambda r: nn.CrossEntropyLoss(r),
     lambda t, r: t.nn.CrossEntropyLoss(reduction=r), "soft-labels"),
    ("nll", lambda r: nn.NLLLoss(r), lambda t, r: t.nn.NLLLoss(reduction=r), "log-probs"),
    ("bce", lambda r: nn.BCELoss(r), lambda t, r: t.nn.BCELoss(reduction=r), "probabilities"),
    ("bce-logits", lambda r: nn.BCEWithLogitsLoss(r),
     lambda t, r: t.nn.BCEWithLogitsLoss(reduction=r), "logits-binary"),
]
IDS = [loss[0] for loss in LOSSES]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, make, tmake, kind", LOSSES, ids=IDS)
def test_loss_matches_pytorch(torch, rng, name, make, tmake, kind, reduction):
    pred, target = _inputs(kind, rng)
    gp = gk.tensor(pred, requires_grad=True)
    tp = torch.tensor(pred, requires_grad=True)
    got = make(reduction)(gp, gk.tensor(target))
    want = tmake(torch, reduction)(tp, torch.tensor(target))
    assert got.dtype == np.float32 and got.shape == tuple(want.shape)
    close(got.numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
    v = np.random.default_rng(1).standard_normal(got.shape).astype(np.float32)
    got.backward(gk.tensor(v))
    want.backward(torch.tensor(v))
    close(gp.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("name, make, tmake, kind", LOSSES, ids=IDS)
def test_loss_gradcheck_float64(rng, name, make, tmake, kind, reduction):
    pred, target = _inputs(kind, rng, np.float64)
    loss = make(reduction)
    target_t = gk.tensor(target) if target.dtype.kind == "i" else target
    assert gk.gradcheck(loss, pred, target_t, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("make", [nn.BCEWithLogitsLoss, nn.BCELoss])
def test_binary_losses_differentiate_the_target_too(rng, make):
    p = rng.uniform(0.1, 0.9, (4, 2))
    assert gk.gradcheck(make(), p, rng.uniform(0, 1, (4, 2)), atol=1e-6, rtol=1e-4)


# ---- stability ----------------------------------------------------------------------------------


def _finite_everywhere(loss, grad):
    assert np.isfinite(loss.numpy()).all() and np.isfinite(grad.numpy()).all()


def test_cross_entropy_is_stable_for_huge_logits(torch):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]], np.float32)
    y = np.array([1, 0])
    x = gk.tensor(z, requires_grad=True)
    loss = nn.CrossEntropyLoss()(x, gk.tensor(y))
    loss.backward()
    _finite_everywhere(loss, x.grad)
    want = torch.nn.CrossEntropyLoss()(torch.tensor(z), torch.tensor(y))
    close(loss.numpy(), want.numpy(), rtol=1e-6)


def test_bce_with_logits_is_stable_for_huge_logits(torch):
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5], np.float32)
    x = gk.tensor(z, requires_grad=True)
    loss = nn.BCEWithLogitsLoss(reduction="none")(x, gk.tensor(y))
    loss.sum().backward()
    _finite_everywhere(loss, x.grad)
    close(loss.numpy(), [0.0, 0.0, 1000.0, 1000.0, np.log(2)], rtol=1e-6)
    close(x.grad.numpy(), [0.0, 0.0, 1.0, -1.0, 0.0], atol=1e-7)


def test_bce_with_saturated_probabilities_gives_no_nan(torch):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0], np.float32)
    x = gk.tensor(p, requires_grad=True)
    with np.errstate(all="raise"):
        loss = nn.BCELoss(reduction="none")(x, gk.tensor(y))
        loss.sum().backward()
    _finite_everywhere(loss, x.grad)
    tx = torch.tensor(p, requires_grad=True)
    want = torch.nn.BCELoss(reduction="none")(tx, torch.tensor(y))
    want.sum().backward()
    close(loss.numpy(), want.detach().numpy(), rtol=1e-6)  # the log clamp: 100 at worst
    close(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_nll_of_log_softmax_equals_cross_entropy(rng):
    z = gk.tensor(rng.standard_normal((5, 3)).astype(np.float32) * 100)
    y = gk.tensor(rng.integers(0, 3, 5))
    a = nn.NLLLoss()(nn.LogSoftmax()(z), y)
    close(a.numpy(), nn.CrossEntropyLoss()(z, y).numpy(), rtol=1e-6)


# ---- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [nn.MSELoss, nn.L1Loss, nn.HuberLoss, nn.BCELoss,
                                  nn.BCEWithLogitsLoss])
def test_column_prediction_against_flat_target_is_refused(make):
    pred = gk.full((8, 1), 0.5)
    target = gk.full((8,), 1.0)
    name = make.__name__
    with pytest.raises(gk.ShapeError, match=rf"^{name}: prediction of shape \(8, 1\) and target "
                                            r"of shape \(8,\) must have the same shape") as info:
        make()(pred, target)
    assert "target.reshape(-1, 1)" in str(info.value)
    with pytest.raises(gk.ShapeError, match=r"prediction.reshape\(-1, 1\)"):
        make()(target, pred)
    with pytest.raises(gk.ShapeError, match="must have the same shape"):
        make()(gk.zeros(3, 2), gk.zeros(2, 3))


def test_class_losses_check_labels():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got values from 0 to 3"):
        nn.CrossEntropyLoss()(gk.zeros(2, 3), gk.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"nll_loss: labels must lie in \[0, 3\)"):
        nn.NLLLoss()(gk.zeros(2, 3), gk.tensor([-1, 0]))
    with pytest.raises(gk.ShapeError, match="2 rows of input but 3 labels"):
        nn.NLLLoss()(gk.zeros(2, 3), gk.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="integers"):
        nn.NLLLoss()(gk.zeros(2, 3), gk.tensor([0.0, 1.0]))
    with pytest.raises(gk.DTypeError, match=r"^cross_entropy: targets of shape \(2,\) look "
                                            r"like class labels but have dtype float32"):
        nn.CrossEntropyLoss()(gk.zeros(2, 3), gk.tensor([0.0, 1.0]))
    with pytest.raises(gk.ShapeError, match=r"logits \(2, 3\) but probability targets"):
        nn.CrossEntropyLoss()(gk.zeros(2, 3), gk.zeros(2, 4))


def test_bce_refuses_values_outside_zero_one():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*BCEWithLogitsLoss"):
        nn.BCELoss()(gk.tensor([2.0, 0.5]), gk.tensor([1.0, 0.0]))


def test_constructor_arguments_are_checked():
    with pytest.raises(ValueError, match="MSELoss: reduction must be 'mean', 'sum' or 'none'"):
        nn.MSELoss("avg")
    with pytest.raises(ValueError, match="delta must be a positive number"):
        nn.HuberLoss(0.0)
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=2.0)


def test_losses_accept_numpy_targets_and_repr():
    loss = nn.MSELoss()(gk.zeros(3), np.array([1.0, 2.0, 2.0]))
    assert loss.dtype == np.float32 and abs(loss.item() - 3.0) < 1e-6
    assert repr(nn.MSELoss()) == "MSELoss(reduction='mean')"
    assert repr(nn.HuberLoss(2)) == "HuberLoss(delta=2.0, reduction='mean')"
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == (
        "CrossEntropyLoss(reduction='mean', label_smoothing=0.1)")
