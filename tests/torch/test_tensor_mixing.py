"""How gradkit.torch meets native gradkit: a torch tensor is a gradkit Tensor (every gradkit
function takes it); dialect functions, methods and operators give torch tensors, also with a
native operand; `t.native()` and `torch.as_tensor(native)` cross over without a copy, in the
same graph."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.torch as torch


def test_a_torch_tensor_is_a_gradkit_tensor():
    x = torch.tensor([1.0, 2.0])
    assert isinstance(x, gk.Tensor) and isinstance(x, torch.Tensor)
    assert not isinstance(gk.tensor([1.0]), torch.Tensor)
    assert gk.exp(x).numpy().tolist() == pytest.approx(np.exp([1.0, 2.0]).tolist())
    assert gk.concatenate([x, x]).shape == (4,)  # NumPy names, torch tensors


def test_results_stay_torch_tensors_even_with_a_native_operand():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    n = gk.tensor([3.0, 4.0])
    outs = [x + n, n + x, n * x, n - x, n / x, n ** x, x @ n, n @ x, x[0], x.exp(), -x,
            np.float32(2) * x, np.ones(2) + x, torch.add(n, n), torch.sum(n), x.sum(dim=0),
            torch.cat([n, x]), torch.max(n, 0).values, x.T, x.view(2, 1), x.detach(),
            x.clone(), x.data, x.to("cpu"), x.float(), x.broadcast_to((2, 2)),
            x.expand_dims(0), *x.split(1), *x, *torch.chunk(n, 2)]
    assert [type(o).__name__ for o in outs if type(o) is not torch.Tensor] == []
    assert type(n) is gk.Tensor  # a native operand is never retagged
    x.sum().backward()
    assert type(x.grad) is torch.Tensor


def test_native_gives_a_gradkit_tensor_in_the_same_graph():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    n = x.native()
    assert type(n) is gk.Tensor and n._data is x._data
    assert n.sum(axis=0).item() == 3.0  # gradkit's NumPy-style methods
    (n * n).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_as_tensor_of_a_native_tensor_shares_storage_and_graph():
    w = gk.tensor([1.0, 3.0], requires_grad=True)
    t = torch.as_tensor(w)
    assert type(t) is torch.Tensor and t._data is w._data and type(w) is gk.Tensor
    t.pow(2).sum().backward()
    assert w.grad.numpy().tolist() == [2.0, 6.0]
    a = np.arange(3.0)
    ta = torch.as_tensor(a)
    a[0] = 7.0
    assert ta[0].item() == 7.0 and ta.dtype == torch.float64  # NumPy memory, NumPy dtype
    same = torch.tensor([1.0])
    assert torch.as_tensor(same) is same


def test_from_numpy_shares_memory_and_tensor_copies():
    a = np.zeros(3, np.float32)
    t, c = torch.from_numpy(a), torch.tensor(a)
    t[1] = 5.0
    assert a[1] == 5.0 and c[1].item() == 0.0
    with pytest.raises(TypeError, match="expected np.ndarray"):
        torch.from_numpy([1, 2])


def test_dtypes_and_devices_work_in_both_dialects():
    x = torch.zeros(2)
    assert np.dtype(x.dtype) == np.float32 and x.dtype.kind == "f" and x.dtype == np.float32
    assert gk.zeros(2, dtype=torch.int64).dtype == np.int64
    assert np.zeros(2, dtype=torch.float16).dtype == np.float16
    assert x.device == "cpu" and repr(x.device) == "device(type='cpu')"
    assert gk.zeros(2, device=torch.device("cpu")).device == "cpu"
    assert x.astype(torch.float64).dtype is torch.float64  # gradkit's astype takes them
    assert x.shape == (2,) and repr(x.shape) == "torch.Size([2])"
    assert torch.zeros(2, 3).shape[1:] == torch.Size([3])


def test_module_style_code_mixes_dialects(rng):
    w = gk.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    x = torch.randn(4, 3)
    out = torch.relu(x @ w)  # a native parameter in torch code
    loss = (out - torch.zeros(4, 2)).pow(2).mean()
    assert type(loss) is torch.Tensor
    loss.backward()
    assert w.grad is not None and w.grad.shape == (3, 2)
