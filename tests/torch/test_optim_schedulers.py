"""torch.optim.lr_scheduler against real PyTorch 2.13: the learning rates (and, for
OneCycleLR, the momentum / beta1) of every step are PyTorch's; state dicts resume."""

from __future__ import annotations

import warnings

import pytest

import gradkit.torch as gt

SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}, "SGD"),
    ("ExponentialLR", {"gamma": 0.9}, "SGD"),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}, "SGD"),
    ("LambdaLR", {"lr_lambda": lambda e: 1.0 / (e + 1)}, "SGD"),
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.95}, "SGD"),
    ("MultiStepLR", {"milestones": [2, 5, 5], "gamma": 0.3}, "SGD"),
    ("ConstantLR", {"factor": 0.5, "total_iters": 3}, "SGD"),
    ("LinearLR", {"start_factor": 0.25, "total_iters": 4}, "SGD"),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 12}, "SGD"),
    ("OneCycleLR", {"max_lr": 0.5, "epochs": 3, "steps_per_epoch": 4,
                    "anneal_strategy": "linear", "three_phase": True}, "Adam"),
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 12, "cycle_momentum": False}, "Adam"),
]


def _trace(mod, name, kwargs, opt_name, steps=11):
    params = [mod.nn.Parameter(mod.zeros(2))]
    opt = getattr(mod.optim, opt_name)(params, lr=0.1, **(
        {"momentum": 0.9} if opt_name == "SGD" else {}))
    sched = getattr(mod.optim.lr_scheduler, name)(opt, **kwargs)
    out = []
    for _ in range(steps):
        group = opt.param_groups[0]
        out.append((group["lr"], group.get("momentum"), group.get("betas", (None,))[0],
                    sched.get_last_lr()[0]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt.step()
            sched.step()
    return out


@pytest.mark.parametrize("name, kwargs, opt", SCHEDULES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(SCHEDULES)])
def test_learning_rates_are_pytorchs(torch, name, kwargs, opt):
    mine, ref = _trace(gt, name, kwargs, opt), _trace(torch, name, kwargs, opt)
    for step, (a, b) in enumerate(zip(mine, ref)):
        for x, y in zip(a, b):
            assert (x is None) == (y is None), step
            if x is not None:
                assert float(x) == pytest.approx(float(y), rel=1e-12, abs=1e-15), step


def test_reduce_lr_on_plateau(torch):
    def trace(mod):
        opt = mod.optim.SGD([mod.nn.Parameter(mod.zeros(1))], lr=1.0)
        s = mod.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1,
                                                     cooldown=1, min_lr=0.1)
        lrs = []
        for loss in [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.9, 0.91, 0.92, 0.93, 0.94]:
            s.step(mod.tensor(loss))
            lrs.append(opt.param_groups[0]["lr"])
        return lrs, s.get_last_lr()

    assert trace(gt) == trace(torch)


def test_scheduler_state_dict_resumes(torch):
    def run(mod, split):
        opt = mod.optim.SGD([mod.nn.Parameter(mod.zeros(1))], lr=1.0)
        s = mod.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
        for _ in range(split):
            opt.step()
            s.step()
        state = s.state_dict()
        opt2 = mod.optim.SGD([mod.nn.Parameter(mod.zeros(1))], lr=1.0)
        opt2.load_state_dict(opt.state_dict())
        s2 = mod.optim.lr_scheduler.MultiStepLR(opt2, milestones=[9], gamma=0.1)
        s2.load_state_dict(state)
        lrs = []
        for _ in range(4):
            opt2.step()
            s2.step()
            lrs.append(opt2.param_groups[0]["lr"])
        return lrs

    assert run(gt, 1) == run(torch, 1)
    opt = gt.optim.SGD([gt.nn.Parameter(gt.zeros(1))], lr=1.0)
    lam = gt.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5 ** e)
    assert lam.state_dict()["lr_lambdas"] == [None]


def test_bad_arguments_are_named():
    opt = gt.optim.SGD([gt.nn.Parameter(gt.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="total_steps"):
        gt.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="expected 1 lr_lambdas, but got 2"):
        gt.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1, lambda e: 1])
    s = gt.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    s.step()
    s.step()
    with pytest.raises(ValueError, match="tried to step 3 times"):
        s.step()
