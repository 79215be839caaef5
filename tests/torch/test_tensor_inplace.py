"""In-place methods with PyTorch's rules: outside the graph they write the storage (views and
.data see it, dtypes are kept); a leaf that requires grad refuses; in the graph the change is
recorded and gradients flow through it (compared with PyTorch); ops that used the old value
are refused at backward."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.torch as torch
from gradkit.errors import AutogradError


@pytest.fixture(scope="module")
def torch_ref():
    return pytest.importorskip("torch", reason="PyTorch is the reference (pip install torch)")


def test_writes_go_to_the_storage_and_views_see_them():
    x = torch.zeros(2, 3)
    row = x[0]
    arr = x.numpy()
    x.add_(1).mul_(3)
    x[1, 2] = 7.0
    assert row.tolist() == [3.0, 3.0, 3.0] and arr[1, 2] == 7.0
    x.zero_()
    assert x.sum().item() == 0.0 and row.sum().item() == 0.0
    x.fill_(2.5).clamp_(max=1.0)
    assert x.tolist() == [[1.0] * 3] * 2
    assert x.add_(torch.ones(3), alpha=2) is x and x[0, 0].item() == 3.0


def test_dtypes_are_kept_and_float_into_int_raises():
    i = torch.tensor([1, 2])
    i.add_(3)
    i *= 2
    assert i.dtype == torch.int64 and i.tolist() == [8, 10]
    with pytest.raises(RuntimeError, match="Float can't be cast to the desired output type Long"):
        i.add_(0.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        i /= 2
    i.copy_(torch.tensor([1.9, -2.2]))  # copy_ casts like PyTorch's
    assert i.tolist() == [1, -2]
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        torch.zeros(2).add_(torch.ones(2, 2))


def test_a_leaf_that_requires_grad_refuses_unless_under_no_grad():
    w = torch.ones(3, requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.zero_(), lambda: w.__setitem__(0, 2.0),
                   lambda: w.uniform_(), lambda: w.mul_(2)):
        with pytest.raises(AutogradError, match="leaf Variable that requires grad"):
            change()
    with torch.no_grad():
        w -= 0.5
        w.mul_(2)
        w[0] = 3.0
    w.data.add_(1)
    assert w.tolist() == [4.0, 2.0, 2.0] and w.requires_grad and w.is_leaf


def test_a_training_step_by_hand(rng):
    x = torch.tensor(rng.standard_normal((16, 3)).astype(np.float32))
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    w = torch.zeros(3, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    first = None
    for _ in range(200):
        loss = ((x @ w + b - y) ** 2).mean()
        first = first if first is not None else loss.item()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b.sub_(0.1 * b.grad)
        w.grad.zero_()
        b.grad.data.zero_()
    assert loss.item() < 1e-4 * first
    assert w.flatten().tolist() == pytest.approx([1.0, -2.0, 0.5], abs=1e-2)


def _recorded(T, x):
    h = x * 2
    h.add_(1)
    h.mul_(x)
    h[0] = h[0] * 3
    h += x
    h.clamp_(min=0.5)
    h.masked_fill_(h > 5, 5.0)
    acc = T.zeros(3)
    acc += h.sum(0)  # a tensor outside the graph takes part in it
    return acc


def test_in_place_changes_in_the_graph_match_pytorch(torch_ref):
    x0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], np.float32)
    grads = []
    for T in (torch, torch_ref):
        x = T.tensor(x0, requires_grad=True)
        out = _recorded(T, x)
        assert out.requires_grad and not out.is_leaf
        (out * T.tensor([1.0, 2.0, 3.0])).sum().backward()
        grads.append((out.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-6)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-6)


def test_an_op_that_used_the_old_value_is_refused_at_backward():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    e = h.exp()  # saved h's old value
    h.add_(1)
    with pytest.raises(AutogradError, match="modified in place"):
        (e.sum() + h.sum()).backward()


def test_random_fills_keep_shape_dtype_and_range():
    w = torch.empty(1000, dtype=torch.float64).uniform_(-0.1, 0.1)
    assert w.dtype == torch.float64 and w.min().item() >= -0.1 and w.max().item() < 0.1
    n = torch.zeros(20000).normal_(2.0, 0.5)
    assert n.mean().item() == pytest.approx(2.0, abs=0.02)
    assert n.std().item() == pytest.approx(0.5, abs=0.02)
    g = torch.Generator().manual_seed(3)
    a = torch.zeros(4).uniform_(generator=g)
    b = torch.zeros(4).uniform_(generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert set(torch.zeros(100).bernoulli_(0.5).tolist()) == {0.0, 1.0}
