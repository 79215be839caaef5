"""torch.optim's optimizers against real PyTorch 2.13: the same initial parameters and the
same gradients give the same parameters after several steps; signatures, defaults,
param_groups, zero_grad, state_dict round trips and a hand-written Optimizer subclass."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gradkit.torch as gt

RNG = np.random.default_rng(7)
SHAPES = [(4, 3), (3,), (2, 2, 2)]
INIT = [RNG.standard_normal(s).astype(np.float32) for s in SHAPES]
GRADS = [[RNG.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(6)]

CONFIGS = [
    ("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3, "maximize": True}),
    ("Adam", {}), ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.01}), ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
    ("RMSprop", {}), ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "weight_decay": 0.1}),
    ("Adagrad", {}), ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1,
                                  "initial_accumulator_value": 0.1}),
]


def _steps(mod, name, kwargs, n=len(GRADS)):
    params = [mod.nn.Parameter(mod.tensor(a.copy())) for a in INIT]
    opt = getattr(mod.optim, name)(params, **kwargs)
    for grads in GRADS[:n]:
        opt.zero_grad()
        for p, g in zip(params, grads):
            p.grad = mod.tensor(g.copy())
        opt.step()
    return params, opt


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_same_parameters_as_pytorch_after_steps(torch, name, kwargs):
    mine, _ = _steps(gt, name, kwargs)
    ref, _ = _steps(torch, name, kwargs)
    for a, b in zip(mine, ref):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=2e-6,
                                   atol=2e-7)


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_state_dict_round_trip_resumes_exactly(torch, name, kwargs):
    params, opt = _steps(gt, name, kwargs, n=3)
    sd = opt.state_dict()
    ref_sd = _steps(torch, name, kwargs, n=3)[1].state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sorted(sd["state"]) == sorted(ref_sd["state"])
    for k in ref_sd["state"]:
        assert sorted(sd["state"][k]) == sorted(ref_sd["state"][k])
        for key, v in ref_sd["state"][k].items():
            if v is not None:
                np.testing.assert_allclose(sd["state"][k][key].numpy(), v.numpy(), rtol=2e-5,
                                           atol=2e-6, err_msg=key)
    assert sorted(sd["param_groups"][0]) == sorted(ref_sd["param_groups"][0])
    fresh_params = [gt.nn.Parameter(p.detach().clone()) for p in params]
    fresh = getattr(gt.optim, name)(fresh_params, **kwargs)
    fresh.load_state_dict(sd)
    for o, ps in ((opt, params), (fresh, fresh_params)):
        for grads in GRADS[3:]:
            for p, g in zip(ps, grads):
                p.grad = gt.tensor(g.copy())
            o.step()
    for a, b in zip(params, fresh_params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_signature_and_defaults_are_pytorchs(torch, name):
    def params(cls):
        return [(p.name, p.default, p.kind) for p in
                inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
    assert params(getattr(gt.optim, name)) == params(getattr(torch.optim, name))
    p = [gt.nn.Parameter(gt.zeros(2))]
    q = [torch.nn.Parameter(torch.zeros(2))]
    mine, ref = getattr(gt.optim, name)(p), getattr(torch.optim, name)(q)
    assert mine.param_groups[0].keys() - {"params"} == ref.param_groups[0].keys() - {"params"}
    for k, v in ref.param_groups[0].items():
        if k != "params":
            assert mine.param_groups[0][k] == v, k
    assert repr(mine) == repr(ref)


def test_param_groups_named_parameters_and_lr_changes(torch):
    model = gt.nn.Sequential(gt.nn.Linear(2, 2), gt.nn.Linear(2, 1))
    opt = gt.optim.SGD([{"params": model[0].parameters()},
                        {"params": model[1].parameters(), "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    opt.param_groups[0]["lr"] = 0.01
    w0 = model[0].weight.detach().clone()
    model(gt.ones(1, 2)).sum().backward()
    opt.step()
    np.testing.assert_allclose((w0 - model[0].weight).detach().numpy(),
                               0.01 * model[0].weight.grad.numpy(), rtol=1e-6)
    named = gt.optim.Adam(model.named_parameters(), lr=0.01)
    assert len(named.param_groups[0]["params"]) == 4
    opt.add_param_group({"params": [gt.nn.Parameter(gt.zeros(3))], "lr": 1.0})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["momentum"] == 0.9
    opt.zero_grad()
    assert all(p.grad is None for g in opt.param_groups for p in g["params"])
    with pytest.raises(ValueError, match="does not require grad"):
        gt.optim.SGD([gt.zeros(2)], lr=0.1)
    with pytest.raises(NotImplementedError, match="differentiable"):
        gt.optim.Adam(model.parameters(), differentiable=True)


def test_a_hand_written_optimizer_as_in_pytorch():
    class PlainSGD(gt.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        @gt.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    state["count"] = state.get("count", 0) + 1
                    p.sub_(group["lr"] * p.grad)

    w = gt.nn.Parameter(gt.tensor([1.0, 2.0]))
    opt = PlainSGD([w], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])
    sd = opt.state_dict()
    assert sd["state"] == {0: {"count": 1}} and sd["param_groups"][0]["lr"] == 0.5
    other = PlainSGD([gt.nn.Parameter(gt.zeros(2))])
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.5
    assert list(other.state.values()) == [{"count": 1}]


def test_optimizers_the_lessons_miss_say_what_to_use():
    with pytest.raises(AttributeError, match="LBFGS.*Adam"):
        gt.optim.LBFGS  # noqa: B018
