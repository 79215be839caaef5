"""BatchNorm1d and LayerNorm (fused nodes in gradkit/ops/norm.py) against PyTorch and
finite differences."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.nn import functional as F

from .helpers import close, load_from_torch, torch_state


def _step(m, tm, torch, x, v):
    """One forward+backward in both; returns (outputs, input grads)."""
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, want = m(gx), tm(tx)
    got.backward(gk.tensor(v))
    want.backward(torch.tensor(v))
    return got.numpy(), want.detach().numpy(), gx.grad.numpy(), tx.grad.numpy()


def _compare_state(m, tm):
    for name, arr in m.state_dict().items():
        close(arr, tm.state_dict()[name].numpy(), rtol=1e-5, atol=1e-6, msg=name)


BN_CONFIGS = [
    dict(shape=(16, 5)),
    dict(shape=(8, 5, 7)),
    dict(shape=(16, 5), momentum=None),
    dict(shape=(16, 5), affine=False),
    dict(shape=(6, 5, 3), track_running_stats=False),
    dict(shape=(16, 5), momentum=0.3, eps=1e-3),
]


@pytest.mark.parametrize("cfg", BN_CONFIGS, ids=[str(c) for c in BN_CONFIGS])
def test_batchnorm1d_matches_pytorch_over_training_then_eval(torch, rng, cfg):
    cfg = dict(cfg)
    shape = cfg.pop("shape")
    m, tm = nn.BatchNorm1d(5, **cfg), torch.nn.BatchNorm1d(5, **cfg)
    if m.affine:  # non-trivial scale and shift, copied gradkit -> torch
        m.weight.data[...] = rng.uniform(0.5, 1.5, 5)
        m.bias.data[...] = rng.standard_normal(5)
    tm.load_state_dict(torch_state(torch, m))
    for step in range(4):
        mode = step < 3
        m.train(mode), tm.train(mode)
        x = (rng.standard_normal(shape) * 3 + 2).astype(np.float32)
        v = rng.standard_normal(shape).astype(np.float32)
        got, want, gx, tx = _step(m, tm, torch, x, v)
        close(got, want, rtol=1e-4, atol=1e-5, msg=f"forward, step {step}")
        close(gx, tx, rtol=1e-4, atol=1e-4, msg=f"input grad, step {step}")
        if m.affine:
            close(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
            close(m.bias.grad.numpy(), tm.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
        _compare_state(m, tm)


def test_batchnorm1d_loads_torch_state(torch, rng):
    tm = torch.nn.BatchNorm1d(3)
    tm(torch.tensor(rng.standard_normal((10, 3)).astype(np.float32)))  # move running stats
    m = nn.BatchNorm1d(3)
    load_from_torch(m, tm)
    assert int(m.num_batches_tracked.item()) == 1
    m.eval(), tm.eval()
    x = rng.standard_normal((4, 3)).astype(np.float32)
    close(m(gk.tensor(x)).numpy(), tm(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck_float64(rng, shape, training):
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    x = rng.standard_normal(shape)
    w, b = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)

    def f(x, w, b):  # fresh running stats: every call sees the same state
        return F.batch_norm(x, gk.tensor(rm.copy(), dtype="float64"),
                            gk.tensor(rv.copy(), dtype="float64"), w, b, training=training)

    assert gk.gradcheck(f, x, w, b, atol=1e-6, rtol=1e-4)
    assert gk.gradcheck(lambda x: F.batch_norm(x, training=True), x, atol=1e-6, rtol=1e-4)


def test_batchnorm1d_errors_name_the_layer():
    bn = nn.BatchNorm1d(4)
    with pytest.raises(gk.ShapeError, match=r"BatchNorm1d\(4, .*\) got input of shape \(8, 3\): "
                                            r"expected \(N, 4\) or \(N, 4, L\)"):
        bn(gk.zeros(8, 3))
    with pytest.raises(gk.ShapeError, match="more than 1 value per channel"):
        bn(gk.zeros(1, 4))
    assert int(bn.num_batches_tracked.item()) == 0  # failed calls are not counted
    bn.eval()
    assert bn(gk.zeros(1, 4)).shape == (1, 4)  # eval: one sample is fine


def test_batchnorm1d_reset_and_no_grad_updates():
    bn = nn.BatchNorm1d(2)
    with gk.no_grad():
        bn(gk.randn(8, 2) + 5)
    assert bn.running_mean.numpy().min() > 0.2
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0, 0] and bn.running_var.tolist() == [1, 1]


# ---- LayerNorm ----------------------------------------------------------------------------------

LN_CONFIGS = [((6, 8), 8, {}), ((2, 3, 4), (3, 4), {}), ((5, 4), 4, {"elementwise_affine": False}),
              ((5, 4), 4, {"bias": False}), ((3, 4), [4], {"eps": 1e-3})]


@pytest.mark.parametrize("shape, ns, kw", LN_CONFIGS, ids=[str(c) for c in LN_CONFIGS])
def test_layernorm_matches_pytorch(torch, rng, shape, ns, kw):
    m, tm = nn.LayerNorm(ns, **kw), torch.nn.LayerNorm(ns, **kw)
    if m.weight is not None:
        m.weight.data[...] = rng.uniform(0.5, 1.5, m.weight.shape)
    if m.bias is not None:
        m.bias.data[...] = rng.standard_normal(m.bias.shape)
    tm.load_state_dict(torch_state(torch, m))
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    v = rng.standard_normal(shape).astype(np.float32)
    got, want, gx, tx = _step(m, tm, torch, x, v)
    close(got, want, rtol=1e-4, atol=1e-5)
    close(gx, tx, rtol=1e-4, atol=1e-4)
    for name, p in m.named_parameters():
        close(p.grad.numpy(), getattr(tm, name).grad.numpy(), rtol=1e-4, atol=1e-4, msg=name)


def test_layer_norm_gradcheck_float64(rng):
    x, w, b = rng.standard_normal((3, 2, 4)), rng.standard_normal((2, 4)), rng.standard_normal(
        (2, 4))
    assert gk.gradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), x, w, b, atol=1e-6,
                        rtol=1e-4)
    assert gk.gradcheck(lambda x: F.layer_norm(x, 4), x, atol=1e-6, rtol=1e-4)


def test_layernorm_error_names_the_layer():
    with pytest.raises(gk.ShapeError, match=r"LayerNorm\(\(5,\), .*\) got input of shape "
                                            r"\(2, 4\): its last axes must be \(5,\)"):
        nn.LayerNorm(5)(gk.zeros(2, 4))


def test_norms_keep_float32():
    x = gk.randn(4, 3, requires_grad=True)
    assert nn.BatchNorm1d(3)(x).dtype == np.float32
    assert nn.LayerNorm(3)(x).dtype == np.float32
