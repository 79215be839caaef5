"""backward frees the graph (PyTorch's retain_graph rule), create_graph, and autograd.grad.

After `backward` every node drops the closure that held the arrays its op saved and its
references to intermediate results; only small records of the structure (op, shape, parents)
and the leaves stay. A second `backward` through a freed graph raises; `retain_graph=True`
keeps the graph. `create_graph=True` records the gradients for ops with a differentiable rule.
"""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import gradkit as gk
from gradkit import autograd
from gradkit.tensor import Tensor, _make


def _mlp_loss(x, w1, w2):
    return ((x @ w1).tanh() @ w2).sum()


# ---- freeing --------------------------------------------------------------------------------


def test_saved_arrays_and_intermediates_are_released_while_the_loss_is_kept():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 3.0  # an intermediate: its data is saved by the mul below
    loss = (h * h).sum()
    node = loss._parents[0]  # the second mul
    h_ref, h_data, closure = weakref.ref(h), weakref.ref(h.data), weakref.ref(node._vjp)
    del h, node
    assert h_ref() is not None  # before backward the kept loss keeps the whole graph
    loss.backward()
    gc.collect()
    assert h_ref() is None and h_data() is None and closure() is None
    np.testing.assert_allclose(x.grad.numpy(), 18 * x.numpy())
    # what stays: the loss itself, its op, and a record of the structure down to the leaves
    assert not loss.is_leaf and loss.requires_grad and loss.item() == pytest.approx(126.0)
    mul = loss._parents[0]
    assert not isinstance(mul, Tensor) and mul._op == "mul" and mul.shape == (3,)
    assert x in mul._parents[0]._parents  # leaves stay (parameters, inputs)
    assert "op=sum" in repr(loss)


def test_memory_probe_a_kept_loss_holds_no_activations():
    rng = np.random.default_rng(0)
    x = gk.tensor(rng.standard_normal((256, 256)).astype(np.float32))
    w1 = gk.tensor(rng.standard_normal((256, 1024)).astype(np.float32) * 0.05,
                   requires_grad=True)
    w2 = gk.tensor(rng.standard_normal((1024, 256)).astype(np.float32) * 0.05,
                   requires_grad=True)

    def kept_after_backward(**kw) -> int:
        w1.grad = w2.grad = None
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            loss = _mlp_loss(x, w1, w2)
            loss.backward(**kw)
            w1.grad = w2.grad = None  # count the graph, not the gradients
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0] - before
            del loss
        finally:
            tracemalloc.stop()
        return kept

    activation = 256 * 1024 * 4  # one (256, 1024) float32 intermediate: 1 MiB
    retained = kept_after_backward(retain_graph=True)
    freed = kept_after_backward()
    assert retained >= 2 * activation  # x @ w1 and its tanh, at least
    assert freed < activation / 8


def test_freeing_never_touches_leaves():
    w = gk.tensor([1.0, -2.0], requires_grad=True)
    c = gk.tensor([3.0, 4.0])
    for _ in range(3):
        (w * c).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [9.0, 12.0])  # gradients still accumulate
    assert w.is_leaf and c.is_leaf and w._parents == () and w._vjp is None
    assert w.requires_grad and not c.requires_grad


def test_a_deep_freed_graph_is_dropped_without_recursion():
    x = gk.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    del y  # a 20,000-deep chain of records
    gc.collect()


# ---- a second backward ----------------------------------------------------------------------


def test_a_second_backward_raises_naming_the_op_and_the_fix():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    before = x.grad.numpy().copy()
    with pytest.raises(gk.AutogradError, match=r"second time.*'sum'.*retain_graph=True"):
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), before)  # nothing was added


def test_retain_graph_keeps_todays_behaviour():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])  # twice -> doubled
    y.backward()  # the last pass frees
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])
    with pytest.raises(gk.AutogradError, match="retain_graph=True"):
        y.backward()


