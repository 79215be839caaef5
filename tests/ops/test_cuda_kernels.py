"""gradkit.backend.kernels: each fused op's one entry, the code training runs on each device.

- every entry against independent maths (the unfused ops, textbook formulas in float64):
  bit for bit on the CPU where the entry must give the unfused ops' numbers;
- every entry against its own array-namespace code (`kernels.xp_only()`): on a GPU this
  compares the compiled CuPy kernel with the code it replaces, on the CPU it is the same code;
- training (Sequential + cross_entropy + the optimizers) calls these entries, so what these
  tests check is what runs.
"""

import collections

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.backend import kernels as ck
from gradkit.backend import to_numpy
from gradkit.ops import neural

RNG = np.random.default_rng(0)


def _raw(a, device):
    """A copy of `a` as a raw array (NumPy or CuPy) on `device`."""
    return gk.tensor(np.array(a), dtype=a.dtype, device=device).data


def _check(got, want, device, rtol=1e-6):
    got = to_numpy(got)
    if device == "cpu":
        np.testing.assert_array_equal(got, want)
    else:  # pragma: no cover - needs a GPU
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-7)


def _count(a) -> int:
    return int(to_numpy(a))


# ---- Linear + activation ------------------------------------------------------------------


def test_bias_relu_in_place(device):
    y = RNG.standard_normal((7, 5)).astype(np.float32)
    y[0, 0] = np.nan
    b = RNG.standard_normal(5).astype(np.float32)
    want = np.maximum(y + b, 0)
    yd = _raw(y, device)
    assert ck.bias_relu_(yd, _raw(b, device)) is yd
    _check(yd, want, device)
    assert np.isnan(to_numpy(yd)[0, 0])
    yd = _raw(y, device)
    assert ck.bias_relu_(yd, None) is yd
    _check(yd, np.maximum(y, 0), device)


def test_bias_tanh_in_place(device):
    y = RNG.standard_normal((7, 5)).astype(np.float32)
    b = RNG.standard_normal(5).astype(np.float32)
    yd = _raw(y, device)
    assert ck.bias_tanh_(yd, _raw(b, device)) is yd
    _check(yd, np.tanh(y + b), device)


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_fused_linear_is_linear_then_the_activation(device, act):
    x, w, b = (RNG.standard_normal(s).astype(np.float32) for s in ((6, 4), (3, 4), (3,)))
    out = _raw(x, device) @ _raw(w, device).T
    forward, _ = neural.FUSED_ACTIVATIONS[act]
    forward(out, _raw(b, device))
    unfused = {"relu": gk.relu, "tanh": gk.tanh}[act]
    ref = unfused(gk.ops.linear(gk.tensor(x), gk.tensor(w), gk.tensor(b))).numpy()
    _check(out, ref, device)


def test_relu_backward(device):
    g = RNG.standard_normal((4, 6)).astype(np.float32)
    y = np.maximum(RNG.standard_normal((4, 6)).astype(np.float32), 0)
    _check(ck.relu_backward(_raw(g, device), _raw(y, device)), g * (y > 0), device)


def test_tanh_backward(device):
    g = RNG.standard_normal((4, 6)).astype(np.float32)
    y = np.tanh(RNG.standard_normal((4, 6))).astype(np.float32)
    _check(ck.tanh_backward(_raw(g, device), _raw(y, device)), g * (1 - y * y), device)


# ---- softmax + cross-entropy --------------------------------------------------------------


