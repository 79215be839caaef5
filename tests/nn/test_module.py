"""Module and Parameter (gradkit/nn/module.py): registration, state, modes, devices."""

import copy

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn

from .helpers import NET_PARAMS, Net, mlp

# ---- Parameter ---------------------------------------------------------------------------------


def test_parameter_is_a_leaf_sharing_data():
    t = gk.tensor([1.0, 2.0], dtype="float64")
    p = nn.Parameter(t)
    assert isinstance(p, gk.Tensor) and p.requires_grad and p.is_leaf
    assert p.data is t.data and p.dtype == np.float64
    assert repr(p).startswith("Parameter([1., 2.]")
    assert nn.Parameter(np.zeros(3)).dtype == np.float32
    assert not nn.Parameter(gk.ones(2), requires_grad=False).requires_grad
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(gk.tensor([1, 2]))


# ---- registration and traversal -------------------------------------------------------------


def test_named_parameters_dotted_names_in_order():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == NET_PARAMS
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())
    assert [n for n, _ in net.named_buffers()] == [
        "body.0.norm.running_mean", "body.0.norm.running_var", "body.0.norm.num_batches_tracked"]


def test_children_and_modules():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["body", "heads"]
    assert list(net.children()) == [net.body, net.heads]
    names = [n for n, _ in net.named_modules()]
    assert names == ["", "body", "body.0", "body.0.fc", "body.0.norm", "body.1", "heads",
                     "heads.0", "heads.1"]
    assert list(net.modules())[0] is net


def test_shared_parameters_and_modules_counted_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.Tanh(), lin)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert seq.num_parameters() == 6


def test_setattr_bookkeeping():
    m = nn.Linear(2, 3)
    m.bias = None
    assert [n for n, _ in m.named_parameters()] == ["weight"] and m.bias is None
    m.extra = nn.Parameter(gk.zeros(2))
    assert "extra" in dict(m.named_parameters())
    with pytest.raises(TypeError, match="'extra' of Linear: it holds a parameter"):
        m.extra = 5
    del m.extra
    m.extra = 5  # after del, the name is free
    assert "extra" not in dict(m.named_parameters()) and m.extra == 5
    del m.weight
    assert list(m.parameters()) == []
    with pytest.raises(TypeError, match=r"nn.Parameter or None \(to change its values"):
        nn.Linear(2, 2).weight = gk.zeros(2, 2)
    bn = nn.BatchNorm1d(2)
    bn.running_mean = gk.ones(2)  # a buffer takes a Tensor
    assert bn.state_dict()["running_mean"].tolist() == [1, 1]
    with pytest.raises(TypeError, match="it holds a buffer"):
        bn.running_mean = np.ones(2)
    seq = nn.Sequential(nn.Tanh())
    with pytest.raises(TypeError, match="it holds a sub-module"):
        setattr(seq, "0", gk.ones(1))
    seq.add_module("0", None)  # None clears a registered name
    assert len(list(seq.children())) == 0


def test_common_mistakes_are_refused_clearly():
    class NoSuper(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        NoSuper()

    class PlainList(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2)]

    with pytest.raises(TypeError, match="ModuleList"):
        PlainList()

    class RawTensor(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = gk.zeros(2, requires_grad=True)

    with pytest.warns(UserWarning, match="nn.Parameter"):
        RawTensor()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)
    with pytest.raises(KeyError, match="without '.'"):
        nn.Module().add_module("a.b", nn.ReLU())


def test_repr_nested():
    text = repr(Net())
    assert text.startswith("Net(\n  (body): Sequential(\n    (0): Block(\n")
    assert "      (fc): Linear(in_features=3, out_features=4, bias=True)" in text
    assert "    (1): Linear(in_features=4, out_features=1, bias=True)\n  )\n)" in text
    assert repr(nn.ReLU()) == "ReLU()"


# ---- state dict ---------------------------------------------------------------------------------


