"""Higher-order autograd: gk.jacobian, gk.hessian, gk.vjp, gk.jvp against torch.func, their
composition with gk.grad, gradient penalties (backward(create_graph=True)), Newton's method,
the PyTorch form of gradcheck/gradgradcheck, and the errors a learner sees. Each function
is written once against a namespace `m` (gradkit or torch) and runs on both, in float64.
"""

import numpy as np
import pytest

import gradkit as gk
from gradkit.tensor import _make


def _gk(a):
    return gk.tensor(np.asarray(a, np.float64), dtype=np.float64)


def _close(ours, theirs, atol=1e-9, rtol=1e-7):
    """Compare (possibly nested tuples of) gk and torch results."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _close(a, b, atol, rtol)
        return
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), atol=atol, rtol=rtol)


# ---- elementwise test functions (vector -> vector), written for gk and torch alike -----------


def poly(m, x):
    return 3 * x**3 - 2 * x**2 + x - 0.5


def tanh_exp_log(m, x):
    return m.tanh(m.exp(x) * 0.3) * m.log(x * x + 1)


def sigmoid_sin(m, x):
    return m.sigmoid(x) * m.sin(2 * x) + m.exp(-x * x)


def ratio(m, x):
    return (x * x + 1) / (m.exp(x) + 2)  # the shape of one softmax entry


ELEMENTWISE = [poly, tanh_exp_log, sigmoid_sin, ratio]


def two_args(m, x, y):
    return m.exp(x * y) * m.tanh(y) + x**2 * y


def two_outputs(m, x, y):
    return x * m.sin(y), m.exp(x) + y * y


@pytest.fixture
def tf(torch):
    import torch.func

    return torch.func


def _both(torch, *arrays):
    return [_gk(a) for a in arrays], [torch.tensor(np.asarray(a, np.float64)) for a in arrays]


@pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.__name__)
def test_jacobian_vjp_jvp_match_torch_elementwise(f, torch, tf, rng):
    x = rng.standard_normal(4)
    v = rng.standard_normal(4)
    (gx, gv), (tx, tv) = _both(torch, x, v)
    _close(gk.jacobian(lambda a: f(gk, a))(gx), tf.jacrev(lambda a: f(torch, a))(tx))
    out, vjp_fn = gk.vjp(lambda a: f(gk, a), gx)
    t_out, t_vjp = tf.vjp(lambda a: f(torch, a), tx)
    _close(out, t_out)
    _close(vjp_fn(gv), t_vjp(tv))
    _close(vjp_fn(gv * 2), t_vjp(tv * 2))  # vjp_fn may be called again
    _close(gk.jvp(lambda a: f(gk, a), (gx,), (gv,)), tf.jvp(lambda a: f(torch, a), (tx,), (tv,)))


def test_multiple_argnums_and_tuple_outputs_match_torch(torch, tf, rng):
    x, y, u, w = rng.standard_normal((4, 3))
    (gx, gy, gu, gw), (tx, ty, tu, tw) = _both(torch, x, y, u, w)
    for f in (two_args, two_outputs):
        ours = gk.jacobian(lambda a, b, f=f: f(gk, a, b), argnums=(0, 1))(gx, gy)
        _close(ours, tf.jacrev(lambda a, b, f=f: f(torch, a, b), argnums=(0, 1))(tx, ty))
        ours = gk.jacobian(lambda a, b, f=f: f(gk, a, b), argnums=1)(gx, gy)
        _close(ours, tf.jacrev(lambda a, b, f=f: f(torch, a, b), argnums=1)(tx, ty))
    _, vjp_fn = gk.vjp(lambda a, b: two_outputs(gk, a, b), gx, gy)
    _, t_vjp = tf.vjp(lambda a, b: two_outputs(torch, a, b), tx, ty)
    _close(vjp_fn((gu, gw)), t_vjp((tu, tw)))
    _close(gk.jvp(lambda a, b: two_outputs(gk, a, b), (gx, gy), (gu, gw)),
           tf.jvp(lambda a, b: two_outputs(torch, a, b), (tx, ty), (tu, tw)))


def test_hessian_of_scalar_arguments_matches_torch(torch, tf):
    x, y = 0.7, -0.4
    (gx, gy), (tx, ty) = _both(torch, x, y)
    _close(gk.hessian(lambda a, b: two_args(gk, a, b), argnums=(0, 1))(gx, gy),
           tf.hessian(lambda a, b: two_args(torch, a, b), argnums=(0, 1))(tx, ty))
    _close(gk.hessian(lambda a: tanh_exp_log(gk, a))(gx),
           tf.hessian(lambda a: tanh_exp_log(torch, a))(tx))


def test_grad_of_grad_of_grad_of_a_polynomial(rng):
    coeffs = rng.standard_normal(5)  # c0 + c1 x + ... + c4 x^4
    p = np.polynomial.Polynomial(coeffs)

    def f(x):
        return sum(float(c) * x**k for k, c in enumerate(coeffs))

    for x in (-1.3, 0.2, 2.1):
        for order, fn in enumerate((gk.grad(f), gk.grad(gk.grad(f)),
                                    gk.grad(gk.grad(gk.grad(f)))), start=1):
            assert fn(_gk(x)).item() == pytest.approx(p.deriv(order)(x), rel=1e-10, abs=1e-10)


def test_nested_grad_differentiates_the_argument_only():
    """d/dx [d/dy (x * y) at y = x] = d/dx x = 1 (JAX's answer; confusing the two would give 2)."""
    x = _gk(1.5)
    assert gk.grad(lambda a: gk.grad(lambda b: a * b)(a))(x).item() == pytest.approx(1.0)
    # and mixed partials: d/dx d/dy (x^2 y^3) = 6 x y^2
    mixed = gk.grad(lambda a, b: gk.grad(lambda c: a**2 * c**3)(b))(x, _gk(-0.5))
    assert mixed.item() == pytest.approx(6 * 1.5 * 0.25)


def test_jvp_of_grad_and_grad_of_jvp_compose(torch, tf):
    """Forward-over-reverse (jvp of grad) and reverse-over-forward agree with torch."""
    x, v = 0.3, 1.7
    (gx, gv), (tx, tv) = _both(torch, x, v)
    f_gk, f_t = (lambda a: sigmoid_sin(gk, a)), (lambda a: sigmoid_sin(torch, a))
    _close(gk.jvp(gk.grad(f_gk), (gx,), (gv,))[1], tf.jvp(tf.grad(f_t), (tx,), (tv,))[1])
    ours = gk.grad(lambda a: gk.jvp(f_gk, (a,), (gv,))[1])(gx)
    _close(ours, tf.grad(lambda a: tf.jvp(f_t, (a,), (tv,))[1])(tx))


def test_outputs_and_inputs_that_do_not_meet():
    x = _gk([1.0, 2.0])
    j = gk.jacobian(lambda a, b: b * 2.0, argnums=(0, 1))(x, _gk([3.0]))
    assert j[0].shape == (1, 2) and not j[0].numpy().any()
    np.testing.assert_allclose(j[1].numpy(), [[2.0]])
    _, vjp_fn = gk.vjp(lambda a, b: a * 3.0, x, _gk(5.0))
    ga, gb = vjp_fn(_gk([1.0, 1.0]))
    np.testing.assert_allclose(ga.numpy(), [3.0, 3.0])
    assert gb.shape == () and gb.item() == 0.0
    _, t = gk.jvp(lambda a: a.detach() * 2.0, (x,), (x,))
    assert not t.numpy().any()


def test_top_level_results_are_plain_values():
    x = _gk([0.5, 1.0])
    (out, vjp_fn), (value, tangent) = gk.vjp(gk.exp, x), gk.jvp(gk.exp, (x,), (x,))
    for t in (gk.jacobian(gk.exp)(x), out, vjp_fn(x)[0], value, tangent):
        assert not t.requires_grad
    assert not x.requires_grad  # the caller's tensor is left alone


# ---- backward(create_graph=True), autograd.grad(create_graph=True), gradient penalties ------


def _critic(m, x, w, b, c):
    """An elementwise critic D(x) = sum_j c_j tanh(w_j x + b_j) on scalar samples."""
    return c[0] * m.tanh(w[0] * x + b[0]) + c[1] * m.tanh(w[1] * x + b[1])


def test_gradient_penalty_elementwise_matches_torch(torch, rng):
    """WGAN-GP: the penalty (|dD/dx| - 1)^2 over a batch, differentiated w.r.t. D's weights."""
    x = rng.standard_normal(6)
    params = [rng.standard_normal(2) for _ in range(3)]
    ours = [[_gk(p[0]).requires_grad_(), _gk(p[1]).requires_grad_()] for p in params]
    theirs = [[torch.tensor(float(p[0]), dtype=torch.float64, requires_grad=True),
               torch.tensor(float(p[1]), dtype=torch.float64, requires_grad=True)]
              for p in params]
    gx = _gk(x).requires_grad_()
    tx = torch.tensor(x, requires_grad=True)
    d = _critic(gk, gx, *ours)
    (g,) = gk.autograd.grad(d, gx, grad_outputs=gk.ones_like(d), create_graph=True)
    assert g.requires_grad
    penalty = (gk.sqrt(g * g) - 1) ** 2
    penalty.backward(gk.ones_like(penalty))
    td = _critic(torch, tx, *theirs)
    (tg,) = torch.autograd.grad(td, tx, torch.ones_like(td), create_graph=True)
    ((tg.abs() - 1) ** 2).backward(torch.ones_like(tg))
    for mine, ref in zip(sum(ours, []), sum(theirs, [])):
        assert mine.grad.item() == pytest.approx(ref.grad.item(), rel=1e-9, abs=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_backward_create_graph_leaves_a_recorded_grad(torch):
    x = _gk([0.3, -1.2, 2.0]).requires_grad_()
    y = gk.tanh(x) * gk.exp(x)
    y.backward(gk.ones_like(y), create_graph=True)
    first = x.grad
    assert first.requires_grad  # .grad is recorded: differentiable again
    x.grad = None
    first.backward(gk.ones_like(first))  # d/dx of dy/dx: the second derivative
    tx = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)
    ty = torch.tanh(tx) * torch.exp(tx)
    ty.backward(torch.ones_like(ty), create_graph=True)
    tfirst = tx.grad
    tx.grad = None
    tfirst.backward(torch.ones_like(tfirst))
    np.testing.assert_allclose(first.detach().numpy(), tfirst.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)


# ---- Newton's method ------------------------------------------------------------------------


def test_newton_converges_on_rosenbrock():
    """Newton steps x <- x - H^-1 g with gk.grad and gk.hessian reach (1, 1) from (-1.2, 1)."""
    def f(a, b):
        return (1 - a) ** 2 + 100 * (b - a * a) ** 2

    grad, hess = gk.grad(f, argnums=(0, 1)), gk.hessian(f, argnums=(0, 1))
    x = np.array([-1.2, 1.0])
    for _ in range(20):
        args = (_gk(x[0]), _gk(x[1]))
        g = np.array([t.item() for t in grad(*args)])
        h = np.array([[t.item() for t in row] for row in hess(*args)])
        x = x - np.linalg.solve(h, g)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-10)
    assert np.abs([t.item() for t in grad(_gk(x[0]), _gk(x[1]))]).max() < 1e-8