def _ref_log_softmax(z):
    zz = z.astype(np.float64) - z.max(axis=1, keepdims=True)
    return zz - np.log(np.exp(zz).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("c", [2, 7])
def test_log_softmax(device, c):
    z = (RNG.standard_normal((5, c)) * 5).astype(np.float32)
    got = to_numpy(ck.log_softmax(_raw(z, device), 1))
    np.testing.assert_allclose(got, _ref_log_softmax(z), rtol=1e-6, atol=1e-6)
    assert got.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("count_bad", [True, False])
def test_log_softmax_xent_is_log_softmax_and_the_row_losses(device, dtype, smoothing,
                                                            count_bad):
    n, c = 11, 7
    z = (RNG.standard_normal((n, c)) * 5).astype(dtype)
    y = RNG.integers(0, c, n)
    logp, losses, bad = ck.log_softmax_xent(_raw(z, device), _raw(y, device), smoothing,
                                            count_bad=count_bad)
    ref_logp = _ref_log_softmax(z)
    q = (1 - smoothing) * np.eye(c)[y] + smoothing / c
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(to_numpy(logp), ref_logp, rtol=tol, atol=tol)
    np.testing.assert_allclose(to_numpy(losses), -(q * ref_logp).sum(axis=1),
                               rtol=10 * tol, atol=tol)
    assert to_numpy(losses).dtype == dtype
    if count_bad:
        assert _count(bad) == 0


def test_log_softmax_xent_counts_bad_labels_and_makes_their_rows_nan(device):
    z = RNG.standard_normal((4, 3)).astype(np.float32)
    y = np.array([0, 3, -1, 2])
    logp, losses, bad = ck.log_softmax_xent(_raw(z, device), _raw(y, device))
    got = to_numpy(losses)
    assert _count(bad) == 2
    assert np.isnan(got[1]) and np.isnan(got[2]) and np.isfinite(got[[0, 3]]).all()
    ok = ck.log_softmax_xent(_raw(z[[0, 3]], device), _raw(y[[0, 3]], device))[1]
    np.testing.assert_array_equal(got[[0, 3]], to_numpy(ok))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_xent_grad_is_the_cross_entropy_gradient(device, reduction, smoothing):
    n, c = 9, 5
    z = RNG.standard_normal((n, c)).astype(np.float32)
    y = RNG.integers(0, c, n)
    logits = gk.tensor(z, requires_grad=True, device=device)
    loss = nn.functional.cross_entropy(logits, gk.tensor(y, device=device),
                                       reduction=reduction, label_smoothing=smoothing)
    loss.backward(gk.ones_like(loss))
    one = np.ones((), np.float32)
    gi = one * (1.0 / n) if reduction == "mean" else one
    gi = np.broadcast_to(gi, (n, 1)).copy() if reduction == "none" else gi
    logp = _ref_log_softmax(z).astype(np.float32)
    got = to_numpy(ck.softmax_xent_grad(_raw(logp, device), _raw(y, device),
                                        _raw(gi, device), smoothing))
    q = (1 - smoothing) * np.eye(c, dtype=np.float32)[y] + smoothing / c
    independent = (np.exp(logp) - q) * gi
    np.testing.assert_allclose(got, independent, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got, logits.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_range_counts(device):
    y = np.array([[0, 5, -2], [4, 1, 7]])
    assert _count(ck.count_outside_labels(_raw(y, device), 5)) == 3
    p = np.array([0.0, 1.0, 0.5, -0.1, 1.1, np.nan], dtype=np.float32)
    assert _count(ck.count_outside_unit(_raw(p, device))) == 3
    x = np.array([0.0, np.inf, -np.inf, np.nan, 1e30], dtype=np.float32)
    assert _count(ck.count_nonfinite(_raw(x, device))) == 3


# ---- optimizers ---------------------------------------------------------------------------


@pytest.mark.parametrize("wd, maximize", [(0.0, False), (0.1, False), (0.0, True), (0.1, True)])
def test_grad_term_never_writes_the_gradient(wd, maximize):
    w = RNG.standard_normal(5).astype(np.float32)
    g = RNG.standard_normal(5).astype(np.float32)
    g.flags.writeable = False
    d, fresh = ck.grad_term(w, g, wd, maximize)
    np.testing.assert_allclose(d, (-g if maximize else g) + wd * w, rtol=1e-6)
    assert fresh == (d is not g) and fresh == bool(wd or maximize)


def _textbook_adam(w, grads, lr, b1, b2, eps, wd, decoupled, maximize, amsgrad):
    """Adam as the papers write it, in float64 (the reference for adam_update_)."""
    w = w.astype(np.float64)
    m, v, vmax = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        g = -g.astype(np.float64) if maximize else g.astype(np.float64)
        if decoupled:
            w = w * (1 - lr * wd)
        else:
            g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vhat = (vmax if amsgrad else v) / (1 - b2**t)
        w = w - lr * (m / (1 - b1**t)) / (np.sqrt(vhat) + eps)
    return w


ADAM_CASES = [
    ("Adam", {}), ("Adam", {"weight_decay": 0.1}), ("Adam", {"amsgrad": True}),
    ("Adam", {"maximize": True, "weight_decay": 0.05}), ("AdamW", {"weight_decay": 0.1}),
    ("AdamW", {"amsgrad": True, "maximize": True, "weight_decay": 0.01}),
]
ADAM_IDS = ["adam", "adam_wd", "amsgrad", "max_wd", "adamw", "adamw_ams_max"]


@pytest.mark.parametrize("name, kw", ADAM_CASES, ids=ADAM_IDS)
def test_adam_update_is_adam(device, name, kw):
    w0 = RNG.standard_normal((5, 3)).astype(np.float32)
    grads = [RNG.standard_normal((5, 3)).astype(np.float32) for _ in range(4)]
    amsgrad = kw.get("amsgrad", False)
    w, m, v = (_raw(a, device) for a in (w0.copy(), np.zeros_like(w0), np.zeros_like(w0)))
    max_v = _raw(np.zeros_like(w0), device) if amsgrad else None
    for step, g in enumerate(grads, start=1):
        ck.adam_update_(w, _raw(g, device), m, v, lr=0.01, beta1=0.8, beta2=0.95, eps=1e-6,
                        step=step, weight_decay=kw.get("weight_decay", 0.0),
                        decoupled=name == "AdamW", maximize=kw.get("maximize", False),
                        max_v=max_v)
    want = _textbook_adam(w0, grads, 0.01, 0.8, 0.95, 1e-6, kw.get("weight_decay", 0.0),
                          name == "AdamW", kw.get("maximize", False), amsgrad)
    np.testing.assert_allclose(to_numpy(w), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kw", ADAM_CASES, ids=ADAM_IDS)
def test_the_adam_optimizers_step_with_adam_update(device, name, kw):
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
    np.testing.assert_array_equal(to_numpy(w), p.numpy())
    np.testing.assert_array_equal(to_numpy(m), to_numpy(st["exp_avg"]))
    np.testing.assert_array_equal(to_numpy(v), to_numpy(st["exp_avg_sq"]))
    if max_v is not None:
        np.testing.assert_array_equal(to_numpy(max_v), to_numpy(st["max_exp_avg_sq"]))


# ---- each kernel against the xp code it replaces ------------------------------------------


def _entry_calls(device):
    """(name, thunk) pairs calling every entry on fresh copies of the same inputs."""
    n, c = 6, 5
    y = RNG.standard_normal((n, c)).astype(np.float32)
    b = RNG.standard_normal(c).astype(np.float32)
    g = RNG.standard_normal((n, c)).astype(np.float32)
    labels = RNG.integers(0, c, n)
    logp = _ref_log_softmax(y).astype(np.float32)
    gi = np.full((), 1.0 / n, np.float32)

    def adam(amsgrad):
        w, grad = _raw(y, device), _raw(g, device)
        m, v = _raw(np.tile(b, (n, 1)), device), _raw(np.tile(b * b, (n, 1)), device)
        max_v = _raw(np.tile(b * b * 2, (n, 1)), device) if amsgrad else None
        ck.adam_update_(w, grad, m, v, lr=0.01, beta1=0.9, beta2=0.99, eps=1e-8, step=3,
                        weight_decay=0.1, maximize=amsgrad, max_v=max_v)
        return [w, m, v] + ([max_v] if amsgrad else [])

    return [
        ("bias_relu_", lambda: [ck.bias_relu_(_raw(y, device), _raw(b, device))]),
        ("bias_tanh_", lambda: [ck.bias_tanh_(_raw(y, device), _raw(b, device))]),
        ("relu_backward", lambda: [ck.relu_backward(_raw(g, device), _raw(y, device))]),
        ("tanh_backward", lambda: [ck.tanh_backward(_raw(g, device), _raw(y, device))]),
        ("log_softmax", lambda: [ck.log_softmax(_raw(y, device), 1)]),
        ("log_softmax_xent", lambda: list(ck.log_softmax_xent(
            _raw(y, device), _raw(labels, device), 0.1))),
        ("softmax_xent_grad", lambda: [ck.softmax_xent_grad(
            _raw(logp, device), _raw(labels, device), _raw(gi, device), 0.1)]),
        ("adam_update_", lambda: adam(False)),
        ("adam_update_ amsgrad", lambda: adam(True)),
        ("count_outside_labels", lambda: [ck.count_outside_labels(_raw(labels, device), 3)]),
        ("count_outside_unit", lambda: [ck.count_outside_unit(_raw(y, device))]),
        ("count_nonfinite", lambda: [ck.count_nonfinite(_raw(y / 0, device))]),
    ]


def test_every_kernel_matches_its_xp_code(device):
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, call in _entry_calls(device):
            fused = call()
            with ck.xp_only():
                plain = call()
            for a, b in zip(fused, plain):
                want = to_numpy(b)
                _check(a, want, device, rtol=1e-5)
                if want.dtype.kind == "f":  # (a count may be int32 or int64)
                    assert to_numpy(a).dtype == want.dtype, name


def test_xp_only_restores_the_kernels():
    with ck.xp_only():
        assert not ck._kernels_on
        with ck.xp_only():
            pass
        assert not ck._kernels_on
    assert ck._kernels_on


# ---- training runs these entries ----------------------------------------------------------


@pytest.mark.parametrize("opt_name, kw", [("Adam", {"weight_decay": 0.1}),
                                          ("SGD", {"momentum": 0.9, "weight_decay": 0.1})])
def test_training_runs_the_kernel_entries(monkeypatch, device, opt_name, kw):
    calls = collections.Counter()

    def counted(name):
        fn = getattr(ck, name)

        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    for name in ("log_softmax_xent", "softmax_xent_grad", "adam_update_", "grad_term"):
        monkeypatch.setattr(ck, name, counted(name))
    fused = neural.FUSED_ACTIVATIONS
    assert fused["relu"] == (ck.bias_relu_, ck.relu_backward)
    assert fused["tanh"] == (ck.bias_tanh_, ck.tanh_backward)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)).to(device)
    opt = getattr(optim, opt_name)(model.parameters(), lr=0.01, **kw)
    x, y = gk.randn(5, 4, device=device), gk.tensor([0, 1, 2, 1, 0], device=device)
    loss = nn.functional.cross_entropy(model(x), y)
    assert loss._parents[0]._op == "linear"
    assert loss._parents[0]._parents[0]._op == "linear+relu"
    loss.backward()
    opt.step()
    assert calls["log_softmax_xent"] == 1 and calls["softmax_xent_grad"] == 1
    if opt_name == "Adam":  # the decay is applied inside adam_update_
        assert calls["adam_update_"] == 4
    else:
        assert calls["adam_update_"] == 0 and calls["grad_term"] == 4


def test_importing_the_kernels_module_needs_no_cupy():
    assert ck._kernels == {} or gk.cuda.is_available()