def test_state_dict_is_a_copy_and_round_trips():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert list(sd) == NET_PARAMS[:5] + [
        "body.0.norm.running_mean", "body.0.norm.running_var",
        "body.0.norm.num_batches_tracked"] + NET_PARAMS[5:]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["scale"][...] = 7.0
    assert a.scale.item() == 1.0  # a copy
    weight = b.body[0].fc.weight
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.body[0].fc.weight is weight  # loaded in place: optimizers keep working
    x = gk.randn(5, 3)
    a.eval(), b.eval()
    for ya, yb in zip(a(x), b(x)):
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_load_state_dict_casts_dtype_and_accepts_tensors():
    m = nn.Linear(2, 2)
    sd = {"weight": np.ones((2, 2), dtype=np.float64), "bias": gk.tensor([1.0, 2.0])}
    m.load_state_dict(sd)
    assert m.weight.dtype == np.float32 and m.bias.tolist() == [1.0, 2.0]


def test_load_state_dict_strict_errors_list_every_problem():
    m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    sd = m.state_dict()
    del sd["0.bias"]
    sd["2.weight"] = np.zeros(1)
    sd["0.weight"] = np.zeros((3, 2), np.float32)
    sd["1.num_batches_tracked"] = np.array(1.5)
    before = m[0].weight.numpy().copy()
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict(sd)
    msg = str(info.value)
    assert "missing keys: '0.bias'" in msg
    assert "unexpected keys: '2.weight'" in msg
    assert "shape mismatch for '0.weight': the model expects (2, 3), the state dict has (3, 2)" \
        in msg
    assert "dtype mismatch for '1.num_batches_tracked'" in msg
    assert info.value.missing == ["0.bias"] and info.value.unexpected == ["2.weight"]
    assert isinstance(info.value, ValueError)
    np.testing.assert_array_equal(m[0].weight.numpy(), before)  # nothing was changed


def test_load_state_dict_non_strict_reports_keys_but_refuses_shapes():
    m = nn.Linear(3, 2)
    result = m.load_state_dict({"weight": np.zeros((2, 3)), "other": np.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert np.all(m.weight.numpy() == 0)
    with pytest.raises(nn.StateDictError, match="shape mismatch"):
        m.load_state_dict({"weight": np.zeros((3, 3))}, strict=False)


# ---- modes, gradients, devices -------------------------------------------------------------


def test_train_eval_propagate():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not net.body[1].training


def test_zero_grad_sets_none():
    net = Net()
    sum(o.sum() for o in net(gk.randn(4, 3))).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_to_cpu_and_dtype_in_place():
    net = Net()
    params = list(net.parameters())
    assert net.to("cpu") is net and net.cpu() is net
    assert list(net.parameters()) == params
    out = net(gk.randn(4, 3))
    assert out[0].shape == (4, 2)
    net.to(dtype="float64")
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.body[0].norm.num_batches_tracked.dtype == np.int64  # not a float: unchanged
    assert net(gk.randn(4, 3, dtype="float64"))[1].dtype == np.float64


@pytest.mark.skipif(not gk.cuda.is_available(), reason="needs a CUDA GPU and CuPy")
def test_to_cuda_moves_parameters_and_buffers():  # pragma: no cover - needs a GPU
    net = Net().to("cuda")
    assert all(t.device == "cuda:0" for t in [*net.parameters(), *net.buffers()])
    out = net(gk.randn(4, 3, device="cuda"))
    sum(o.sum() for o in out).backward()
    assert net.heads[0].weight.grad.device == "cuda:0"
    assert all(isinstance(v, np.ndarray) for v in net.state_dict().values())
    net.to("cpu")
    assert net.heads[0].weight.grad.device == "cpu"


def test_num_parameters_and_freezing():
    m = mlp()
    assert m.num_parameters() == 784 * 512 + 512 + 512 * 10 + 10
    m[0].requires_grad_(False)
    assert m.num_parameters(trainable_only=True) == 512 * 10 + 10


def test_deepcopy_keeps_registration():
    net = Net()
    twin = copy.deepcopy(net)
    assert [n for n, _ in twin.named_parameters()] == NET_PARAMS
    assert twin.body[0].fc.weight is not net.body[0].fc.weight
    assert twin.body[0].fc.weight is twin.body[0].fc._parameters["weight"]


# ---- the low-level API end to end ---------------------------------------------------------------


def test_hand_written_training_loop_reduces_the_loss():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR-like: no line separates it
    x, y = gk.tensor(x), gk.tensor(y)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(200):
        loss = loss_fn(model(x), y)
        model.zero_grad()
        loss.backward()
        with gk.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    accuracy = (model(x).argmax(axis=1) == y).numpy().mean()
    assert accuracy > 0.9