# ---- gradcheck / gradgradcheck in PyTorch's form -------------------------------------------


def bad_cube(x):
    """x^3 whose rule is right to first order but reads x's raw array (a constant) when
    recorded, so its second derivative is wrong (it borrows a registered op's name)."""
    return _make(x.data**3, (x,), lambda g: (g * 3 * x.data**2,), "mul")


def test_gradcheck_and_gradgradcheck_take_a_tuple_of_inputs(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    f = lambda a, b: gk.tanh(a * b) * gk.exp(b)  # noqa: E731
    for check in (gk.gradcheck, gk.gradgradcheck):
        assert check(f, (x, y)) and check(f, [_gk(x), _gk(y)]) and check(f, x, y)
    assert gk.gradcheck(lambda a: a * a, [1.0, 2.0])  # a list of numbers is one input
    assert gk.gradcheck(bad_cube, (x,))
    with pytest.raises(gk.GradcheckError, match="input 0"):
        gk.gradgradcheck(bad_cube, (x,))
    assert gk.gradgradcheck(bad_cube, [x], raise_exception=False) is False


# ---- errors ---------------------------------------------------------------------------------


def test_errors_a_learner_can_act_on():
    x = _gk([1.0, 2.0])
    ints = gk.tensor([1, 2])
    for call in (lambda: gk.jacobian(gk.exp)(ints), lambda: gk.grad(lambda a: a * 1.0)(ints),
                 lambda: gk.vjp(gk.exp, ints), lambda: gk.jvp(gk.exp, (ints,), (x,)),
                 lambda: gk.hessian(gk.exp)(ints)):
        with pytest.raises(gk.DTypeError, match="only floats have gradients"):
            call()
    with pytest.raises(gk.AutogradError, match="one-element tensor.*gk.jacobian"):
        gk.grad(gk.exp)(x)
    with pytest.raises(gk.AutogradError, match=r"tangent 0 has shape \(3,\) but primal 0 "):
        gk.jvp(gk.exp, (x,), (gk.ones(3),))
    with pytest.raises(gk.AutogradError, match="1 primals but 2 tangents"):
        gk.jvp(gk.exp, (x,), (x, x))
    with pytest.raises(TypeError, match="tuples or lists"):
        gk.jvp(gk.exp, x, x)
    _, vjp_fn = gk.vjp(gk.exp, x)
    with pytest.raises(gk.AutogradError, match=r"cotangent 0 has shape \(3,\)"):
        vjp_fn(gk.ones(3))
    np.testing.assert_allclose(vjp_fn([1.0, 0.0])[0].numpy(), [np.e, 0.0])  # a list: one
    with pytest.raises(gk.AutogradError, match="tuple of 2 outputs but the cotangents are 3"):
        gk.vjp(lambda a: (a, a * 2), x)[1]((x, x, x))
    with pytest.raises(ValueError, match="argnums 2"):
        gk.jacobian(gk.exp, argnums=2)(x)
    with pytest.raises(TypeError, match="Tensor or a tuple/list"):
        gk.jacobian(lambda a: 3.0)(x)
    with pytest.raises(gk.DTypeError, match="output 0 has dtype"):
        gk.jacobian(lambda a: a > 1)(x)


# ---- reductions, matrix products, softmax-like expressions ----------------------------------


def softmax_dot(m, x):
    e = m.exp(x - 1.0)
    return (e / e.sum() * m.sin(x)).sum()


SCALAR = {"poly_sum": lambda m, x: poly(m, x).sum(), "softmax_dot": softmax_dot,
          "log_sum_exp": lambda m, x: m.log(m.exp(x).sum())}


def mlp_loss(m, x, y, w1, b1, w2):
    return ((m.tanh(x @ w1 + b1) @ w2 - y) ** 2).mean()


@pytest.mark.parametrize("f", SCALAR.values(), ids=SCALAR.keys())
def test_hessian_of_vector_functions_matches_torch(f, torch, tf, rng):
    (gx,), (tx,) = _both(torch, rng.standard_normal(4))
    _close(gk.hessian(lambda a: f(gk, a))(gx), tf.hessian(lambda a: f(torch, a))(tx))
    _close(gk.grad(lambda a: f(gk, a))(gx), tf.grad(lambda a: f(torch, a))(tx))


def test_mlp_loss_hessian_with_multiple_argnums_matches_torch(torch, tf, rng):
    arrays = (rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal((3, 2)),
              rng.standard_normal(2), rng.standard_normal(2))
    (gx, gy, *ours), (tx, ty, *theirs) = _both(torch, *arrays)
    f_gk = lambda *p: mlp_loss(gk, gx, gy, *p)  # noqa: E731
    f_t = lambda *p: mlp_loss(torch, tx, ty, *p)  # noqa: E731
    _close(gk.hessian(f_gk, argnums=(0, 1, 2))(*ours),
           tf.hessian(f_t, argnums=(0, 1, 2))(*theirs))
    _close(gk.jacobian(gk.grad(f_gk, argnums=2), argnums=0)(*ours),  # a mixed block
           tf.jacrev(tf.grad(f_t, argnums=2), argnums=0)(*theirs))


def test_cross_entropy_hessian_matches_torch(torch, tf, rng):
    labels = rng.integers(0, 4, 6)
    (gx, gw), (tx, tw) = _both(torch, rng.standard_normal((6, 3)), rng.standard_normal((3, 4)))
    ours = gk.hessian(lambda w: gk.nn.functional.cross_entropy(gx @ w, gk.tensor(labels)))(gw)
    _close(ours, tf.hessian(lambda w: torch.nn.functional.cross_entropy(
        tx @ w, torch.tensor(labels)))(tw))


def test_jacobian_vjp_jvp_of_a_matrix_function_match_torch(torch, tf, rng):
    """Non-symmetric Jacobians: softmaxes of matrix products (vjp and jvp differ here)."""
    w = rng.standard_normal((3, 4))
    x, u, v = rng.standard_normal(3), rng.standard_normal(4), rng.standard_normal(3)
    (gw, gx, gu, gv), (tw, tx, tu, tv) = _both(torch, w, x, u, v)

    def f(m, a, mat):
        e = m.exp(m.tanh(a @ mat))
        return e / e.sum() + m.softmax(a @ mat, -1) * m.log_softmax(m.sin(a) @ mat, -1)

    _close(gk.jacobian(lambda a, b: f(gk, a, b), argnums=(0, 1))(gx, gw),
           tf.jacrev(lambda a, b: f(torch, a, b), argnums=(0, 1))(tx, tw))
    _, vjp_fn = gk.vjp(lambda a: f(gk, a, gw), gx)
    _close(vjp_fn(gu), tf.vjp(lambda a: f(torch, a, tw), tx)[1](tu))
    _close(gk.jvp(lambda a: f(gk, a, gw), (gx,), (gv,)),
           tf.jvp(lambda a: f(torch, a, tw), (tx,), (tv,)))
    # jacobian of a jacobian of a vector function: the inner one records stacked rows
    _close(gk.jacobian(gk.jacobian(lambda a: f(gk, a, gw)))(gx),
           tf.jacrev(tf.jacrev(lambda a: f(torch, a, tw)))(tx))
    _close(gk.hessian(lambda a: f(gk, a, gw))(gx), tf.hessian(lambda a: f(torch, a, tw))(tx))


def test_hessian_vector_products_match_torch(torch, tf, rng):
    (gx, gv), (tx, tv) = _both(torch, rng.standard_normal(4), rng.standard_normal(4))
    f_gk, f_t = (lambda a: softmax_dot(gk, a)), (lambda a: softmax_dot(torch, a))
    expected = tf.hessian(f_t)(tx) @ tv
    _close(gk.jvp(gk.grad(f_gk), (gx,), (gv,))[1], expected)  # forward-over-reverse
    _close(gk.grad(lambda a: (gk.grad(f_gk)(a) * gv).sum())(gx), expected)  # reverse-over-reverse
    _, vjp_fn = gk.vjp(gk.grad(f_gk), gx)
    _close(vjp_fn(gv)[0], expected)  # the Hessian is symmetric


def test_wgan_gradient_penalty_of_a_critic_matches_torch(torch, rng):
    """loss = mean((||dD(x)/dx||_2 - 1)^2) for an nn critic; its gradient w.r.t. the weights."""
    critic = gk.nn.Sequential(gk.nn.Linear(3, 8), gk.nn.Tanh(), gk.nn.Linear(8, 1))
    ref = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    with torch.no_grad():
        for (_, p), q in zip(critic.named_parameters(), ref.parameters()):
            q.copy_(torch.tensor(p.numpy()))
    x = rng.standard_normal((6, 3)).astype(np.float32)

    gx = gk.tensor(x, requires_grad=True)
    (g,) = gk.autograd.grad(critic(gx).sum(), gx, create_graph=True)
    penalty = ((gk.sqrt((g * g).sum(axis=1)) - 1) ** 2).mean()
    penalty.backward()
    tx = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad(ref(tx).sum(), tx, create_graph=True)
    t_penalty = ((tg.norm(dim=1) - 1) ** 2).mean()
    t_penalty.backward()
    assert penalty.item() == pytest.approx(t_penalty.item(), rel=1e-5)
    for (name, p), q in zip(critic.named_parameters(), ref.parameters()):
        if q.grad is None:  # the last bias does not change dD/dx
            assert name == "2.bias" and (p.grad is None or not p.grad.numpy().any())
            continue
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_newton_converges_quadratically_on_a_vector_problem(rng):
    """min sum(exp(x)) - b.x + 0.5 x.Ax: Newton steps with gk.hessian, errors squaring."""
    n = 4
    q = rng.standard_normal((n, n))
    a, b = _gk(q @ q.T / n + np.eye(n)), _gk(rng.standard_normal(n))

    def f(x):
        return gk.exp(x).sum() - (b * x).sum() + 0.5 * (x @ (a @ x))

    x = _gk(np.zeros(n))
    norms = []
    for _ in range(8):
        g, h = gk.grad(f)(x), gk.hessian(f)(x)
        norms.append(np.abs(g.numpy()).max())
        x = x - _gk(np.linalg.solve(h.numpy(), g.numpy()))
    assert norms[-1] < 1e-12
    k = next(i for i, v in enumerate(norms) if v < 1e-2)  # then quadratic convergence
    assert norms[k + 1] < 10 * norms[k] ** 2 + 1e-13
