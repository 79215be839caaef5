"""Update rules vs PyTorch, in-place behaviour, param groups, lr, zero_grad, validation."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import optim
from gradkit.errors import ShapeError

from .helpers import CASES, IDS, grad_sequence, initial_arrays, make_gk, run_gk, run_torch


# ---- same numbers as PyTorch -------------------------------------------------------------
@pytest.mark.parametrize(("name", "kw"), CASES, ids=IDS)
def test_matches_torch(torch, name, kw):
    arrays, seq = initial_arrays(), grad_sequence(10)
    params, opt = make_gk(name, arrays, **kw)
    run_gk(params, opt, seq)
    want = run_torch(torch, name, arrays, seq, **kw)
    for p, w in zip(params, want):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.data, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("name", "kw"), CASES[::3], ids=IDS[::3])
def test_matches_torch_when_lr_changes(torch, name, kw):
    arrays, seq = initial_arrays(), grad_sequence(8)
    params, opt = make_gk(name, arrays, **kw)
    run_gk(params, opt, seq[:4])
    new_lr = 0.5 * opt.lr
    opt.lr = new_lr
    run_gk(params, opt, seq[4:])
    want = run_torch(torch, name, arrays, seq, lr_changes={4: new_lr}, **kw)
    for p, w in zip(params, want):
        np.testing.assert_allclose(p.data, w, rtol=1e-5, atol=1e-6)


def test_param_groups_match_torch(torch):
    arrays, seq = initial_arrays(), grad_sequence(6)
    params = [gk.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = optim.Adam([{"params": params[:2], "lr": 0.1},
                      {"params": params[2:], "weight_decay": 0.1, "amsgrad": True}], lr=0.01)
    run_gk(params, opt, seq)
    tparams = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    topt = torch.optim.Adam([{"params": tparams[:2], "lr": 0.1},
                             {"params": tparams[2:], "weight_decay": 0.1, "amsgrad": True}],
                            lr=0.01, foreach=False)
    for grads in seq:
        for p, g in zip(tparams, grads):
            p.grad = None if g is None else torch.tensor(g)
        topt.step()
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-5, atol=1e-6)


# ---- in-place updates, gradients never written -------------------------------------------
@pytest.mark.parametrize(("name", "kw"), CASES, ids=IDS)
def test_updates_in_place_and_never_writes_grads(name, kw):
    arrays, seq = initial_arrays(), grad_sequence(4)  # the last step has every gradient
    params, opt = make_gk(name, arrays, **kw)
    datas = [p.data for p in params]
    run_gk(params, opt, seq)  # the gradients are read-only arrays: a write would raise
    grads = [p.grad.data for p in params]
    saved = [g.copy() for g in grads]
    opt.step()
    for p, d, g, s in zip(params, datas, grads, saved):
        assert p.data is d and p.grad.data is g
        np.testing.assert_array_equal(g, s)
    assert not np.array_equal(params[0].data, arrays[0])
    for st in opt.state.values():
        for v in st.values():
            assert isinstance(v, int) or v.dtype == np.float32


def test_grads_shared_between_params_are_untouched():
    base = np.arange(6, dtype=np.float32)
    a, b = gk.zeros(3, requires_grad=True), gk.zeros(3, requires_grad=True)
    a.grad, b.grad = gk.Tensor(base[:3]), gk.Tensor(base[3:])  # views of one array
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9, weight_decay=0.1)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(base, np.arange(6, dtype=np.float32))


def test_params_without_grad_are_skipped():
    arrays = initial_arrays()
    params, opt = make_gk("Adam", arrays)
    params[0].grad = gk.ones(*arrays[0].shape)
    opt.step()
    assert list(opt.state) == [params[0]]
    for p, a in zip(params[1:], arrays[1:]):
        np.testing.assert_array_equal(p.data, a)
    assert opt.state[params[0]]["step"] == 1


def test_float64_parameters_keep_their_dtype():
    arrays = initial_arrays(dtype=np.float64)
    params, opt = make_gk("RMSprop", arrays, momentum=0.9, centered=True)
    run_gk(params, opt, grad_sequence(3, dtype=np.float64))
    assert all(p.dtype == np.float64 for p in params)
    assert all(v.dtype == np.float64 for st in opt.state.values()
               for v in st.values() if not isinstance(v, int))


def test_numpy_float64_hyper_parameters_do_not_upcast():
    arrays, seq = initial_arrays(), grad_sequence(4)
    p1, o1 = make_gk("Adam", arrays, lr=0.01)
    p2, o2 = make_gk("Adam", arrays, lr=np.float64(0.01), eps=np.float64(1e-8))
    o2.param_groups[0]["betas"] = (np.float64(0.9), np.float64(0.999))
    run_gk(p1, o1, seq)
    run_gk(p2, o2, seq)
    for a, b in zip(p1, p2):
        assert b.dtype == np.float32
        np.testing.assert_array_equal(a.data, b.data)


def test_grad_of_the_wrong_shape_is_refused():
    p = gk.zeros(3, requires_grad=True)
    p.grad = gk.ones(1)
    with pytest.raises(ShapeError, match=r"gradient of shape \(1,\) for a parameter of shape"):
        optim.SGD([p], lr=0.1).step()


def test_step_returns_the_closure_loss():
    w = gk.tensor([2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with gk.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_allclose(w.data, [1.0])


# ---- training a tiny model with gradkit's autograd ---------------------------------------
@pytest.mark.parametrize(("name", "kw"), [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.1}),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.01}),
    ("RMSprop", {"lr": 0.02}),
    ("Adagrad", {"lr": 0.5}),
])
def test_linear_regression_loss_decreases(name, kw):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.7
    xt, yt = gk.tensor(x), gk.tensor(y)
    w, b = gk.zeros((3, 1), requires_grad=True), gk.zeros(1, requires_grad=True)
    opt = getattr(optim, name)([w, b], **kw)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = ((xt @ w + b - yt) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.02 * losses[0]
    assert np.mean(losses[-10:]) < np.mean(losses[:10])


# ---- param groups, lr, zero_grad ---------------------------------------------------------
def test_param_groups_have_their_own_lr():
    a, b = gk.zeros(2, requires_grad=True), gk.zeros(2, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1.0, "momentum": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 1.0]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.5
    a.grad, b.grad = gk.ones(2), gk.ones(2)
    opt.step()
    np.testing.assert_allclose(a.data, [-0.1, -0.1])
    np.testing.assert_allclose(b.data, [-1.0, -1.0])


def test_add_param_group():
    a, b = gk.zeros(2, requires_grad=True), gk.zeros(2, requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="appears more than once"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="'params' entry"):
        opt.add_param_group([b])


def test_lr_property():
    a, b = gk.zeros(2, requires_grad=True), gk.zeros(2, requires_grad=True)
    opt = optim.SGD([{"params": [a], "lr": 0.3}, {"params": [b]}], lr=0.1)
    assert opt.lr == 0.3
    opt.lr = 0.05
    assert opt.lr == 0.05
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.05]
    with pytest.raises(ValueError, match=r"invalid lr=-1"):
        opt.lr = -1
    assert opt.lr == 0.05


def test_zero_grad_sets_none_by_default():
    a, b = gk.zeros(2, requires_grad=True), gk.zeros(2, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = gk.ones(2)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_to_zeros_makes_fresh_arrays():
    a, b = gk.zeros(2, requires_grad=True), gk.zeros(2, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1)
    old = np.ones(2, np.float32)
    a.grad = gk.Tensor(old)
    opt.zero_grad(set_to_none=False)
    assert a.grad.data is not old
    np.testing.assert_array_equal(old, [1, 1])
    np.testing.assert_array_equal(a.grad.data, [0, 0])
    assert a.grad.dtype == np.float32
    assert b.grad is None
    (a * 3.0).sum().backward()  # accumulates onto the zeros
    np.testing.assert_array_equal(a.grad.data, [3, 3])


def test_reachable_from_gradkit():
    assert gk.optim.SGD is optim.SGD
    assert gk.optim.lr_scheduler.StepLR is optim.lr_scheduler.StepLR
    assert issubclass(optim.AdamW, optim.Adam) and issubclass(optim.Adam, optim.Optimizer)


# ---- validation --------------------------------------------------------------------------
def _p():
    return gk.zeros(2, requires_grad=True)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_negative_lr_is_refused(name):
    with pytest.raises(ValueError, match=rf"{name}: invalid lr=-0.1; it must be >= 0"):
        getattr(optim, name)([_p()], lr=-0.1)


@pytest.mark.parametrize(("name", "kw", "message"), [
    ("SGD", {"lr": 0.1, "nesterov": True},
     r"nesterov=True requires momentum > 0 and dampening = 0, got momentum=0"),
    ("SGD", {"lr": 0.1, "nesterov": True, "momentum": 0.9, "dampening": 0.1},
     r"nesterov=True requires .* dampening=0.1"),
    ("SGD", {"lr": 0.1, "momentum": -0.5}, r"SGD: invalid momentum=-0.5"),
    ("SGD", {"lr": 0.1, "weight_decay": -1e-4}, r"SGD: invalid weight_decay=-0.0001"),
    ("SGD", {"lr": float("nan")}, r"SGD: invalid lr=nan"),
    ("Adam", {"betas": (1.0, 0.999)}, r"Adam: invalid betas\[0\]=1.0; it must be in \[0, 1\)"),
    ("Adam", {"betas": (0.9, -0.1)}, r"Adam: invalid betas\[1\]=-0.1"),
    ("AdamW", {"betas": (0.9,)}, r"AdamW: betas must be a pair"),
    ("Adam", {"eps": -1e-8}, r"Adam: invalid eps"),
    ("AdamW", {"weight_decay": -0.01}, r"AdamW: invalid weight_decay"),
    ("RMSprop", {"alpha": -0.9}, r"RMSprop: invalid alpha"),
    ("RMSprop", {"momentum": -0.9}, r"RMSprop: invalid momentum"),
    ("Adagrad", {"lr_decay": -1}, r"Adagrad: invalid lr_decay"),
    ("Adagrad", {"initial_accumulator_value": -1}, r"Adagrad: invalid initial_accumulator"),
])
def test_bad_options_are_refused(name, kw, message):
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([_p()], **kw)


def test_bad_option_in_a_group_is_refused():
    with pytest.raises(ValueError, match=r"SGD: invalid momentum=-1"):
        optim.SGD([{"params": [_p()]}, {"params": [_p()], "momentum": -1}], lr=0.1)
    with pytest.raises(ValueError, match=r"option\(s\) \['momentun'\] in parameter group 0"):
        optim.SGD([{"params": [_p()], "momentun": 0.9}], lr=0.1)


def test_lr_must_be_a_number():
    with pytest.raises(TypeError, match="SGD: lr must be a number, got '0.1'"):
        optim.SGD([_p()], lr="0.1")


def test_bad_parameter_lists_are_refused():
    with pytest.raises(ValueError, match="SGD got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Adam got an empty parameter list"):
        optim.Adam(iter([]))
    with pytest.raises(ValueError, match=r"parameter 1 of group 0 \(shape \(3,\)\) does not "
                                         "require grad"):
        optim.SGD([_p(), gk.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 of group 0 is a ndarray, not a Tensor"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="got a single Tensor; wrap it in a list"):
        optim.SGD(_p(), lr=0.1)
    p = _p()
    with pytest.raises(ValueError, match="appears more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf tensor"):
        optim.SGD([p * 2.0], lr=0.1)


# ---- the base class loops; a subclass writes only its update rule ------------------------
def test_a_subclass_writes_only_its_update_rule():
    seen = []

    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.1, weight_decay=0.0, maximize=False):
            super().__init__(params, dict(lr=lr, weight_decay=weight_decay, maximize=maximize))

        def _init_state(self, p, group):
            return {"step": 0}

        def _update(self, p, g, state, opts, fresh):
            seen.append((state["step"], type(opts["lr"]), fresh))
            w = p.data
            w -= opts["lr"] * np.sign(g)

    a, b = gk.tensor([1.0, -2.0], requires_grad=True), gk.zeros(2, requires_grad=True)
    opt = SignSGD([a, b], lr=np.float64(0.5), weight_decay=1.0)
    a.grad = gk.tensor([-0.25, 0.5])  # + weight_decay * a: [0.75, -1.5]
    opt.step()
    opt.step()
    np.testing.assert_allclose(a.data, [0.0, -1.0])
    assert a.dtype == np.float32 and b.grad is None and b not in opt.state
    assert seen == [(1, float, True), (2, float, True)] and opt.state[a]["step"] == 2
    with pytest.raises(NotImplementedError, match="Optimizer has no update rule"):
        b.grad = gk.ones(2)
        optim.Optimizer([b], {"lr": 0.1}).step()
