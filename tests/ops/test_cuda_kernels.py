"""gradkit.backend.kernels: each fused kernel against the unfused maths it replaces.

On the CPU this runs the NumPy fallbacks (which must give exactly the numbers of gradkit's
unfused ops and optimizers); on a GPU (the "cuda" cases) the compiled CuPy kernels, which
must agree with the same references to float32 rounding.
"""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.backend import kernels as ck
from gradkit.backend import to_numpy

RNG = np.random.default_rng(0)


def _raw(a, device):
    """`a` as a raw array (NumPy or CuPy) on `device`."""
    return gk.tensor(a, dtype=a.dtype, device=device).data


def _check(got, want, device, rtol=1e-6):
    got = gk.Tensor(got).numpy()
    if device == "cpu":
        np.testing.assert_array_equal(got, want)
    else:  # pragma: no cover - needs a GPU
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-7)


def test_bias_relu_in_place(device):
    y = RNG.standard_normal((7, 5)).astype(np.float32)
    y[0, 0] = np.nan
    b = RNG.standard_normal(5).astype(np.float32)
    want = np.maximum(y + b, 0)
    yd = _raw(y, device)
    assert ck.bias_relu_(yd, _raw(b, device)) is yd
    _check(yd, want, device)
    assert np.isnan(gk.Tensor(yd).numpy()[0, 0])


def test_bias_relu_is_linear_then_relu(device):
    x, w, b = (RNG.standard_normal(s).astype(np.float32) for s in ((6, 4), (3, 4), (3,)))
    out = _raw(x, device) @ _raw(w, device).T
    ck.bias_relu_(out, _raw(b, device))
    ref = gk.relu(gk.ops.linear(gk.tensor(x), gk.tensor(w), gk.tensor(b))).numpy()
    _check(out, ref, device)


def test_relu_backward(device):
    g = RNG.standard_normal((4, 6)).astype(np.float32)
    y = np.maximum(RNG.standard_normal((4, 6)).astype(np.float32), 0)
    _check(ck.relu_backward(_raw(g, device), _raw(y, device)), g * (y > 0), device)


def test_tanh_backward(device):
    g = RNG.standard_normal((4, 6)).astype(np.float32)
    y = np.tanh(RNG.standard_normal((4, 6))).astype(np.float32)
    _check(ck.tanh_backward(_raw(g, device), _raw(y, device)), g * (1 - y * y), device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_log_softmax_xent_is_log_softmax_and_the_row_losses(device, dtype, smoothing):
    n, c = 11, 7
    z = (RNG.standard_normal((n, c)) * 5).astype(dtype)
    y = RNG.integers(0, c, n)
    logp, losses, bad = ck.log_softmax_xent(_raw(z, device), _raw(y, device), smoothing)
    zz = z.astype(np.float64) - z.max(axis=1, keepdims=True)
    ref_logp = zz - np.log(np.exp(zz).sum(axis=1, keepdims=True))
    q = (1 - smoothing) * np.eye(c)[y] + smoothing / c
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(to_numpy(logp), ref_logp, rtol=tol, atol=tol)
    np.testing.assert_allclose(to_numpy(losses), -(q * ref_logp).sum(axis=1),
                               rtol=10 * tol, atol=tol)
    assert int(gk.Tensor(bad).item()) == 0


def test_log_softmax_xent_counts_bad_labels_and_makes_their_rows_nan(device):
    z = RNG.standard_normal((4, 3)).astype(np.float32)
    y = np.array([0, 3, -1, 2])
    logp, losses, bad = ck.log_softmax_xent(_raw(z, device), _raw(y, device))
    got = to_numpy(losses)
    assert int(gk.Tensor(bad).item()) == 2
    assert np.isnan(got[1]) and np.isnan(got[2]) and np.isfinite(got[[0, 3]]).all()


def test_range_counts(device):
    y = np.array([[0, 5, -2], [4, 1, 7]])
    assert int(gk.Tensor(ck.count_outside_labels(_raw(y, device), 5)).item()) == 3
    p = np.array([0.0, 1.0, 0.5, -0.1, 1.1, np.nan], dtype=np.float32)
    assert int(gk.Tensor(ck.count_outside_unit(_raw(p, device))).item()) == 3


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_xent_grad_is_the_cross_entropy_gradient(device, reduction, smoothing):
    n, c = 9, 5
    z = RNG.standard_normal((n, c)).astype(np.float32)
    y = RNG.integers(0, c, n)
    logits = gk.tensor(z, requires_grad=True)
    loss = nn.functional.cross_entropy(logits, gk.tensor(y), reduction=reduction,
                                       label_smoothing=smoothing)
    loss.backward(gk.ones_like(loss))
    one = np.ones((), np.float32)
    gi = one * (1.0 / n) if reduction == "mean" else one
    gi = np.broadcast_to(gi, (n, 1)).copy() if reduction == "none" else gi
    zz = z - z.max(axis=1, keepdims=True)
    logp = zz - np.log(np.exp(zz).sum(axis=1, keepdims=True))
    got = ck.softmax_xent_grad(_raw(logp, device), _raw(y, device), _raw(gi, device),
                               smoothing)
    q = (1 - smoothing) * np.eye(c, dtype=np.float32)[y] + smoothing / c
    independent = (np.exp(logp) - q) * gi
    np.testing.assert_allclose(gk.Tensor(got).numpy(), independent, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gk.Tensor(got).numpy(), logits.grad.numpy(), rtol=1e-5,
                               atol=1e-7)


@pytest.mark.parametrize("name, kw", [
    ("Adam", {}), ("Adam", {"weight_decay": 0.1}), ("Adam", {"amsgrad": True}),
    ("Adam", {"maximize": True, "weight_decay": 0.05}), ("AdamW", {"weight_decay": 0.1}),
    ("AdamW", {"amsgrad": True, "maximize": True, "weight_decay": 0.01}),
], ids=["adam", "adam_wd", "amsgrad", "max_wd", "adamw", "adamw_ams_max"])
def test_adam_update_matches_the_optimizer(device, name, kw):
    w0 = RNG.standard_normal((5, 3)).astype(np.float32)
    grads = [RNG.standard_normal((5, 3)).astype(np.float32) for _ in range(4)]
    p = nn.Parameter(gk.tensor(w0, device=device))
    opt = getattr(optim, name)([p], lr=0.01, betas=(0.8, 0.95), eps=1e-6, **kw)
    w, m, v = (_raw(a, device) for a in (w0.copy(), np.zeros_like(w0), np.zeros_like(w0)))
    max_v = _raw(np.zeros_like(w0), device) if kw.get("amsgrad") else None
    for step, g in enumerate(grads, start=1):
        p.grad = gk.tensor(g, device=device)
        opt.step()
        ck.adam_update_(w, _raw(g, device), m, v, lr=0.01, beta1=0.8, beta2=0.95, eps=1e-6,
                        step=step, weight_decay=kw.get("weight_decay", 0.0),
                        decoupled=name == "AdamW", maximize=kw.get("maximize", False),
                        max_v=max_v)
    st = opt.state[p]
    _check(w, p.numpy(), device)
    _check(m, gk.Tensor(st["exp_avg"]).numpy(), device)
    _check(v, gk.Tensor(st["exp_avg_sq"]).numpy(), device)
    if max_v is not None:
        _check(max_v, gk.Tensor(st["max_exp_avg_sq"]).numpy(), device)


def test_importing_the_kernels_module_needs_no_cupy():
    assert ck._kernels == {} or gk.cuda.is_available()
