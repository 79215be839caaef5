"""A gradient whose rule uses a mask of a recorded value (ReLU's `x > 0`, abs's sign, clip's
bounds, max's argmax): what the mask depends on stays in the second-order graph with a zero
gradient, so a penalty-only loss leaves zeros (not None) in `.grad`, as in PyTorch, and an
optimizer with momentum or weight decay still steps those parameters the same way."""

import numpy as np
import pytest

import gradkit as gk

ACTIVATIONS = {
    "relu": (lambda h: gk.relu(h), lambda t, h: t.relu(h)),
    "leaky_relu": (lambda h: gk.leaky_relu(h, 0.1),
                   lambda t, h: t.nn.functional.leaky_relu(h, 0.1)),
    "abs": (lambda h: gk.abs(h), lambda t, h: t.abs(h)),
    "clip": (lambda h: gk.clip(h, -0.5, 0.5), lambda t, h: t.clamp(h, -0.5, 0.5)),
    "max": (lambda h: gk.max(h, axis=1, keepdims=True), lambda t, h: t.amax(h, 1, keepdim=True)),
}


def _penalty(m, act, x, w, b, v, grad):
    h = act(x @ w + b)
    out = (h @ v[: h.shape[1]]).sum()
    (g,) = grad(out, x)
    return (g * g).sum()


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_penalty_only_loss_gives_mask_parents_zeros_like_torch(name, torch, rng):
    x0, w0 = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    b0, v0 = rng.standard_normal(5), rng.standard_normal((5, 1))
    ours = [gk.tensor(a, dtype=np.float64, requires_grad=True) for a in (x0, w0, b0, v0)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x0, w0, b0, v0)]
    gk_act, t_act = ACTIVATIONS[name]
    _penalty(gk, gk_act, *ours,
             lambda o, i: gk.autograd.grad(o, [i], create_graph=True)).backward()
    _penalty(torch, lambda h: t_act(torch, h), *theirs,
             lambda o, i: torch.autograd.grad(o, [i], create_graph=True)).backward()
    for mine, ref in zip(ours[1:], theirs[1:]):
        assert (mine.grad is None) == (ref.grad is None)
        if ref.grad is not None:
            np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), atol=1e-12)


def test_a_mask_outside_a_gradient_rule_stays_a_constant():
    """User code's comparisons are not differentiable (as in PyTorch): no node, no grad."""
    x = gk.tensor([1.0, -2.0], requires_grad=True)
    mask = x > 0
    assert not mask.requires_grad and mask.is_leaf
    y = gk.tensor([3.0, 4.0], requires_grad=True)
    (y * mask).sum().backward()
    assert x.grad is None and y.grad.tolist() == [1.0, 0.0]
