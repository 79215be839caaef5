"""Autograd the PyTorch way: backward(gradient, retain_graph, create_graph, inputs),
torch.autograd.grad (allow_unused, materialize_grads), higher orders, grad_fn and its
next_functions, Variable, torch.autograd.functional (against PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.torch as torch
from gradkit.errors import AutogradError


@pytest.fixture(scope="module")
def torch_ref():
    return pytest.importorskip("torch", reason="PyTorch is the reference (pip install torch)")


def test_backward_frees_the_graph_unless_retain_graph():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    with pytest.raises(AutogradError, match="retain_graph=True"):
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.exp([1, 2]) * (1 + np.array([1, 2]))),
                               rtol=1e-6)


def test_backward_of_a_vector_needs_a_gradient():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(AutogradError, match="one-element"):
        (x * 2).backward()
    (x * 2).backward(torch.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]


def test_create_graph_gives_differentiable_gradients():
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 4
    y.backward(create_graph=True)
    g = x.grad
    assert g.item() == 32.0 and g.requires_grad
    (g2,) = torch.autograd.grad(g, x)
    assert g2.item() == 48.0


def test_backward_inputs_limits_the_leaves():
    a = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(2.0, requires_grad=True)
    (a * b).backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


def test_autograd_grad_arguments():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    z = torch.tensor(1.0, requires_grad=True)
    y = (x ** 2).sum()
    with pytest.raises(AutogradError, match="allow_unused"):
        torch.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = torch.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
    assert gx.tolist() == [2.0, 4.0] and gz is None and x.grad is None
    gx, gz = torch.autograd.grad(y, (x, z), materialize_grads=True)
    assert gz.item() == 0.0 and type(gz) is torch.Tensor
    v = x * 3
    (gv,) = torch.autograd.grad(v, x, grad_outputs=torch.ones(2))
    assert gv.tolist() == [3.0, 3.0]


def test_grad_fn_and_next_functions():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    assert x.grad_fn is None and y.grad_fn.name() == "SumBackward0"
    assert "SumBackward0" in repr(y.grad_fn)
    (mul, _), = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0"
    (acc, _), _ = mul.next_functions
    assert acc.variable is x and acc.name().endswith("AccumulateGrad")
    assert torch.tensor(1.0).grad_fn is None


def test_variable_and_grad_mode():
    v = torch.autograd.Variable(torch.tensor([1.0]), requires_grad=True)
    assert v.requires_grad
    with torch.autograd.no_grad():
        assert not (v * 2).requires_grad
    torch.set_grad_enabled(False)
    try:
        assert not torch.is_grad_enabled() and not (v * 2).requires_grad
    finally:
        torch.set_grad_enabled(True)
    assert torch.is_grad_enabled()

    @torch.no_grad()
    def f(t):
        return t * 2

    @torch.inference_mode()
    def g(t):
        return torch.is_inference_mode_enabled(), t * 2

    assert not f(v).requires_grad and g(v)[0] and not g(v)[1].requires_grad


def _cubic(T):
    return lambda a, b: (a ** 3 * b).sum() + (a * b.sin()).sum()


def test_functional_jacobian_hessian_vjp_jvp_match_pytorch(torch_ref):
    a0, b0 = np.array([0.5, -1.0, 2.0], np.float32), np.array([1.0, 0.3, -0.7], np.float32)
    got, want = [], []
    for T, out in ((torch, got), (torch_ref, want)):
        a, b = T.tensor(a0), T.tensor(b0)
        F = T.autograd.functional
        out.append(F.jacobian(lambda t: t.exp() * t, a))
        out.extend(F.jacobian(_cubic(T), (a, b)))
        out.extend(np.asarray(h.numpy()) for pair in F.hessian(_cubic(T), (a, b)) for h in pair)
        out.append(F.hessian(lambda t: (t ** 3).sum(), a))
        out.extend(F.vjp(lambda t: t ** 2, a, T.ones(3)))
        out.extend(F.jvp(lambda t: t ** 2, a, T.ones(3)))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-6)
