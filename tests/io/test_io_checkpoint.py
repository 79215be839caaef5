"""gk.save_checkpoint / gk.load_checkpoint: every part of the state, exact in-process resume,
and errors that leave the objects as they were."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.data import DataLoader, TensorDataset
from gradkit.io import FormatError, read_metadata, write_safetensors
from gradkit.optim.lr_scheduler import CosineAnnealingLR, ReduceLROnPlateau, StepLR

from .helpers import assert_same_state, randomize, small_model

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 40)


def setup(opt_name="Adam", **opt_kw):
    """A fresh model, optimizer, scheduler and loader built the same way every time."""
    gk.manual_seed(0)
    model = small_model()
    opt = getattr(optim, opt_name)(model.parameters(), lr=0.05, **opt_kw)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    loader = DataLoader(TensorDataset(X, Y), batch_size=8, shuffle=True)
    return model, opt, sched, loader


def train(model, opt, sched, loader, epochs, stop_at=None, start=0, path=None):
    """Train; with `stop_at`, checkpoint to `path` after that many steps of the run and stop."""
    loss_fn = nn.CrossEntropyLoss()
    step = 0
    model.train()
    for epoch in range(start, epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
            step += 1
            if step == stop_at:
                return gk.save_checkpoint(path, model, opt, epoch=epoch, scheduler=sched,
                                          loader=loader)
        sched.step()
    return None


@pytest.mark.parametrize("opt_name, kw", [
    ("SGD", {"momentum": 0.9, "nesterov": True}), ("Adam", {"amsgrad": True}),
    ("AdamW", {}), ("RMSprop", {"centered": True, "momentum": 0.5}), ("Adagrad", {}),
])
def test_resume_in_process_is_bit_identical(tmp_path, opt_name, kw):
    straight = setup(opt_name, **kw)
    train(*straight, epochs=3)

    first = setup(opt_name, **kw)
    path = train(*first, epochs=3, stop_at=7, path=tmp_path / "ck.safetensors")
    gk.randn(100)  # disturb the global generator: the checkpoint must restore it
    resumed = setup(opt_name, **kw)
    info = gk.load_checkpoint(path, *resumed[:2], scheduler=resumed[2], loader=resumed[3])
    train(*resumed, epochs=3, start=info["epoch"])

    assert_same_state(resumed[0], straight[0])
    sa, sb = resumed[1].state_dict(), straight[1].state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    for k, st in sb["state"].items():
        for name, v in st.items():
            np.testing.assert_array_equal(sa["state"][k][name], v)
    assert resumed[2].state_dict() == straight[2].state_dict()


def test_without_the_random_state_the_run_differs(tmp_path):
    straight = setup()
    train(*straight, epochs=2)
    first = setup()
    path = train(*first, epochs=2, stop_at=3, path=tmp_path / "ck.safetensors")
    gk.randn(100)
    resumed = setup()
    info = gk.load_checkpoint(path, *resumed[:2], scheduler=resumed[2], loader=resumed[3],
                              restore_rng=False)
    train(*resumed, epochs=2, start=info["epoch"])
    assert not np.array_equal(resumed[0][0].weight.numpy(), straight[0][0].weight.numpy())


def test_every_part_round_trips(tmp_path):
    model, opt, _, loader = setup()
    sched = ReduceLROnPlateau(opt, patience=0)
    train(model, opt, StepLR(opt, 1), loader, epochs=1)
    sched.step(1.0)
    it = iter(loader)
    next(it), next(it)
    extra = dict(best=0.25, history=[1.0, math.inf, float("nan")], name="run-1",
                 counts={1: 2, "x": (3, 4)}, weights=np.arange(3.0),
                 scalar=np.float32(0.1), flags=(True, None),
                 tricky={"__tensor__": "not a tensor"})
    path = gk.save_checkpoint(tmp_path / "ck.safetensors", model, opt, epoch=5,
                              scheduler=sched, loader=loader, **extra)
    meta = read_metadata(path)
    assert meta["format"] == "gradkit.checkpoint"
    rng_before = gk.random.get_rng_state()
    gk.randn(10)

    model2, opt2, _, loader2 = setup()
    sched2 = ReduceLROnPlateau(opt2, patience=3)
    info = gk.load_checkpoint(path, model2, opt2, scheduler=sched2, loader=loader2)
    assert gk.random.get_rng_state() == rng_before
    assert info["epoch"] == 5 and set(info["extra"]) == set(extra)
    assert info["best"] == 0.25 and info["name"] == "run-1"
    assert info["history"][:2] == [1.0, math.inf] and math.isnan(info["history"][2])
    assert info["counts"] == {1: 2, "x": (3, 4)} and info["flags"] == (True, None)
    assert info["tricky"] == {"__tensor__": "not a tensor"}
    np.testing.assert_array_equal(info["weights"], np.arange(3.0))
    assert type(info["scalar"]) is np.float32 and info["scalar"] == np.float32(0.1)
    assert_same_state(model2, model)
    assert sched2.state_dict() == sched.state_dict() and sched2.best == 1.0
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999)
    assert [b[1].tolist() for b in loader2] == [b[1].tolist() for b in it]


def test_checkpoint_without_optimizer_and_scheduler(tmp_path):
    model = randomize(small_model())
    path = gk.save_checkpoint(tmp_path / "ck.safetensors", model, epoch=0)
    fresh = small_model()
    assert gk.load_checkpoint(path, fresh)["epoch"] == 0
    assert_same_state(fresh, model)
    with pytest.raises(ValueError, match="holds no optimizer state, but a SGD was given"):
        gk.load_checkpoint(path, fresh, optim.SGD(fresh.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="holds no DataLoader state"):
        gk.load_checkpoint(path, fresh, loader=DataLoader(TensorDataset(X), batch_size=4))


def test_wrong_optimizer_class_changes_nothing(tmp_path):
    model, opt, sched, loader = setup()
    train(model, opt, sched, loader, epochs=1)
    path = gk.save_checkpoint(tmp_path / "ck.safetensors", model, opt, epoch=1)
    other = randomize(small_model(), 3)
    before = other.state_dict()
    with pytest.raises(ValueError, match="the state of a Adam optimizer, not of a SGD"):
        gk.load_checkpoint(path, other, optim.SGD(other.parameters(), lr=0.1))
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_failure_after_the_model_loaded_rolls_everything_back(tmp_path):
    model, opt, sched, loader = setup()
    train(model, opt, sched, loader, epochs=1)
    path = gk.save_checkpoint(tmp_path / "ck.safetensors", model, opt, epoch=1,
                              scheduler=sched, loader=loader)
    target, topt, tsched, tloader = setup()
    tloader_with_plain_sampler = DataLoader(TensorDataset(X, Y), batch_size=8,
                                            sampler=list(range(40)))
    before = target.state_dict()
    opt_before = topt.state_dict()
    with pytest.raises(TypeError, match="has no load_state_dict"):
        gk.load_checkpoint(path, target, topt, scheduler=tsched,
                           loader=tloader_with_plain_sampler)
    for k, v in target.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    assert topt.state_dict()["param_groups"] == opt_before["param_groups"]
    assert topt.state == {}


def test_model_shape_mismatch(tmp_path):
    path = gk.save_checkpoint(tmp_path / "ck.safetensors", nn.Linear(3, 2), epoch=0)
    with pytest.raises(nn.StateDictError, match="shape mismatch for 'weight'"):
        gk.load_checkpoint(path, nn.Linear(4, 2))


def test_not_a_checkpoint(tmp_path):
    model = small_model()
    with pytest.raises(FormatError, match="is a gradkit model file .use gk.load."):
        gk.load_checkpoint(gk.save(model, tmp_path / "m.safetensors"), model)
    with pytest.raises(FormatError, match="a gradkit weights file .use model.load_weights."):
        gk.load_checkpoint(model.save_weights(tmp_path / "w.safetensors"), model)
    ck = gk.save_checkpoint(tmp_path / "ck.safetensors", model, epoch=0)
    with pytest.raises(FormatError, match="is a gradkit checkpoint; read it with "
                                          "gk.load_checkpoint"):
        gk.load(ck)


@pytest.mark.parametrize("state, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"epoch": 1}), "lacks epoch, rng or extra"),
    (json.dumps({"epoch": 1, "rng": {"cpu": {"bit_generator": "PCG64"}}, "extra": {}}),
     "invalid random state"),
    (json.dumps({"epoch": 1, "rng": None, "extra": {"w": {"__tensor__": "missing"}}}),
     "refers to a tensor 'missing' the file lacks"),
    (json.dumps({"epoch": 1, "rng": None, "extra": {"s": {"__scalar__": "O", "value": 1}}}),
     "invalid scalar"),
])
def test_hand_crafted_checkpoint_state(tmp_path, state, message):
    path = tmp_path / "ck.safetensors"
    write_safetensors(path, {}, {"format": "gradkit.checkpoint", "format_version": "1",
                                 "state": state})
    with pytest.raises(FormatError, match=message):
        gk.load_checkpoint(path, nn.Identity())


def test_extra_values_that_cannot_be_stored(tmp_path):
    with pytest.raises(TypeError, match="extra/fn: cannot store a function"):
        gk.save_checkpoint(tmp_path / "ck.safetensors", nn.Identity(), epoch=0, fn=lambda: 0)
    with pytest.raises(TypeError, match="extra/obj: cannot store a object"):
        gk.save_checkpoint(tmp_path / "ck.safetensors", nn.Identity(), epoch=0, obj=object())
    with pytest.raises(ValueError, match="'extra' is reserved"):
        gk.save_checkpoint(tmp_path / "ck.safetensors", nn.Identity(), epoch=0, extra=1)
    assert not list(tmp_path.iterdir())


def test_cosine_scheduler_state(tmp_path):
    model, opt, _, loader = setup("SGD")
    sched = CosineAnnealingLR(opt, T_max=5)
    for _ in range(3):
        sched.step()
    path = gk.save_checkpoint(tmp_path / "ck.safetensors", model, opt, epoch=3, scheduler=sched)
    model2, opt2, _, _ = setup("SGD")
    sched2 = CosineAnnealingLR(opt2, T_max=5)
    gk.load_checkpoint(path, model2, opt2, scheduler=sched2)
    assert opt2.lr == opt.lr and sched2.state_dict() == sched.state_dict()
    sched.step(), sched2.step()
    assert opt2.lr == opt.lr