def test_an_intermediate_shared_by_two_losses():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    l1, l2 = h.sum(), (h * 3.0).sum()
    l1.backward(retain_graph=True)  # h's part of the graph must survive for l2
    l2.backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy())  # (1 + 3) * 2x
    x.grad = None
    h = x * x
    l1, l2 = h.sum(), (h * 3.0).sum()
    l1.backward()  # frees h's node too
    with pytest.raises(gk.AutogradError, match=r"'mul'.*retain_graph=True"):
        l2.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())  # only l1's gradient
    x.grad = None
    h = x * x
    (h.sum() + (h * 3.0).sum()).backward()  # one backward of the sum needs no retaining
    np.testing.assert_allclose(x.grad.numpy(), 8 * x.numpy())


def test_backward_from_a_leaf_can_repeat():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    x.backward(gk.ones(2))
    x.backward(gk.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    assert x.is_leaf


def test_a_training_loop_that_keeps_its_last_loss():
    gk.manual_seed(0)
    model = gk.nn.Sequential(gk.nn.Linear(4, 8), gk.nn.Tanh(), gk.nn.Linear(8, 3))
    opt = gk.optim.SGD(model.parameters(), lr=0.1)
    x, y = gk.randn(16, 4), gk.tensor(np.arange(16) % 3)
    losses = []
    for _ in range(5):
        loss = gk.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss)  # kept for a plot: only records stay alive
    assert losses[-1].item() < losses[0].item()
    assert all(type(loss._vjp) is autograd._Freed for loss in losses)


def test_the_graph_still_draws_after_backward():
    from gradkit.viz.graph import collect

    a = gk.tensor([1.0, 2.0], requires_grad=True)
    b = gk.tensor([3.0, 4.0], requires_grad=True)
    c = gk.mean(gk.sqrt(a**2 + b**2))
    before = [(n.kind, n.lines[0]) for n in collect(c, show_grad=False)]
    c.backward()
    after = collect(c, names={"a": a, "b": b})
    assert [(n.kind, n.lines[0]) for n in after if n.kind in ("op", "output")] == [
        k for k in before if k[0] in ("op", "output")]
    assert len(after) == 7 and any("grad [0.1581, 0.2236]" in " ".join(n.lines) for n in after)


# ---- gk.grad and autograd.grad ----------------------------------------------------------------


def test_functional_grad_still_works_and_frees_its_graph():
    f = gk.grad(lambda w: ((w - 1.0) ** 2).sum())
    for _ in range(2):
        np.testing.assert_allclose(f(gk.tensor([0.0, 3.0])).numpy(), [-2.0, 4.0])
    value, g = gk.value_and_grad(lambda w: (w * w).sum())(gk.tensor([1.0, 2.0]))
    assert value.item() == 5.0 and value.is_leaf
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])


def test_autograd_grad_returns_values_and_writes_no_grad():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    w = gk.tensor([3.0], requires_grad=True)
    h = x * w
    y = (h * h).sum()
    gx, gh, gw = autograd.grad(y, [x, h, w], retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), 2 * 9 * x.numpy())
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(gw.numpy(), [2 * 3 * (1 + 4)])
    assert x.grad is None and w.grad is None
    (gx2,) = autograd.grad(y, x)  # retained above, freed now
    np.testing.assert_allclose(gx2.numpy(), gx.numpy())
    with pytest.raises(gk.AutogradError, match="retain_graph=True"):
        autograd.grad(y, x)


def test_autograd_grad_seeds_several_outputs_and_unused_inputs():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    z = gk.tensor([5.0], requires_grad=True)
    a, b = x * 2.0, x * x
    (g,) = autograd.grad([a, b], x, grad_outputs=[gk.ones(2), gk.ones(2)])
    np.testing.assert_allclose(g.numpy(), 2 + 2 * x.numpy())
    with pytest.raises(gk.AutogradError, match="allow_unused"):
        autograd.grad((x * 2.0).sum(), [x, z])
    gx, gz = autograd.grad((x * 2.0).sum(), [x, z], allow_unused=True)
    assert gz is None and gx.numpy().tolist() == [2.0, 2.0]
    with pytest.raises(gk.AutogradError, match="does not require grad"):
        autograd.grad((x * 2.0).sum(), gk.tensor([1.0]))


