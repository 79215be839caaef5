"""Optimizer state: lazy buffers, state_dict format, exact resumption, load errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradkit as gk
from gradkit import optim

from .helpers import CASES, IDS, grad_sequence, initial_arrays, make_gk, run_gk


def _resume_pair(name, kw):
    """An optimizer after 5 steps, and a fresh one on copies of its parameters."""
    arrays, seq = initial_arrays(), grad_sequence(10)
    params, opt = make_gk(name, arrays, **kw)
    run_gk(params, opt, seq[:5])
    params2, opt2 = make_gk(name, [p.numpy() for p in params], **kw)
    return (params, opt), (params2, opt2), seq[5:]


@pytest.mark.parametrize(("name", "kw"), CASES, ids=IDS)
def test_state_dict_round_trip_is_exact(name, kw):
    (p1, o1), (p2, o2), rest = _resume_pair(name, kw)
    o2.load_state_dict(o1.state_dict())
    run_gk(p1, o1, rest)
    run_gk(p2, o2, rest)
    for a, b in zip(p1, p2):
        np.testing.assert_array_equal(a.data, b.data)


def _to_files(sd):
    """What a checkpoint writer would do: arrays to a flat dict (safetensors), the rest JSON."""
    tensors = {f"{i}.{k}": v for i, st in sd["state"].items() for k, v in st.items()
               if isinstance(v, np.ndarray)}
    meta = {"steps": {i: st.get("step") for i, st in sd["state"].items()},
            "param_groups": sd["param_groups"]}
    return tensors, json.dumps(meta)


def _from_files(tensors, text):
    meta = json.loads(text)
    state = {i: ({"step": s} if s is not None else {}) for i, s in meta["steps"].items()}
    for key, v in tensors.items():
        i, name = key.split(".", 1)
        state[i][name] = v
    return {"state": state, "param_groups": meta["param_groups"]}


@pytest.mark.parametrize(("name", "kw"), [CASES[2], CASES[12], CASES[19], CASES[22]],
                         ids=[IDS[2], IDS[12], IDS[19], IDS[22]])
def test_state_dict_survives_json_and_flat_arrays(name, kw):
    (p1, o1), (p2, o2), rest = _resume_pair(name, kw)
    o2.load_state_dict(_from_files(*_to_files(o1.state_dict())))  # str keys, lists for tuples
    assert o2.param_groups[0] == o1.param_groups[0] | {"params": o2.param_groups[0]["params"]}
    run_gk(p1, o1, rest)
    run_gk(p2, o2, rest)
    for a, b in zip(p1, p2):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_format():
    a, b, c = (gk.zeros(2, requires_grad=True) for _ in range(3))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.1}], amsgrad=True)
    for p in (a, c):
        p.grad = gk.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sd["param_groups"] == [
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
         "amsgrad": True, "maximize": False, "params": [0, 1]},
        {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
         "amsgrad": True, "maximize": False, "params": [2]},
    ]
    assert sorted(sd["state"]) == [0, 2]  # b had no gradient: no state
    st = sd["state"][0]
    assert set(st) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert type(st["step"]) is int and st["step"] == 1
    assert isinstance(st["exp_avg"], np.ndarray) and st["exp_avg"].dtype == np.float32
    json.dumps(sd["param_groups"])
    st["exp_avg"][:] = 123.0  # a copy: the optimizer's buffer is untouched
    assert not np.any(opt.state[a]["exp_avg"] == 123.0)


def test_state_is_created_lazily_with_the_parameter_dtype():
    p = gk.zeros(3, dtype="float64", requires_grad=True)
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    assert opt.state == {}
    p.grad = gk.ones(3, dtype="float64")
    opt.step()
    st = opt.state[p]
    assert st["step"] == 1 and st["sum"].dtype == np.float64
    np.testing.assert_allclose(st["sum"], 1.25)


def test_loaded_buffers_are_copies_and_take_the_parameter_dtype():
    (p1, o1), (p2, o2), rest = _resume_pair("RMSprop", {"momentum": 0.9})
    sd = o1.state_dict()
    sd["state"][0]["square_avg"] = sd["state"][0]["square_avg"].astype(np.float64)
    o2.load_state_dict(sd)
    sd["state"][0]["momentum_buffer"][:] = 0.0
    assert o2.state[p2[0]]["square_avg"].dtype == np.float32
    assert np.all(o2.state[p2[0]]["momentum_buffer"] == o1.state[p1[0]]["momentum_buffer"])


def test_load_state_dict_restores_hyper_parameters():
    a = gk.zeros(2, requires_grad=True)
    o1 = optim.SGD([a], lr=0.5, momentum=0.9)
    b = gk.zeros(2, requires_grad=True)
    o2 = optim.SGD([b], lr=0.1, momentum=0.9)
    o2.load_state_dict(o1.state_dict())
    assert o2.lr == 0.5 and o2.param_groups[0]["params"][0] is b


def _sgd(n=2, **kw):
    params = [gk.zeros(3, requires_grad=True) for _ in range(n)]
    opt = optim.SGD(params, lr=0.1, momentum=0.9, **kw)
    for p in params:
        p.grad = gk.ones(3)
    opt.step()
    return params, opt


def test_load_state_dict_errors():
    _, opt = _sgd()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    with pytest.raises(ValueError, match="has 2 parameter groups but this optimizer has 1"):
        opt.load_state_dict({"state": {}, "param_groups": sd["param_groups"] * 2})
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters in the state dict "
                                         "but 3 here"):
        _sgd(3)[1].load_state_dict(sd)
    bad = opt.state_dict()
    bad["state"][1]["momentum_buffer"] = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"momentum_buffer of parameter 1 has shape \(4,\) but "
                                         r"the parameter has shape \(3,\)"):
        opt.load_state_dict(bad)
    bad = opt.state_dict()
    bad["state"][7] = {}
    with pytest.raises(ValueError, match="state for parameter 7, which no parameter group"):
        opt.load_state_dict(bad)
    bad = opt.state_dict()
    del bad["param_groups"][0]["momentum"]
    with pytest.raises(ValueError, match=r"lacks the option\(s\) \['momentum'\]"):
        opt.load_state_dict(bad)
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="invalid lr=-1.0"):
        opt.load_state_dict(bad)


def test_loading_another_optimizers_state_is_refused():
    params, sgd = _sgd()
    adam = optim.Adam(params)
    with pytest.raises(ValueError, match="lacks the option"):
        adam.load_state_dict(sgd.state_dict())
    (p1, o1), (p2, o2), _ = _resume_pair("Adam", {})
    sd = o1.state_dict()
    sd["param_groups"][0]["amsgrad"] = True  # would need max_exp_avg_sq
    with pytest.raises(ValueError, match=r"missing: \['max_exp_avg_sq'\]"):
        o2.load_state_dict(sd)
    sd = o1.state_dict()
    sd["state"][0]["momentum_buffer"] = sd["state"][0]["exp_avg"]
    with pytest.raises(ValueError, match=r"unknown: \['momentum_buffer'\]"):
        o2.load_state_dict(sd)


def test_failed_load_changes_nothing():
    params, opt = _sgd()
    before = {p: st["momentum_buffer"].copy() for p, st in opt.state.items()}
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = 0.7
    bad["state"][0]["momentum_buffer"] = np.full(3, 5.0, np.float32)
    bad["state"][1]["momentum_buffer"] = np.zeros(2, np.float32)  # wrong shape
    with pytest.raises(ValueError):
        opt.load_state_dict(bad)
    assert opt.lr == 0.1
    for p, buf in before.items():
        np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], buf)
