"""Every op of API.md: forward vs NumPy, gradient vs finite differences (float64), vs PyTorch.

The forward, gradient and float32 checks run on every device (tests/devices.py): inputs are
made on the device and results compared on the host through `.numpy()`.
"""

import numpy as np
import pytest

import gradkit as gk

from .cases import CASES, make_inputs

IDS = [c.id for c in CASES]
GRAD_CASES = [c for c in CASES if c.grad]
GRAD_IDS = [c.id for c in GRAD_CASES]


def _gk_inputs(case, arrays, dtype, requires_grad, device="cpu"):
    out = []
    for i, a in enumerate(arrays):
        if i in case.ints:
            out.append(gk.tensor(a, device=device))
        else:
            out.append(gk.tensor(a, dtype=dtype, requires_grad=requires_grad, device=device))
    return out


def _on(device, fn):
    """`fn` run on `device`: CPU inputs moved there, the result moved back (both moves are
    differentiable ops, so gradcheck's CPU leaves see the device's forward and backward)."""
    if device == "cpu":
        return fn

    def moved(*xs):
        return fn(*[x.to(device) for x in xs]).to("cpu")

    return moved


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_matches_numpy(case, rng, device):
    arrays = make_inputs(case, rng)
    got = case.gk(*_gk_inputs(case, arrays, np.float64, False, device))
    want = case.np(*arrays)
    assert isinstance(got, gk.Tensor)
    assert got.device.split(":")[0] == device
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("case", GRAD_CASES, ids=GRAD_IDS)
def test_gradient_matches_finite_differences(case, rng, device):
    arrays = make_inputs(case, rng)
    inputs = [gk.tensor(a) if i in case.ints else a for i, a in enumerate(arrays)]
    assert gk.gradcheck(_on(device, case.gk), *inputs, atol=1e-6, rtol=1e-4)


TORCH_CASES = [c for c in CASES if c.torch is not None]


@pytest.mark.parametrize("case", TORCH_CASES, ids=[c.id for c in TORCH_CASES])
def test_matches_pytorch_float32(case, rng, torch):
    arrays = make_inputs(case, rng, np.float32)
    xs = _gk_inputs(case, arrays, np.float32, case.grad)
    ts = [torch.tensor(a, requires_grad=case.grad and i not in case.ints)
          for i, a in enumerate(arrays)]
    got, want = case.gk(*xs), case.torch(torch, *ts)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=2e-5, atol=2e-6)
    if not case.grad:
        return
    v = np.random.default_rng(1).standard_normal(got.shape).astype(np.float32)
    got.backward(gk.tensor(v))
    want.backward(torch.tensor(v))
    for i, (x, t) in enumerate(zip(xs, ts)):
        if i in case.ints:
            continue
        tg = np.zeros(x.shape, np.float32) if t.grad is None else t.grad.numpy()
        gg = np.zeros(x.shape, np.float32) if x.grad is None else x.grad.numpy()
        np.testing.assert_allclose(gg, tg, rtol=1e-4, atol=1e-5, err_msg=f"input {i}")
        assert x.grad is None or x.grad.dtype == np.float32


@pytest.mark.parametrize("case", GRAD_CASES, ids=GRAD_IDS)
def test_float32_stays_float32(case, rng, device):
    xs = _gk_inputs(case, make_inputs(case, rng, np.float32), np.float32, True, device)
    out = case.gk(*xs)
    assert out.dtype == np.float32, f"{case.name} returned {out.dtype} for float32 inputs"
    if device != "cpu":  # the gradient rules keep float32 and the device too
        out.backward(gk.ones_like(out))
        for i, x in enumerate(xs):
            if i not in case.ints and x.grad is not None:
                assert x.grad.dtype == np.float32 and x.grad.device == x.device, case.name


# ---- second order: every op's gradient is differentiable again (create_graph=True) ----------


@pytest.mark.parametrize("case", GRAD_CASES, ids=GRAD_IDS)
def test_second_order_matches_finite_differences(case, rng):
    arrays = make_inputs(case, rng)
    inputs = [gk.tensor(a) if i in case.ints else a for i, a in enumerate(arrays)]
    assert gk.gradgradcheck(case.gk, *inputs, atol=1e-5, rtol=1e-3)


def _second_order(mod, grad, case, xs, out, v, us):
    """d/dxs of sum_i <d<out, v>/dx_i, u_i>: a Hessian-vector product of any op."""
    floats = [x for i, x in enumerate(xs) if i not in case.ints]
    gs = grad(out, floats, v, create_graph=True, allow_unused=True)
    total = sum((g * u).sum() for g, u in zip(gs, us) if g is not None)
    if not getattr(total, "requires_grad", False):
        return [None] * len(floats)
    return grad(total, floats, allow_unused=True)


@pytest.mark.parametrize("case", TORCH_CASES_GRAD := [c for c in TORCH_CASES if c.grad],
                         ids=[c.id for c in TORCH_CASES_GRAD])
def test_second_order_matches_pytorch(case, rng, torch):
    arrays = make_inputs(case, rng)
    xs = _gk_inputs(case, arrays, np.float64, True)
    ts = [torch.tensor(a, requires_grad=i not in case.ints) for i, a in enumerate(arrays)]
    got, want = case.gk(*xs), case.torch(torch, *ts)
    r = np.random.default_rng(2)
    v = r.standard_normal(got.shape)
    us = [r.standard_normal(a.shape) for i, a in enumerate(arrays) if i not in case.ints]
    hg = _second_order(gk, gk.autograd.grad, case, xs, got, gk.tensor(v, dtype=np.float64),
                       [gk.tensor(u, dtype=np.float64) for u in us])
    ht = _second_order(torch, torch.autograd.grad, case, ts, want, torch.tensor(v),
                       [torch.tensor(u) for u in us])
    for k, (a, b) in enumerate(zip(hg, ht)):
        a = np.zeros(us[k].shape) if a is None else a.numpy()
        b = np.zeros(us[k].shape) if b is None else b.detach().numpy(force=True)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8, err_msg=f"input {k}")
