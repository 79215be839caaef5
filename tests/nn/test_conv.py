"""Convolution, pooling and image layers against PyTorch: forward and parameter gradients with
copied weights, state dicts both ways, BatchNorm2d's running statistics, Dropout2d, reprs,
errors that name the layer, and a small CNN that trains with compile/fit."""

import math

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.errors import ShapeError
from gradkit.nn import functional as F
from gradkit.nn import functional_conv as FC
from gradkit.nn.conv import BatchNorm2d, Conv1d, Conv2d, ConvTranspose2d, Dropout2d
from gradkit.nn.functional_conv import dropout2d, interpolate, pad
from gradkit.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    Upsample,
)

from .helpers import close, load_from_torch, torch_state

# (gradkit class, torch class name, args, kwargs, input shape)
LAYERS = [
    (Conv2d, "Conv2d", (3, 4, 3), {}, (2, 3, 7, 6)),
    (Conv2d, "Conv2d", (1, 8, 3), dict(stride=2, padding=1), (4, 1, 9, 9)),
    (Conv2d, "Conv2d", (16, 8, (3, 2)), dict(padding="same", dilation=(1, 2)), (2, 16, 6, 7)),
    (Conv2d, "Conv2d", (4, 6, 3), dict(groups=2, bias=False, padding="valid"), (2, 4, 6, 6)),
    (Conv2d, "Conv2d", (6, 6, 3), dict(groups=6, padding=1), (2, 6, 5, 5)),
    (Conv2d, "Conv2d", (3, 5, 3), dict(padding=1, padding_mode="reflect"), (2, 3, 5, 6)),
    (Conv2d, "Conv2d", (8, 5, 3), dict(padding=2, padding_mode="circular"), (2, 8, 5, 6)),
    (Conv2d, "Conv2d", (3, 5, 3), dict(padding=(1, 2), padding_mode="replicate"), (1, 3, 5, 6)),
    (Conv2d, "Conv2d", (3, 4, 3), {}, (3, 7, 6)),  # unbatched
    (Conv1d, "Conv1d", (3, 4, 3), dict(stride=2, padding=1), (2, 3, 11)),
    (Conv1d, "Conv1d", (4, 6, 5), dict(padding="same", groups=2, padding_mode="reflect"),
     (2, 4, 9)),
    (ConvTranspose2d, "ConvTranspose2d", (4, 3, 3), dict(stride=2, padding=1, output_padding=1),
     (2, 4, 5, 5)),
    (ConvTranspose2d, "ConvTranspose2d", (4, 6, 2), dict(stride=2, groups=2, dilation=1),
     (2, 4, 3, 4)),
]


def _copy_of(torch, cls, name, args, kwargs):
    tm = getattr(torch.nn, name)(*args, **kwargs)
    gm = cls(*args, **kwargs)
    load_from_torch(gm, tm)
    return gm, tm


def _forward_backward(gm, tm, torch, x):
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, want = gm(gx), tm(tx)
    v = np.random.default_rng(1).standard_normal(got.shape).astype(np.float32)
    got.backward(gk.tensor(v))
    want.backward(torch.tensor(v))
    return got, want, gx, tx


@pytest.mark.parametrize("spec", LAYERS, ids=[f"{s[1]}{s[2]}{s[3]}" for s in LAYERS])
def test_layer_matches_pytorch_forward_and_gradients(torch, rng, spec):
    cls, name, args, kwargs, shape = spec
    gm, tm = _copy_of(torch, cls, name, args, kwargs)
    x = rng.standard_normal(shape).astype(np.float32)
    got, want, gx, tx = _forward_backward(gm, tm, torch, x)
    assert got.dtype == np.float32
    close(got.numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-5)
    close(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5, msg="input grad")
    tparams = dict(tm.named_parameters())
    for pname, p in gm.named_parameters():
        close(p.grad.numpy(), tparams[pname].grad.numpy(), rtol=1e-4, atol=1e-4, msg=pname)
    assert repr(gm) == repr(tm)


