"""gk.autocast: output and gradient dtypes, float32 upcasts, nesting, threads, no_grad."""

import asyncio
import threading

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.backend.autocast import get_autocast_dtype, is_autocast_enabled
from gradkit.ops.conv import conv1d, conv2d, conv_transpose2d
from gradkit.ops.neural import cross_entropy, linear

F16, F32 = np.dtype("float16"), np.dtype("float32")


def _params(*shapes):
    gk.manual_seed(0)
    return [gk.randn(*s, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
def test_linear_runs_in_float16_and_parameters_get_float32_gradients(activation):
    w, b = _params((4, 3), (4,))
    x = gk.randn(5, 3, requires_grad=True)
    with gk.autocast(dtype="float16"):
        y = linear(x, w, b, activation=activation)
        loss = cross_entropy(y, np.array([0, 1, 2, 3, 0]))
    assert y.dtype == F16 and loss.dtype == F32
    loss.backward()
    assert w.grad.dtype == b.grad.dtype == x.grad.dtype == F32
    ref_w, ref_b = _params((4, 3), (4,))
    ref_x = gk.Tensor(x.numpy(), requires_grad=True)
    cross_entropy(linear(ref_x, ref_w, ref_b, activation=activation),
                  np.array([0, 1, 2, 3, 0])).backward()
    np.testing.assert_allclose(w.grad.numpy(), ref_w.grad.numpy(), rtol=2e-2, atol=2e-3)
    np.testing.assert_allclose(x.grad.numpy(), ref_x.grad.numpy(), rtol=2e-2, atol=2e-3)


def test_matmul_operator_and_einsum_run_in_float16():
    a, b = _params((3, 4), (4, 2))
    with gk.autocast("float16"):
        c = a @ b
        e = gk.einsum("ij,jk->ik", a, b)
        m = gk.matmul(a, b)
    assert c.dtype == e.dtype == m.dtype == F16
    (c.sum() + e.sum() + m.sum()).backward()
    assert a.grad.dtype == b.grad.dtype == F32
    np.testing.assert_allclose(c.numpy(), (a @ b).numpy(), rtol=1e-2, atol=1e-2)


def test_convolutions_run_in_float16():
    k2, k1, kt, bias = _params((2, 3, 3, 3), (2, 3, 3), (3, 2, 3, 3), (2,))
    with gk.autocast("float16"):
        y2 = conv2d(gk.randn(1, 3, 6, 6), k2, bias, activation="relu")
        y1 = conv1d(gk.randn(1, 3, 6), k1, bias)
        yt = conv_transpose2d(gk.randn(1, 3, 4, 4), kt, bias)
    assert y2.dtype == y1.dtype == yt.dtype == F16
    (y2.sum() + y1.sum() + yt.sum()).backward()
    assert {p.grad.dtype for p in (k2, k1, kt, bias)} == {F32}


def test_softmax_family_and_losses_upcast_to_float32():
    z = gk.randn(4, 3, requires_grad=True)
    with gk.autocast("float16"):
        h = z @ gk.eye(3)  # a float16 activation
        assert h.dtype == F16
        outs = [gk.softmax(h), gk.log_softmax(h),
                nn.functional.nll_loss(gk.log_softmax(h), np.array([0, 1, 2, 0])),
                nn.functional.binary_cross_entropy_with_logits(h, gk.zeros(4, 3)),
                nn.functional.binary_cross_entropy(gk.sigmoid(h), gk.zeros(4, 3)),
                nn.functional.mse_loss(h, gk.zeros(4, 3))]
    assert [o.dtype for o in outs] == [F32] * len(outs)
    sum(o.sum() for o in outs).backward()
    assert z.grad.dtype == F32


def test_model_parameters_stay_float32_and_train():
    gk.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 4 * 4, 3))
    opt = gk.optim.SGD(model.parameters(), lr=0.1)
    x, y = gk.randn(8, 1, 6, 6), np.arange(8) % 3
    with gk.autocast("float16"):
        out = model(x)
        loss = cross_entropy(out, y)
    assert out.dtype == F16
    loss.backward()
    opt.step()
    assert {p.dtype for p in model.parameters()} == {F32}
    assert {p.grad.dtype for p in model.parameters()} == {F32}


