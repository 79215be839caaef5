"""The reverse pass: the lesson's autograd examples, accumulation, VJPs, no_grad, errors."""

import numpy as np
import pytest

import gradkit as gk
from gradkit.autograd import unbroadcast


def test_lesson_gradient_of_mean_norm():
    a = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = gk.tensor([4.0, -1.0, 0.5], requires_grad=True)
    c = gk.mean(gk.sqrt(a**2 + b**2))
    c.backward()
    norm = np.sqrt(np.array([1, 4, 9]) + np.array([16, 1, 0.25]))
    np.testing.assert_allclose(a.grad.numpy(), np.array([1, 2, 3]) / norm / 3, rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), np.array([4, -1, 0.5]) / norm / 3, rtol=1e-6)


def test_gradients_accumulate_and_reset():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()  # the same graph twice (kept by retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 11.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_vector_jacobian_product_with_identity():
    a = gk.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = gk.tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    c = a @ b
    c.backward(gk.eye(2))
    np.testing.assert_allclose(a.grad.numpy(), np.eye(2) @ b.numpy().T)
    np.testing.assert_allclose(b.grad.numpy(), a.numpy().T @ np.eye(2))


def test_lesson_gradient_descent_reaches_the_stated_point():
    x = gk.tensor([0.0, 0.0], requires_grad=True)
    for _ in range(15):
        f = (x[0] - 3) ** 2 + (x[1] + 2) ** 2
        x.grad = None
        f.backward()
        with gk.no_grad():
            x -= 0.1 * x.grad
    np.testing.assert_allclose(np.round(x.numpy(), 4), [2.8944, -1.9296])


def test_deep_chain_has_no_recursion_limit():
    x = gk.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001**10_000, rel=1e-3)


def test_diamond_graph_counts_every_path_once():
    x = gk.tensor(2.0, requires_grad=True)
    a = x * 3
    b = x * x
    y = a * b + a  # dy/dx = 3*x^2 + 3*2x*... -> 9x^2 + 3 at x=2 -> 39
    y.backward()
    assert x.grad.item() == pytest.approx(9 * 4 + 3)


def test_fan_out_sums_are_right_when_summed_in_place():
    # `add` hands one array to both parents; sums into a shared array must not leak
    def f(x):
        a = x * 1.5
        b = x - 1.0
        s = a + b
        return s + a + b + s * a + a * 2.0

    assert gk.gradcheck(f, np.array([0.3, -1.2, 2.0]))
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    (h + h + h * h).sum().backward()  # dy/dh = 2 + 2h, dy/dx = 2 (2 + 4x)
    np.testing.assert_allclose(x.grad.numpy(), [12.0, 20.0])


def test_reused_leaf_in_one_op():
    x = gk.tensor([1.0, -2.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -3.0])


def test_leaf_gradients_never_alias_each_other():
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    b = gk.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad.data, b.grad.data)
    (a + b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 2.0])
    np.testing.assert_allclose(b.grad.numpy(), [2.0, 2.0])


def test_user_grad_is_not_aliased():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    v = np.array([1.0, 1.0], dtype=np.float32)
    (x * 1).backward(v)
    v[:] = 100
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_broadcast_gradients_reduce_to_input_shape():
    a = gk.ones(3, 1, requires_grad=True)
    b = gk.ones(4, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_allclose(a.grad.numpy(), 4.0)
    np.testing.assert_allclose(b.grad.numpy(), 3.0)


def test_unbroadcast_helper():
    g = np.ones((2, 3, 4))
    assert unbroadcast(g, (3, 1)).shape == (3, 1)
    assert unbroadcast(g, ()).shape == ()
    np.testing.assert_allclose(unbroadcast(g, (1, 4)), np.full((1, 4), 6.0))


def test_no_grad_records_nothing_and_restores():
    x = gk.tensor([1.0], requires_grad=True)
    with gk.no_grad():
        y = x * 2
        assert not gk.is_grad_enabled()
        with gk.enable_grad():
            z = x * 2
    assert gk.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad


def test_no_grad_as_decorator():
    @gk.no_grad()
    def f(x):
        return x * 2

    assert not f(gk.tensor([1.0], requires_grad=True)).requires_grad


def test_detach_cuts_the_graph_and_shares_memory():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad
    y = x * 2
    assert np.shares_memory(y.detach().data, y.data)
    (x * d).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_constants_get_no_gradient():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    c = gk.tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None


def test_backward_errors():
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(gk.AutogradError, match="one-element"):
        (x * 2).backward()
    with pytest.raises(gk.AutogradError, match="does not require grad"):
        gk.tensor([1.0]).backward()
    with pytest.raises(gk.AutogradError, match=r"shape \(3,\)"):
        (x * 2).backward(gk.ones(3))
    with pytest.raises(gk.DTypeError, match="floating"):
        gk.tensor([1, 2], requires_grad=True)


def test_inplace_on_graph_tensor_is_refused():
    x = gk.tensor([1.0], requires_grad=True)
    with pytest.raises(gk.AutogradError, match="no_grad"):
        x += 1
    with gk.no_grad():
        x += 1
    assert x.item() == 2.0


def test_functional_grad_and_value_and_grad():
    def f(a, b):
        return (a * a * b).sum()

    ga = gk.grad(f)(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_allclose(ga.numpy(), [6.0, 16.0])
    value, (ga, gb) = gk.value_and_grad(f, argnums=(0, 1))(gk.tensor([1.0, 2.0]),
                                                           gk.tensor([3.0, 4.0]))
    assert value.item() == pytest.approx(19.0)
    np.testing.assert_allclose(gb.numpy(), [1.0, 4.0])
    with pytest.raises(gk.AutogradError, match="one-element"):
        gk.grad(lambda a: a * 2)(gk.tensor([1.0, 2.0]))


def test_grad_of_unused_argument_is_zero():
    g = gk.grad(lambda a, b: (a * 2).sum(), argnums=1)(gk.tensor([1.0]), gk.tensor([5.0, 6.0]))
    np.testing.assert_allclose(g.numpy(), [0.0, 0.0])


def test_gradcheck_catches_a_wrong_rule():
    from gradkit.tensor import _make

    def bad_square(x):
        return _make(x.data**2, (x,), lambda g: (g * x.data,), "bad")  # should be 2x

    with pytest.raises(gk.GradcheckError, match="input 0"):
        gk.gradcheck(bad_square, np.array([1.0, 2.0]))
    assert gk.gradcheck(bad_square, np.array([1.0]), raise_exception=False) is False
    assert gk.gradcheck(lambda x: x**2, np.array([1.0, 2.0]))


def test_gradcheck_passes_integer_inputs_through():
    logits = np.random.default_rng(0).standard_normal((4, 3))
    labels = gk.tensor([0, 2, 1, 2])
    assert gk.gradcheck(lambda z, y: gk.ops.cross_entropy(z, y), logits, labels)
