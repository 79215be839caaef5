"""gk.GradScaler: PyTorch's dynamic loss scaling, step for step (torch.amp.GradScaler)."""

import numpy as np
import pytest

import gradkit as gk

# (step, what the gradient holds): inf/NaN at these steps, finite elsewhere
BAD = {2: np.inf, 3: np.nan, 9: -np.inf}
STEPS = 16


def _grads(step: int) -> np.ndarray:
    g = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3) * (step + 1)
    if step in BAD:
        g[1, 2] = BAD[step]
    return g


def _run_gradkit(unscale_first: bool, **options):
    p = gk.nn.Parameter(np.ones((2, 3), np.float32))
    opt = gk.optim.SGD([p], lr=0.01)
    scaler = gk.GradScaler(**options)
    out = []
    for step in range(STEPS):
        p.grad = gk.Tensor(_grads(step) * np.float32(scaler.get_scale()))
        if unscale_first:
            scaler.unscale_(opt)
        before = p.numpy().copy()
        scaler.step(opt)
        scaler.update()
        out.append((scaler.get_scale(), not np.array_equal(before, p.numpy()),
                    scaler.state_dict()))
    return out, p.numpy()


def _run_torch(torch, unscale_first: bool, **options):
    p = torch.nn.Parameter(torch.ones(2, 3))
    opt = torch.optim.SGD([p], lr=0.01)
    scaler = torch.amp.GradScaler("cpu", **options)
    out = []
    for step in range(STEPS):
        scaler.scale(torch.zeros(()))  # initialises the scale as a first forward does
        p.grad = torch.from_numpy(_grads(step) * np.float32(scaler.get_scale()))
        if unscale_first:
            scaler.unscale_(opt)
        before = p.detach().clone()
        scaler.step(opt)
        scaler.update()
        out.append((scaler.get_scale(), not torch.equal(before, p.detach()),
                    scaler.state_dict()))
    return out, p.detach().numpy()


@pytest.mark.parametrize("unscale_first", [False, True])
def test_scale_sequence_skipped_steps_and_state_match_pytorch(torch, unscale_first):
    options = {"init_scale": 8.0, "growth_factor": 4.0, "backoff_factor": 0.25,
               "growth_interval": 3}
    ours, w = _run_gradkit(unscale_first, **options)
    theirs, tw = _run_torch(torch, unscale_first, **options)
    assert [o[0] for o in ours] == [t[0] for t in theirs]
    assert [o[1] for o in ours] == [t[1] for t in theirs]
    assert [o[1] for o in ours].count(False) == len(BAD)
    for (_, _, ours_sd), (_, _, theirs_sd) in zip(ours, theirs):
        assert ours_sd == theirs_sd
    np.testing.assert_allclose(w, tw, rtol=1e-6)


def test_default_state_dict_is_pytorchs(torch):
    assert gk.GradScaler().state_dict() == torch.amp.GradScaler("cpu").state_dict() | {
        "scale": 65536.0, "_growth_tracker": 0}
    assert gk.GradScaler(enabled=False).state_dict() == {}


def test_growth_stops_below_float32_overflow():
    scaler = gk.GradScaler(init_scale=2.0 ** 127, growth_interval=1)
    p = gk.nn.Parameter(np.ones(2, np.float32))
    opt = gk.optim.SGD([p], lr=0.1)
    p.grad = gk.ones(2)
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 2.0 ** 127  # 2 ** 128 is inf in float32: kept


def _setup():
    p = gk.nn.Parameter(np.ones(3, np.float32))
    return p, gk.optim.SGD([p], lr=0.5), gk.GradScaler(init_scale=4.0)


def test_scale_unscale_step_and_skipped_step():
    p, opt, scaler = _setup()
    loss = (p * p).sum()
    scaled = scaler.scale(loss)
    assert float(scaled.item()) == 4.0 * float(loss.item())
    assert scaler.scale([loss, loss])[1].item() == scaled.item()
    scaled.backward()
    scaler.unscale_(opt)
    np.testing.assert_allclose(p.grad.numpy(), 2 * np.ones(3))
    assert scaler.step(opt) is None  # SGD.step returns None; the step ran
    np.testing.assert_allclose(p.numpy(), np.zeros(3))
    scaler.update()
    p.grad = gk.tensor([1.0, np.nan, 0.0])
    assert scaler.step(opt) is None
    np.testing.assert_allclose(p.numpy(), np.zeros(3))  # skipped
    scaler.update()
    assert scaler.get_scale() == 2.0


def test_misuse_raises_pytorchs_errors():
    p, opt, scaler = _setup()
    with pytest.raises(RuntimeError, match="No inf checks"):
        scaler.update()
    p.grad = gk.ones(3)
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="Closure"):
        gk.GradScaler().step(opt, closure=lambda: 0.0)
    scaler.update(new_scale=3.0)
    assert scaler.get_scale() == 3.0
    p.grad = gk.ones(3).astype("float16")
    with pytest.raises(ValueError, match="FP16"):
        scaler.unscale_(opt)
    with pytest.raises(TypeError, match="outputs"):
        scaler.scale("loss")


@pytest.mark.parametrize("kwargs", [{"growth_factor": 1.0}, {"backoff_factor": 1.0},
                                    {"growth_interval": 0}, {"init_scale": 0.0},
                                    {"init_scale": float("inf")}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="GradScaler"):
        gk.GradScaler(**kwargs)


def test_disabled_is_a_pass_through():
    p, opt, _ = _setup()
    scaler = gk.GradScaler(enabled=False)
    loss = (p * p).sum()
    assert scaler.scale(loss) is loss and not scaler.is_enabled()
    loss.backward()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert scaler.get_scale() == 1.0
    np.testing.assert_allclose(p.numpy(), np.zeros(3))


def test_state_dict_round_trip():
    scaler = gk.GradScaler(init_scale=16.0, growth_interval=5)
    p, opt, _ = _setup()
    for _ in range(3):
        p.grad = gk.ones(3)
        scaler.step(opt)
        scaler.update()
    other = gk.GradScaler()
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == scaler.state_dict() == {
        "scale": 16.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 5,
        "_growth_tracker": 3}
    with pytest.raises(RuntimeError, match="empty"):
        other.load_state_dict({})
