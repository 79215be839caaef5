"""In-place writes and autograd (PyTorch's version-counter rule): a write to a tensor that a
recorded graph saved makes the later backward raise, never give a wrong gradient."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit import nn, optim
from gradkit.errors import AutogradError


def test_a_leaf_written_under_no_grad_after_use_raises():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with gk.no_grad():
        x += 10
    with pytest.raises(AutogradError, match=r"input 0 of 'mul'.*a leaf.*at version 1"):
        y.backward()
    assert x.grad is None  # nothing was written before the check


def test_a_saved_intermediate_written_in_place_raises():
    x = gk.tensor([0.5, -1.0], requires_grad=True)
    h = x.exp()
    y = (h * 2).sum()
    with gk.no_grad():
        h += 1
    with pytest.raises(AutogradError, match="made by 'exp'"):
        y.backward()


def test_an_optimizer_step_between_forward_and_backward_raises():
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(gk.randn(5, 3)).sum().backward()
    loss = model(gk.randn(5, 3)).sum()
    opt.step()
    with pytest.raises(AutogradError, match="'linear'"):
        loss.backward()


@pytest.mark.parametrize("write", ["view", "detach", "setitem", "copy_", "init", "load"])
def test_every_kind_of_write_is_seen(write):
    lin = nn.Linear(2, 2)
    x = gk.randn(3, 2)
    loss = lin(x).sum()
    w = lin.weight
    with gk.no_grad():
        if write == "view":
            v = w[0:1]
            v *= 2
        elif write == "detach":
            d = w.detach()
            d += 1
        elif write == "setitem":
            w[0, 0] = 5.0
        elif write == "copy_":
            w.copy_(gk.zeros(2, 2))
        elif write == "init":
            nn.init.zeros_(w)
        else:
            lin.load_state_dict({"weight": np.ones((2, 2), np.float32),
                                 "bias": np.zeros(2, np.float32)})
    with pytest.raises(AutogradError, match="modified in place"):
        loss.backward()


def test_writes_no_graph_needs_stay_free():
    gk.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x, y = gk.randn(16, 3), gk.randn(16, 1)
    for _ in range(3):  # the usual loop: step after backward
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    z = gk.tensor([1.0, 2.0], requires_grad=True)
    unrelated = gk.zeros(2)
    out = (z * 3).sum()
    with gk.no_grad():
        unrelated += 1  # not in the graph
    out.backward()
    np.testing.assert_array_equal(z.grad.numpy(), [3.0, 3.0])


def test_retained_graph_written_between_two_backwards_raises_the_second_time():
    x = gk.tensor([1.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    with gk.no_grad():
        x -= 1
    with pytest.raises(AutogradError, match="modified in place"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 6.0])  # the first pass only


_OPS = {
    "mul": lambda a, b: a * b, "add": lambda a, b: a + b, "exp": lambda a, b: a.exp(),
    "tanh": lambda a, b: a.tanh(), "sq": lambda a, b: a * a, "sub": lambda a, b: a - b * 2,
    "view": lambda a, b: a[1:] * b[:-1], "reshape": lambda a, b: a.reshape(2, 2).T.reshape(4),
}


def _build(leaves, program):
    """The tensors of a random expression graph: leaves, then one per (op, i, j) step."""
    nodes = list(leaves)
    for op, i, j in program:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        out = _OPS[op](a, b)
        if out.shape != (4,):
            out = gk.concatenate([out, out[:4 - out.shape[0]]]) if out.shape[0] < 4 else out
        nodes.append(out)
    return nodes


@settings(max_examples=150, deadline=None)
@given(program=st.lists(st.tuples(st.sampled_from(sorted(_OPS)), st.integers(0, 20),
                                  st.integers(0, 20)), min_size=1, max_size=6),
       victim=st.integers(0, 30), amount=st.floats(0.5, 2.0), seed=st.integers(0, 2**16))
def test_random_graphs_with_random_writes_never_give_a_wrong_gradient(program, victim, amount,
                                                                      seed):
    rng = np.random.default_rng(seed)
    values = [rng.uniform(-1, 1, 4).astype(np.float64) for _ in range(2)]
    leaves = [gk.tensor(v, requires_grad=True) for v in values]
    nodes = _build(leaves, program)
    loss = (nodes[-1] * nodes[-1]).sum()
    with gk.no_grad():
        nodes[victim % len(nodes)] += amount  # a leaf or an intermediate, maybe a view
    try:
        loss.backward()
    except AutogradError as exc:
        assert "modified in place" in str(exc)
        return
    fresh = [gk.tensor(v, requires_grad=True) for v in values]  # the values the graph saw
    (lambda n: (n * n).sum())(_build(fresh, program)[-1]).backward()
    for leaf, ref in zip(leaves, fresh):
        got = None if leaf.grad is None else leaf.grad.numpy()
        want = None if ref.grad is None else ref.grad.numpy()
        assert (got is None) == (want is None)
        if got is not None:
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