def test_gradients_from_scalar_seeds_never_alias():
    a = gk.tensor(1.0, requires_grad=True)
    b = gk.tensor(2.0, requires_grad=True)
    ga, gb = autograd.grad(a + b, [a, b])  # add hands the same seed to both
    assert not np.shares_memory(ga.data, gb.data) and ga.data.flags.writeable


# ---- create_graph -------------------------------------------------------------------------


@pytest.fixture
def cube():
    """x ** 3 and a * b, written once for both namespaces: raw arrays in first-order
    backward, Tensors (recorded) when the pass records its gradients."""

    def cube(x):
        def vjp(g):
            if isinstance(g, Tensor):
                return (g * (x * x) * 3.0,)
            return (g * 3.0 * x.data * x.data,)

        return _make(x.data**3, (x,), vjp, "test_cube")

    autograd.register_differentiable("test_cube")
    yield cube
    autograd.DIFFERENTIABLE_OPS.discard("test_cube")


@pytest.fixture
def times():
    def times(a, b):
        def vjp(g):
            if isinstance(g, Tensor):
                return g * b, g * a
            return g * b.data, g * a.data

        return _make(a.data * b.data, (a, b), vjp, "test_times")

    autograd.register_differentiable("test_times")
    yield times
    autograd.DIFFERENTIABLE_OPS.discard("test_times")


def test_create_graph_gives_differentiable_gradients(cube):
    x = gk.tensor(2.0, requires_grad=True)
    y = cube(x)
    y.backward(create_graph=True)
    g = x.grad
    assert g.item() == 12.0 and g.requires_grad and not g.is_leaf  # 3 x^2, recorded
    x.grad = None
    g.backward()
    assert x.grad.item() == 12.0  # 6 x
    x.grad = None
    y.backward()  # create_graph kept the graph
    assert x.grad.item() == 12.0


def test_second_and_mixed_derivatives_through_autograd_grad(cube, times):
    x = gk.tensor(2.0, requires_grad=True)
    (g,) = autograd.grad(cube(x), x, create_graph=True)
    (h,) = autograd.grad(g, x)  # g is made of `mul`s: a third order would need their rule
    assert (g.item(), h.item()) == (12.0, 12.0)  # 3x^2, 6x
    a = gk.tensor(3.0, requires_grad=True)
    b = gk.tensor(5.0, requires_grad=True)
    (ga,) = autograd.grad(times(cube(a), b), a, create_graph=True)  # 3 a^2 b
    gab, gaa = autograd.grad(ga, [b, a])
    assert (gab.item(), gaa.item()) == (27.0, 6 * 3 * 5)


def test_grad_of_grad_composes(cube):
    d2 = gk.grad(gk.grad(cube))
    assert d2(gk.tensor(2.0)).item() == 12.0
    value, g = gk.value_and_grad(lambda x: gk.grad(cube)(x))(gk.tensor(1.0))
    assert (value.item(), g.item()) == (3.0, 6.0)


def test_a_gradient_penalty_is_never_silently_constant():
    # grad of a gradient is differentiated through its recorded rule: d/dw sum(3 w^2) = 6 w
    f = lambda w: (w * w * w).sum()  # noqa: E731
    got = gk.grad(lambda w: gk.grad(f)(w).sum())(gk.tensor([1.0, 2.0]))
    np.testing.assert_allclose(got.numpy(), [6.0, 12.0])
    # an op without a registered differentiable rule raises, naming it, rather than
    # returning a penalty whose own gradient would silently be zero
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = _make(x.data * 2, (x,), lambda g: (g * 2,), "custom_double")
    with pytest.raises(gk.AutogradError, match="'custom_double' is not differentiable yet"):
        (y * y).sum().backward(create_graph=True)


def test_gradients_of_intermediate_inputs_never_alias_the_seed_or_each_other():
    x = gk.tensor(1.0, requires_grad=True)
    p, q = x * 2.0, x * 3.0
    gp, gq = autograd.grad(p + q, [p, q])  # add hands the read-only seed to both
    assert not np.shares_memory(gp.data, gq.data)
    gp.data += 1  # writable, and no later backward sees it
    (x * 1.0 + x * 1.0).backward()
    assert x.grad.item() == 2.0 and gq.item() == 1.0