POOLS = [
    (MaxPool2d, "MaxPool2d", (2,), {}, (2, 3, 8, 7)),
    (MaxPool2d, "MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 8, 8)),
    (MaxPool2d, "MaxPool2d", (2,), dict(stride=1, dilation=2), (1, 2, 6, 6)),
    (MaxPool1d, "MaxPool1d", (3,), dict(stride=2), (2, 3, 10)),
    (AvgPool2d, "AvgPool2d", (3,), dict(stride=2, padding=1, count_include_pad=False),
     (2, 3, 7, 8)),
    (AvgPool2d, "AvgPool2d", (2,), {}, (2, 3, 6, 6)),
    (AvgPool1d, "AvgPool1d", (2,), {}, (2, 3, 9)),
    (AdaptiveAvgPool2d, "AdaptiveAvgPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
    (AdaptiveAvgPool2d, "AdaptiveAvgPool2d", (1,), {}, (2, 3, 4, 4)),
    (AdaptiveAvgPool1d, "AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    (Upsample, "Upsample", (), dict(scale_factor=2), (2, 3, 3, 4)),
    (Upsample, "Upsample", (), dict(size=(5, 7)), (2, 3, 3, 4)),
]


@pytest.mark.parametrize("spec", POOLS, ids=[f"{s[1]}{s[2]}{s[3]}" for s in POOLS])
def test_pooling_layer_matches_pytorch(torch, rng, spec):
    cls, name, args, kwargs, shape = spec
    gm, tm = cls(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    x = rng.standard_normal(shape).astype(np.float32)
    got, want, gx, tx = _forward_backward(gm, tm, torch, x)
    close(got.numpy(), want.detach().numpy())
    close(gx.grad.numpy(), tx.grad.numpy(), msg="input grad")
    assert repr(gm) == repr(tm)


def test_max_pool_ties_route_the_gradient_like_pytorch(torch):
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = 1.0  # two maxima in the first window
    x[0, 0, 2:, 2:] = 3.0  # a window of equal values
    for k, s in ((2, 2), (3, 1), (2, 1)):
        got, want, gx, tx = _forward_backward(MaxPool2d(k, s), torch.nn.MaxPool2d(k, s), torch,
                                              x)
        close(got.numpy(), want.detach().numpy())
        close(gx.grad.numpy(), tx.grad.numpy())


def test_default_init_is_pytorchs():
    gk.manual_seed(0)
    for m, fan_in in ((Conv2d(8, 16, 3), 72), (Conv2d(8, 16, 3, groups=4), 18),
                      (Conv1d(4, 6, 5), 20), (ConvTranspose2d(8, 6, 3, groups=2), 27)):
        bound = 1 / math.sqrt(fan_in)
        for p in (m.weight, m.bias):
            a = p.numpy()
            assert a.dtype == np.float32 and np.abs(a).max() <= bound
        w = m.weight.numpy()
        assert abs(w.std() - bound / math.sqrt(3)) < 0.25 * bound  # U(-b, b) has std b/sqrt(3)
    assert Conv2d(3, 8, (3, 5)).weight.shape == (8, 3, 3, 5)
    assert ConvTranspose2d(4, 6, 3, groups=2).weight.shape == (4, 3, 3, 3)
    assert Conv1d(4, 6, 5, groups=2, bias=False).bias is None


@pytest.mark.parametrize("spec", [LAYERS[0], LAYERS[3], LAYERS[9], LAYERS[11]],
                         ids=["conv2d", "conv2d_groups", "conv1d", "conv_transpose2d"])
def test_state_dict_round_trips_with_pytorch(torch, spec):
    cls, name, args, kwargs, _ = spec
    tm = getattr(torch.nn, name)(*args, **kwargs)
    gm = cls(*args, **kwargs)
    gm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    for k, v in tm.state_dict().items():
        np.testing.assert_array_equal(gm.state_dict()[k], v.numpy())
    gm2 = cls(*args, **kwargs)
    tm2 = getattr(torch.nn, name)(*args, **kwargs)
    tm2.load_state_dict(torch_state(torch, gm2))
    for k, v in gm2.state_dict().items():
        np.testing.assert_array_equal(tm2.state_dict()[k].numpy(), v)


BN2D = [dict(), dict(momentum=None), dict(affine=False), dict(track_running_stats=False),
        dict(momentum=0.3, eps=1e-3)]


@pytest.mark.parametrize("cfg", BN2D, ids=[str(c) for c in BN2D])
def test_batchnorm2d_matches_pytorch_over_training_then_eval(torch, rng, cfg):
    m, tm = BatchNorm2d(4, **cfg), torch.nn.BatchNorm2d(4, **cfg)
    if m.weight is not None:
        tm.weight.data.uniform_(0.5, 1.5)
        tm.bias.data.uniform_(-0.5, 0.5)
    load_from_torch(m, tm)
    for step in range(3):
        x = (rng.standard_normal((6, 4, 3, 5)) * (step + 1) + step).astype(np.float32)
        got, want, gx, tx = _forward_backward(m, tm, torch, x)
        close(got.numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-5)
        close(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, arr in m.state_dict().items():
        close(arr, tm.state_dict()[name].numpy(), rtol=1e-5, atol=1e-6, msg=name)
    if cfg.get("track_running_stats", True):
        assert int(m.num_batches_tracked.numpy()) == 3
    m.eval(), tm.eval()
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    got, want, _, _ = _forward_backward(m, tm, torch, x)
    close(got.numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_batchnorm2d_state_dict_names_and_errors(torch):
    m = BatchNorm2d(3)
    assert list(m.state_dict()) == list(torch.nn.BatchNorm2d(3).state_dict())
    with pytest.raises(ShapeError, match=r"BatchNorm2d\(3.*\(2, 4, 5, 5\).*\(N, 3, H, W\)"):
        m(gk.zeros((2, 4, 5, 5)))
    with pytest.raises(ShapeError, match="more than 1 value per channel"):
        m(gk.zeros((1, 3, 1, 1)))


def test_dropout2d_zeroes_whole_channels_and_scales(rng):
    x = gk.tensor(rng.random((16, 8, 5, 4)).astype(np.float32) + 1, requires_grad=True)
    layer = Dropout2d(0.25)
    y = layer(x)
    kept = y.numpy() != 0
    per_channel = kept.reshape(16, 8, -1)
    assert (per_channel.all(axis=2) | ~per_channel.any(axis=2)).all()  # whole maps
    assert 0 < (~per_channel.any(axis=2)).sum() < 16 * 8
    close(y.numpy()[kept], x.numpy()[kept] / 0.75)
    y.sum().backward()
    close(x.grad.numpy(), kept / 0.75)
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == "Dropout2d(p=0.25, inplace=False)"
    assert (dropout2d(x, 1.0).numpy() == 0).all() and dropout2d(x, 0.0) is x
    g1 = gk.manual_seed(3) or dropout2d(x, 0.5).numpy()
    g2 = gk.manual_seed(3) or dropout2d(x, 0.5).numpy()
    np.testing.assert_array_equal(g1, g2)


def test_conv_relu_fused_matches_separate(rng):
    m = Conv2d(4, 6, 3, padding=1)
    x = rng.standard_normal((2, 4, 5, 5)).astype(np.float32)
    a = m._forward_fused(gk.tensor(x), "relu")
    b = m(gk.tensor(x)).relu()
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_errors_name_the_layer_and_the_shapes():
    conv = Conv2d(1, 8, 3)
    with pytest.raises(ShapeError) as e:
        conv(np.zeros((32, 28, 28), np.float32))
    assert str(e.value) == ("Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1)) got input of shape "
                            "(32, 28, 28); expected (N, 1, H, W)")
    with pytest.raises(ShapeError, match=r"Conv1d\(2, 3.*\(4, 5, 6\); expected \(N, 2, L\)"):
        Conv1d(2, 3, 3)(gk.zeros((4, 5, 6)))
    with pytest.raises(ShapeError, match=r"Conv2d\(1, 8.*\(2, 1, 2, 2\).*smaller than"):
        conv(gk.zeros((2, 1, 2, 2)))
    with pytest.raises(ShapeError, match=r"MaxPool2d\(kernel_size=3.*\(1, 1, 2, 2\)"):
        MaxPool2d(3)(gk.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="divisible by groups"):
        Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="not supported for strided"):
        Conv2d(3, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode"):
        Conv2d(3, 6, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="padding must be"):
        Conv2d(3, 6, 3, padding="full")
    with pytest.raises(ValueError, match="padding"):
        MaxPool2d(2, padding=2)(gk.zeros((1, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"data|NaN"):
        conv(np.full((1, 1, 5, 5), np.nan, np.float32))


def test_functional_errors_name_the_op():
    x = gk.zeros((2, 3, 5, 5))
    with pytest.raises(ShapeError, match=r"conv2d: .*3 channels.*\(4, 2, 3, 3\)"):
        FC.conv2d(x, gk.zeros((4, 2, 3, 3)))
    with pytest.raises(ShapeError, match=r"conv2d: bias must have shape \(4,\)"):
        FC.conv2d(x, gk.zeros((4, 3, 3, 3)), gk.zeros(3))
    with pytest.raises(ValueError, match="output_padding"):
        FC.conv_transpose2d(x, gk.zeros((3, 2, 3, 3)), stride=1, output_padding=1)
    with pytest.raises(ValueError, match="even number of pads"):
        pad(x, (1, 2, 3))
    with pytest.raises(NotImplementedError, match="nearest"):
        interpolate(x, scale_factor=2, mode="bilinear")


def test_functional_forms_are_the_ops():
    x = gk.tensor(np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4))
    close(FC.max_pool2d(x, 2).numpy(), MaxPool2d(2)(x).numpy())
    close(FC.avg_pool2d(x, 2).numpy(), AvgPool2d(2)(x).numpy())
    close(FC.adaptive_avg_pool2d(x, 1).numpy(), x.numpy().mean(axis=(2, 3), keepdims=True))
    close(pad(x, (1, 1, 0, 0), mode="replicate").numpy()[..., 0], x.numpy()[..., 0])


def _lenet_like(lib_nn, conv, pool):
    return lib_nn.Sequential(conv(1, 4, 3, padding=1), lib_nn.ReLU(), pool(2),
                             conv(4, 8, 3), lib_nn.ReLU(), pool(2), lib_nn.Flatten(),
                             lib_nn.Linear(8 * 2 * 2, 10))


def test_small_cnn_matches_pytorch_end_to_end(torch, rng):
    tm = _lenet_like(torch.nn, torch.nn.Conv2d, torch.nn.MaxPool2d)
    gm = _lenet_like(nn, Conv2d, MaxPool2d)
    load_from_torch(gm, tm)
    x = rng.standard_normal((5, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 10, 5)
    loss = F.cross_entropy(gm(gk.tensor(x)), gk.tensor(y))
    tloss = torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
    loss.backward(), tloss.backward()
    close(loss.numpy(), tloss.detach().numpy(), rtol=1e-5)
    tparams = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        close(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-4, atol=1e-5, msg=name)


def test_tiny_cnn_trains_on_digits_with_fit():
    gk.manual_seed(0)
    x, y = gk.datasets.load_digits()
    x = (x / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)[:600]
    y = y[:600]
    model = nn.Sequential(Conv2d(1, 8, 3, padding=1), nn.ReLU(), MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 4 * 4, 10))
    model.compile(optimizer=gk.optim.Adam(model.parameters(), lr=1e-2), loss="cross_entropy",
                  metrics=["accuracy"])
    before = model.evaluate(x, y)["loss"]
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    after = model.evaluate(x, y)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert after["loss"] < 0.5 * before and after["accuracy"] > 0.8


def test_sequential_fuses_conv_then_relu_into_one_node_with_the_same_numbers():
    conv = gk.nn.Conv2d(2, 3, 3, padding=1)
    x = gk.randn(2, 2, 5, 5, requires_grad=True)
    fused = gk.nn.Sequential(conv, gk.nn.ReLU())(x)
    assert fused._op == "conv2d+relu"
    plain = gk.relu(conv(x))
    np.testing.assert_array_equal(fused.numpy(), plain.numpy())
    (gf,) = gk.autograd.grad(fused.sum(), x)
    (gp,) = gk.autograd.grad(plain.sum(), x)
    np.testing.assert_allclose(gf.numpy(), gp.numpy(), rtol=1e-6, atol=1e-6)
