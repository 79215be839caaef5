"""gk.nn.utils.clip_grad_norm_ / clip_grad_value_ against torch.nn.utils."""

import math

import numpy as np
import pytest

import gradkit as gk
from gradkit.nn import utils


def _params(seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=s).astype(np.float32) * scale for s in [(4, 3), (3,), (2, 2)]]
    ps = []
    for a in arrays:
        p = gk.tensor(rng.normal(size=a.shape).astype(np.float32), requires_grad=True)
        p.grad = gk.tensor(a)
        ps.append(p)
    return ps, arrays


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ps, arrays = _params()
    tps = [torch.zeros(a.shape, requires_grad=True) for a in arrays]
    for t, a in zip(tps, arrays):
        t.grad = torch.tensor(a)
    total = utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_scales_only_when_needed_and_skips_missing_grads():
    ps, arrays = _params(scale=1e-3)
    extra = gk.zeros(3, requires_grad=True)  # no .grad
    total = utils.clip_grad_norm_([*ps, extra], max_norm=10.0)
    expected = math.sqrt(sum(float((a.astype(np.float64) ** 2).sum()) for a in arrays))
    assert total.dtype == np.float32 and abs(total.item() - expected) < 1e-6
    for p, a in zip(ps, arrays):  # the coefficient is capped at 1: unchanged
        np.testing.assert_array_equal(p.grad.numpy(), a)
    assert extra.grad is None
    assert utils.clip_grad_norm_([extra], 1.0).item() == 0.0


def test_clip_grad_norm_of_one_tensor_and_nonfinite_and_bad_input():
    p = gk.tensor([3.0, 4.0], requires_grad=True)
    p.grad = gk.tensor([3.0, 4.0])
    assert utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    p.grad = gk.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm"):
        utils.clip_grad_norm_(p, -1.0)
    with pytest.raises(TypeError, match="Tensors"):
        utils.clip_grad_norm_([np.zeros(2)], 1.0)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    ps, arrays = _params()
    tps = [torch.zeros(a.shape, requires_grad=True) for a in arrays]
    for t, a in zip(tps, arrays):
        t.grad = torch.tensor(a)
    utils.clip_grad_value_(ps, 1.5)
    torch.nn.utils.clip_grad_value_(tps, 1.5)
    for p, t in zip(ps, tps):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())
    with pytest.raises(ValueError, match="clip_value"):
        utils.clip_grad_value_(ps, -1)


def test_clipping_inside_a_training_step_after_backward():
    gk.manual_seed(0)
    model = gk.nn.Sequential(gk.nn.Linear(3, 4), gk.nn.Tanh(), gk.nn.Linear(4, 1))
    loss = (model(gk.randn(8, 3) * 100) ** 2).mean()
    loss.backward()
    before = utils.clip_grad_norm_(model.parameters(), 0.1)
    after = utils.clip_grad_norm_(model.parameters(), 1e9)
    assert before.item() > 0.1 and after.item() == pytest.approx(0.1, rel=1e-4)


def test_a_read_only_gradient_is_copied_not_written():
    p = gk.tensor([3.0, 4.0], requires_grad=True)
    frozen = np.array([3.0, 4.0], dtype=np.float32)
    frozen.flags.writeable = False
    p.grad = gk.Tensor._wrap(frozen)
    utils.clip_grad_value_(p, 1.0)
    np.testing.assert_array_equal(frozen, [3.0, 4.0])
    np.testing.assert_array_equal(p.grad.numpy(), [1.0, 1.0])


class _Spy(gk.optim.SGD):
    """Records each gradient's norm as the step sees it."""

    def step(self):
        self.seen = [float(np.linalg.norm(p.grad.numpy())) for g in self.param_groups
                     for p in g["params"] if p.grad is not None]
        self.values = [float(np.abs(p.grad.numpy()).max()) for g in self.param_groups
                       for p in g["params"] if p.grad is not None]
        super().step()


@pytest.mark.parametrize("option, check", [
    ("clipnorm", lambda opt: max(opt.seen) <= 0.01 * (1 + 1e-4)),
    ("global_clipnorm", lambda opt: math.sqrt(sum(n * n for n in opt.seen)) <= 0.01 * 1.0001),
    ("clipvalue", lambda opt: max(opt.values) <= 0.01),
])
def test_compile_clips_gradients_before_each_step(option, check):
    gk.manual_seed(0)
    model = gk.nn.Sequential(gk.nn.Linear(4, 8), gk.nn.Tanh(), gk.nn.Linear(8, 1))
    opt = _Spy(model.parameters(), lr=0.1)
    model.compile(optimizer=opt, loss="mse", **{option: 0.01})
    x, y = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32) * 50, np.ones(32)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert check(opt)
    model.compile(optimizer=opt, loss="mse")  # no clipping: the raw gradients are larger
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not check(opt)


def test_compile_refuses_bad_clipping():
    model = gk.nn.Linear(2, 1)
    with pytest.raises(ValueError, match="clipnorm must be a number > 0"):
        model.compile(loss="mse", clipnorm=-1)
    with pytest.raises(ValueError, match="not both"):
        model.compile(loss="mse", clipnorm=1.0, global_clipnorm=1.0)