def test_outside_a_block_nothing_changes():
    a, b = _params((3, 4), (4, 2))
    assert (a @ b).dtype == F32 and not is_autocast_enabled()
    h = a.astype("float16")
    assert gk.softmax(h).dtype == F16  # the upcast is autocast's only


def test_nesting_and_enabled_false_behave_like_pytorch():
    a, b = _params((3, 4), (4, 2))
    with gk.autocast("float16"):
        assert get_autocast_dtype() == "float16"
        with gk.autocast("float16", enabled=False):
            assert not is_autocast_enabled() and (a @ b).dtype == F32
            with gk.autocast("float16"):
                assert (a @ b).dtype == F16
            assert (a @ b).dtype == F32
        assert (a @ b).dtype == F16
    assert get_autocast_dtype() is None and (a @ b).dtype == F32


def test_a_block_instance_can_be_reentered_and_decorates():
    a, b = _params((3, 4), (4, 2))
    block = gk.autocast("float16")
    with block:
        with block:
            assert is_autocast_enabled()
        assert is_autocast_enabled()
    assert not is_autocast_enabled()

    @gk.autocast(dtype="float16")
    def f(x, y):
        return x @ y

    assert f(a, b).dtype == F16 and (a @ b).dtype == F32


def test_no_grad_inside_and_outside():
    a, b = _params((3, 4), (4, 2))
    with gk.no_grad(), gk.autocast("float16"):
        c = a @ b
    assert c.dtype == F16 and not c.requires_grad
    with gk.autocast("float16"), gk.no_grad():
        assert (a @ b).dtype == F16
    with gk.autocast("float16"):
        with gk.no_grad():
            pass
        c = a @ b
    assert c.requires_grad


def test_state_is_per_thread():
    seen = {}
    started, release = threading.Event(), threading.Event()

    def other():
        seen["before"] = is_autocast_enabled()
        with gk.autocast("float16"):
            started.set()
            release.wait(5)
            seen["inside"] = is_autocast_enabled()

    t = threading.Thread(target=other)
    with gk.autocast("float16"):
        t.start()
        started.wait(5)
        assert is_autocast_enabled()
    assert not is_autocast_enabled()  # the other thread's block is still open
    release.set()
    t.join()
    assert seen == {"before": False, "inside": True}


def test_an_asyncio_task_follows_the_block_it_was_created_in():
    async def main():
        async def probe():
            return is_autocast_enabled()

        with gk.autocast("float16"):
            inner = asyncio.ensure_future(probe())
        outer = asyncio.ensure_future(probe())
        return await inner, await outer

    assert asyncio.run(main()) == (True, False)


def test_device_type_limits_the_casts():
    a, b = _params((3, 4), (4, 2))
    with gk.autocast("float16", device_type="cuda"):
        assert (a @ b).dtype == F32  # CPU tensors are left alone
    with gk.autocast("float16", device_type="cpu"):
        assert (a @ b).dtype == F16


def test_integer_and_float16_operands_are_left_as_they_are():
    a = gk.tensor(np.arange(6).reshape(2, 3))
    with gk.autocast("float16"):
        assert (a @ a.T).dtype == np.int64
        h = gk.ones(2, 3).astype("float16")
        assert (h @ h.T).dtype == F16


def test_bfloat16_on_the_cpu_raises_naming_dtype_and_device():
    a, b = _params((3, 4), (4, 2))
    with gk.autocast(dtype="bfloat16"), pytest.raises(gk.DTypeError, match="bfloat16.*'cpu'"):
        a @ b
    with pytest.raises(gk.DTypeError, match="bfloat16.*'cpu'"):
        gk.autocast(dtype="bfloat16", device_type="cpu")


@pytest.mark.parametrize("kwargs, error", [
    ({"dtype": "float32"}, ValueError), ({"dtype": "int8"}, ValueError),
    ({"dtype": "float16", "device_type": "tpu"}, ValueError),
    ({"dtype": "float16", "enabled": "yes"}, TypeError)])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error, match="autocast"):
        gk.autocast(**kwargs)


def test_a_device_given_as_the_dtype_gets_a_hint():
    with pytest.raises(ValueError, match="device_type='cuda'"):
        gk.autocast("cuda")


def test_dtype_spellings():
    for spelling in ("float16", np.float16, gk.float16, "half", "fp16"):
        assert gk.autocast(spelling).dtype == "float16"
    assert gk.autocast("bf16").dtype == "bfloat16"
