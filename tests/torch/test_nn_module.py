"""torch.nn.Module, Parameter and the containers: subclassing as PyTorch code does, state
dicts (keys, shapes, copies), traversal, modes, devices and dtypes, hooks, adoption of
gradkit layers, and the containers' list/dict behaviour, checked against real PyTorch."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import gradkit as gk
import gradkit.torch as gt


def _net(nn):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 8)
            self.bn = nn.BatchNorm1d(8)
            self.blocks = nn.ModuleList([nn.Linear(8, 8), nn.Linear(8, 8)])
            self.heads = nn.ModuleDict({"a": nn.Linear(8, 2), "b": nn.Linear(8, 3)})
            self.scale = nn.Parameter(nn.init.ones_(nn.Linear(1, 1).weight.detach().clone()
                                                     .reshape(1)))
            self.register_buffer("steps", None)

        def forward(self, x):
            x = self.bn(self.fc1(x)).relu()
            for b in self.blocks:
                x = b(x)
            return self.heads["a"](x) * self.scale, self.heads["b"](x)

    return Net()


def test_a_subclass_registers_like_pytorch(torch):
    mine, ref = _net(gt.nn), _net(torch.nn)
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in ref.named_buffers()]
    assert list(mine.state_dict()) == list(ref.state_dict())
    assert [type(m).__name__ for m in mine.modules()] == [type(m).__name__ for m in
                                                           ref.modules()]
    assert [n for n, _ in mine.named_children()] == [n for n, _ in ref.named_children()]
    assert repr(mine) == repr(ref)
    mine.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    for a, b in zip(mine(gt.tensor(x)), ref(torch.tensor(x))):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    assert [n for n, _ in mine.named_parameters(prefix="net")][:2] == ["net.scale",
                                                                    "net.fc1.weight"]
    assert len(list(mine.parameters(recurse=False))) == 1


def test_state_dict_holds_tensor_copies_and_loads_back():
    m = gt.nn.Sequential(gt.nn.Linear(2, 3), gt.nn.ReLU(), gt.nn.Linear(3, 1))
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict) and list(sd) == ["0.weight", "0.bias", "2.weight",
                                                        "2.bias"]
    assert all(type(v) is gt.Tensor and not v.requires_grad for v in sd.values())
    assert sd["0.weight"].shape == (3, 2)
    before = sd["0.weight"].numpy().copy()
    with gt.no_grad():
        m[0].weight.add_(1.0)
    np.testing.assert_array_equal(sd["0.weight"].numpy(), before)  # a copy, unlike PyTorch
    result = m.load_state_dict(sd)
    assert repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), before)
    assert m.state_dict(keep_vars=True)["0.weight"] is m[0].weight
    partial = m.load_state_dict({"0.weight": before}, strict=False)
    assert partial.missing_keys == ["0.bias", "2.weight", "2.bias"]
    assert "missing_keys=['0.bias'" in repr(partial)
    with pytest.raises(ValueError, match="missing keys"):
        m.load_state_dict({"0.weight": before})
    with pytest.raises(ValueError, match="shape mismatch for '0.weight'"):
        m.load_state_dict({**sd, "0.weight": np.zeros((2, 2), np.float32)})


def test_pytorch_state_dict_loads_and_gives_the_same_outputs(torch):
    ref = torch.nn.Sequential(OrderedDict([("fc1", torch.nn.Linear(3, 5)),
                                           ("act", torch.nn.Tanh()),
                                           ("fc2", torch.nn.Linear(5, 2))]))
    mine = gt.nn.Sequential(OrderedDict([("fc1", gt.nn.Linear(3, 5)), ("act", gt.nn.Tanh()),
                                         ("fc2", gt.nn.Linear(5, 2))]))
    mine.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_allclose(mine(gt.tensor(x)).detach().numpy(),
                               ref(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)
    assert isinstance(mine.fc1, gt.nn.Linear) and mine[0] is mine.fc1


def test_parameter_is_a_torch_tensor_and_prints_like_pytorch(torch):
    p = gt.nn.Parameter(gt.tensor([1.0, 2.0]))
    assert isinstance(p, gt.Tensor) and isinstance(p, gk.nn.Parameter) and p.requires_grad
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert str(p) == str(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    frozen = gt.nn.Parameter(gt.zeros(2), requires_grad=False)
    assert not frozen.requires_grad
    t = gt.tensor([3.0])
    assert np.shares_memory(gt.nn.Parameter(t).numpy(), t.numpy())


def test_train_eval_zero_grad_and_requires_grad():
    m = gt.nn.Sequential(gt.nn.Linear(2, 2), gt.nn.Dropout(0.5))
    assert m.training and m[1].training
    m.eval()
    assert not m.training and not m[1].training
    m.train()
    m(gt.randn(3, 2)).sum().backward()
    assert m[0].weight.grad is not None
    m.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(m[0].weight.grad.numpy(), np.zeros((2, 2)))
    m.zero_grad()
    assert m[0].weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_to_takes_devices_dtypes_and_tensors():
    m = gt.nn.Linear(2, 2)
    w = m.weight
    assert m.to("cpu") is m and m.to(gt.device("cpu")) is m
    m.to(gt.float64)
    assert m.weight is w and m.weight.dtype == gt.float64
    m.float()
    assert m.weight.dtype == gt.float32
    m.to(dtype=gt.float16)
    assert m.weight.dtype == gt.float16
    m.to(gt.zeros(1, dtype=gt.float64))
    assert m.weight.dtype == gt.float64
    m.double().cpu()
    assert m.weight.dtype == gt.float64
    with pytest.raises(TypeError, match="unexpected keyword"):
        m.to(devise="cpu")


def test_apply_visits_children_first(torch):
    def order(nn):
        seen = []
        nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU(), nn.Tanh())).apply(
            lambda m: seen.append(type(m).__name__))
        return seen

    assert order(gt.nn) == order(torch.nn)


def test_apply_with_init_like_the_lessons():
    def init_weights(m):
        if isinstance(m, gt.nn.Linear):
            gt.nn.init.xavier_uniform_(m.weight)
            gt.nn.init.zeros_(m.bias)

    m = gt.nn.Sequential(gt.nn.Linear(4, 3), gt.nn.ReLU(), gt.nn.Linear(3, 2)).apply(
        init_weights)
    assert float(m[2].bias.abs().sum()) == 0
    assert np.abs(m[0].weight.numpy()).max() <= np.sqrt(6 / 7)


def test_forward_hooks_see_inputs_and_outputs_and_can_be_removed():
    m = gt.nn.Sequential(gt.nn.Linear(3, 4), gt.nn.ReLU(), gt.nn.Linear(4, 2))
    seen = []
    handle = m[1].register_forward_hook(lambda mod, inp, out: seen.append(out.shape))
    pre = m[0].register_forward_pre_hook(lambda mod, inp: (inp[0] * 0,))
    out = m(gt.randn(5, 3))
    assert seen == [(5, 4)]
    handle.remove()
    pre.remove()
    expected = m[2](m[1](m[0].bias.expand(5, 4)))  # zeroed input: the bias through
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    m(gt.randn(5, 3))
    assert seen == [(5, 4)]
    replace = m.register_forward_hook(lambda mod, inp, out: out * 0)
    assert float(m(gt.randn(2, 3)).abs().sum()) == 0
    replace.remove()


def test_sequential_fuses_linear_relu_with_the_same_numbers():
    gk.manual_seed(1)
    m = gt.nn.Sequential(gt.nn.Linear(6, 5), gt.nn.ReLU(), gt.nn.Linear(5, 3), gt.nn.Tanh())
    x = gt.randn(4, 6)
    fused = m(x)
    steps = x
    for layer in m:
        steps = layer(steps)
    np.testing.assert_array_equal(fused.detach().numpy(), steps.detach().numpy())
    assert type(fused) is gt.Tensor
    seen = []
    m[1].register_forward_hook(lambda *a: seen.append(1))
    m(x)
    assert seen == [1]  # a hooked layer is called, not fused away


def test_sequential_indexing_slicing_and_editing(torch):
    def build(nn):
        s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        s.append(nn.Sigmoid())
        s.insert(1, nn.Dropout())
        del s[2]
        s[0] = nn.Linear(2, 3, bias=False)
        popped = s.pop(-1)
        return s, s[1:], popped

    for a, b in zip(build(gt.nn), build(torch.nn)):
        assert repr(a) == repr(b)
    mine = build(gt.nn)[0]
    assert len(mine) == 3 and list(mine.state_dict()) == ["0.weight", "2.weight", "2.bias"]
    assert isinstance(mine[1:], gt.nn.Sequential)


def test_module_list_and_dict(torch):
    def build(nn):
        layers = nn.ModuleList([nn.Linear(2, 2)])
        layers.append(nn.ReLU())
        layers.extend([nn.Linear(2, 2), nn.Linear(2, 2)])
        d = nn.ModuleDict({"enc": nn.Linear(2, 2)})
        d["dec"] = nn.Linear(2, 1)
        d.update([("act", nn.Tanh())])
        return layers, d

    (la, da), (lb, db) = build(gt.nn), build(torch.nn)
    assert repr(la) == repr(lb) and repr(da) == repr(db)
    assert len(la) == len(lb) == 4 and list(da) == list(db) == ["enc", "dec", "act"]
    assert "dec" in da and list(da.keys()) == ["enc", "dec", "act"]
    assert isinstance(da["enc"], gt.nn.Linear)
    assert [n for n, _ in da.named_parameters()] == [n for n, _ in db.named_parameters()]
    assert isinstance(da.pop("act"), gt.nn.Tanh) and len(da) == 2
    params = gt.nn.ParameterList([gt.nn.Parameter(gt.ones(2)), gt.zeros(3)])
    assert len(params) == 2 and isinstance(params[1], gt.nn.Parameter)
    pd = gt.nn.ParameterDict({"w": gt.ones(2)})
    assert [n for n, _ in pd.named_parameters()] == ["w"]
    with pytest.raises(TypeError, match="ModuleList"):
        class Bad(gt.nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = [gt.nn.Linear(1, 1)]
        Bad()


def test_gradkit_layers_become_dialect_layers_in_place():
    native = gk.nn.Linear(3, 2)
    m = gt.nn.Sequential(native, gk.nn.ReLU())
    assert m[0] is native and type(native) is gt.nn.Linear
    assert type(native.weight) is gt.nn.Parameter
    assert type(m(gt.randn(1, 3))) is gt.Tensor
    bn = gk.nn.BatchNorm1d(3)
    holder = gt.nn.Module()
    holder.bn = bn
    assert type(bn.running_mean) is gt.Tensor and type(bn) is gt.nn.BatchNorm1d
    assert "bias=True" in repr(bn)

    class Custom(gk.nn.Module):  # a user's gradkit module keeps its class
        def forward(self, x):
            return x * 2

    holder.custom = Custom()
    assert type(holder.custom) is Custom


def test_module_init_takes_no_arguments_and_modules_deep_copy():
    with pytest.raises(TypeError, match="takes no arguments"):
        gt.nn.Module(3)
    m = gt.nn.Sequential(gt.nn.Linear(2, 2), gt.nn.BatchNorm1d(2))
    c = copy.deepcopy(m)
    assert type(c[0].weight) is gt.nn.Parameter
    assert not np.shares_memory(c[0].weight.numpy(), m[0].weight.numpy())
    assert m.get_submodule("1") is m[1]
    with pytest.raises(AttributeError, match="no sub-module"):
        m.get_submodule("5")


def test_fit_trains_a_dialect_model():
    gk.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((200, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    m = gt.nn.Sequential(gt.nn.Linear(2, 16), gt.nn.ReLU(), gt.nn.Linear(16, 2))
    m.compile(optimizer=gt.optim.Adam(m.parameters(), lr=0.05), loss=gt.nn.CrossEntropyLoss(),
              metrics=["accuracy"])
    history = m.fit(x, y, epochs=30, batch_size=50, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_the_dialects_meet_in_mixed_code():
    native_x = gk.randn(4, 3)
    layer = gt.nn.Linear(3, 2)
    out = layer(native_x)  # a native tensor into a dialect layer: a torch tensor out
    assert type(out) is gt.Tensor
    back = gk.nn.Linear(2, 1)(out)  # a torch tensor into a gradkit layer: native out
    assert type(back) is gk.Tensor
    back.sum().backward()  # one graph through both
    assert layer.weight.grad is not None and type(layer.weight.grad) is gt.Tensor
    opt = gk.optim.SGD(layer.parameters(), lr=0.1)  # gradkit's optimizer on dialect params
    before = layer.weight.detach().clone()
    opt.step()
    assert not np.allclose(before.numpy(), layer.weight.detach().numpy())


def test_non_persistent_buffers_stay_out_of_the_state_dict(torch):
    def build(nn, mod):
        m = nn.Module()
        m.register_buffer("kept", mod.ones(2))
        m.register_buffer("cache", mod.zeros(2), persistent=False)
        return m

    mine, ref = build(gt.nn, gt), build(torch.nn, torch)
    assert list(mine.state_dict()) == list(ref.state_dict()) == ["kept"]
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in ref.named_buffers()]
    mine.load_state_dict({"kept": np.zeros(2, np.float32)})
