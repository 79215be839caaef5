"""Learning-rate schedulers: the same lr sequences as PyTorch, state_dict, validation."""

from __future__ import annotations

import json
import math

import pytest

import gradkit as gk
from gradkit import optim
from gradkit.optim import lr_scheduler

EPOCHS = 30
SCHEDULERS = [
    ("StepLR", {"step_size": 3}),
    ("StepLR", {"step_size": 4, "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
]
SCHED_IDS = [f"{n}-{kw}" for n, kw in SCHEDULERS]

# A metric that improves, stalls, wiggles within the threshold, and improves again.
METRICS = [1.0, 0.9, 0.8, 0.8, 0.81, 0.79995, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.69, 0.69,
           0.69, 0.69, 0.69, 0.5, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
PLATEAUS = [
    {"patience": 2},
    {"patience": 0, "factor": 0.5},
    {"patience": 1, "cooldown": 2, "min_lr": 0.004},
    {"patience": 2, "threshold": 0.05, "threshold_mode": "abs"},
    {"patience": 1, "mode": "max", "factor": 0.5},
    {"patience": 1, "mode": "max", "threshold_mode": "abs", "min_lr": [0.01, 0.2]},
]


def _gk_opt(lrs=(0.1, 0.5)):
    groups = [{"params": [gk.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0], momentum=0.9)


def _torch_opt(torch, lrs=(0.1, 0.5)):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def _gk_lrs(name, kw, epochs=EPOCHS):
    opt = _gk_opt()
    sched = getattr(lr_scheduler, name)(opt, **kw)
    out = [sched.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
        assert out[-1] == [g["lr"] for g in opt.param_groups]
    return out


@pytest.mark.parametrize(("name", "kw"), SCHEDULERS, ids=SCHED_IDS)
def test_lr_sequence_matches_torch(torch, name, kw):
    opt = _torch_opt(torch)
    sched = getattr(torch.optim.lr_scheduler, name)(opt, **kw)
    want = [sched.get_last_lr()]
    for _ in range(EPOCHS):
        opt.step()
        sched.step()
        want.append(sched.get_last_lr())
    got = _gk_lrs(name, kw)
    for g, w in zip(got, want):
        assert g == pytest.approx(w, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("kw", PLATEAUS, ids=[str(kw) for kw in PLATEAUS])
def test_reduce_on_plateau_matches_torch(torch, kw):
    topt, opt = _torch_opt(torch), _gk_opt()
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kw)
    sign = -1 if kw.get("mode") == "max" else 1
    for m in METRICS:
        topt.step()
        tsched.step(sign * m)
        opt.step()
        sched.step(gk.tensor(sign * m))  # a one-element tensor is accepted
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
        assert sched.num_bad_epochs == tsched.num_bad_epochs
    assert opt.lr < 0.1


def test_step_lr_and_exponential_values():
    lrs = [lr[0] for lr in _gk_lrs("StepLR", {"step_size": 2, "gamma": 0.5}, epochs=6)]
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125])
    lrs = [lr[1] for lr in _gk_lrs("ExponentialLR", {"gamma": 0.5}, epochs=3)]
    assert lrs == pytest.approx([0.5, 0.25, 0.125, 0.0625])


def test_cosine_follows_the_closed_form():
    t_max, eta_min = 10, 0.001
    got = _gk_lrs("CosineAnnealingLR", {"T_max": t_max, "eta_min": eta_min}, epochs=25)
    for epoch, lrs in enumerate(got):
        for base, lr in zip((0.1, 0.5), lrs):
            want = eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2
            assert lr == pytest.approx(want, rel=1e-7, abs=1e-12)


def test_scheduler_records_initial_lr_and_moves_the_lr_property():
    opt = _gk_opt()
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert sched.base_lrs == [0.1, 0.5] and sched.last_epoch == 0
    sched.step()
    assert opt.lr == 0.05 and sched.last_epoch == 1
    assert "initial_lr" in opt.state_dict()["param_groups"][0]


@pytest.mark.parametrize(("name", "kw"), SCHEDULERS, ids=SCHED_IDS)
def test_scheduler_state_dict_round_trip(name, kw):
    opt = _gk_opt()
    sched = getattr(lr_scheduler, name)(opt, **kw)
    for _ in range(7):
        sched.step()
    saved_opt = opt.state_dict()
    saved = json.loads(json.dumps(sched.state_dict()))
    opt2 = _gk_opt()
    sched2 = getattr(lr_scheduler, name)(opt2, **kw)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    assert sched2.last_epoch == 7
    for _ in range(15):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()


def test_reduce_on_plateau_state_dict_round_trip():
    opt = _gk_opt()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    for m in METRICS[:9]:
        sched.step(m)
    saved = json.loads(json.dumps(sched.state_dict()))
    opt2 = _gk_opt()
    opt2.load_state_dict(opt.state_dict())
    sched2 = lr_scheduler.ReduceLROnPlateau(opt2)
    sched2.load_state_dict(saved)
    assert sched2.patience == 1 and sched2.best == sched.best
    for m in METRICS[9:]:
        sched.step(m)
        sched2.step(m)
        assert sched2.get_last_lr() == sched.get_last_lr()


def test_resuming_with_last_epoch():
    opt = _gk_opt()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    opt2 = _gk_opt()
    opt2.load_state_dict(opt.state_dict())
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=10, last_epoch=3)
    assert sched2.get_last_lr() == pytest.approx(sched.get_last_lr(), rel=1e-12)
    with pytest.raises(KeyError, match=r"param_groups\[0\] has no 'initial_lr'"):
        lr_scheduler.StepLR(_gk_opt(), step_size=2, last_epoch=3)


def test_scheduler_validation():
    opt = _gk_opt()
    with pytest.raises(TypeError, match="StepLR: expected an Optimizer, got list"):
        lr_scheduler.StepLR([], step_size=2)
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive int, got 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="CosineAnnealingLR: T_max must be a positive int"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="ExponentialLR: invalid gamma=-0.5"):
        lr_scheduler.ExponentialLR(opt, gamma=-0.5)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: factor must be < 1, got 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'maximum'"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="maximum")
    with pytest.raises(ValueError, match="threshold_mode must be 'rel' or 'abs'"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="relative")
    with pytest.raises(ValueError, match="expected 2 min_lr values"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1])
    with pytest.raises(TypeError, match="ReduceLROnPlateau: expected an Optimizer"):
        lr_scheduler.ReduceLROnPlateau(None)


def test_scheduler_load_state_dict_errors():
    sched = lr_scheduler.StepLR(_gk_opt(), step_size=2)
    other = lr_scheduler.ReduceLROnPlateau(_gk_opt()).state_dict()
    with pytest.raises(ValueError, match="unknown entries .*another kind of scheduler"):
        sched.load_state_dict(other)
    saved = sched.state_dict()
    saved["base_lrs"] = [0.1]
    with pytest.raises(ValueError, match="the state has 1 learning rates but the optimizer 2"):
        sched.load_state_dict(saved)
