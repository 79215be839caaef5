"""The rest of the tensor API: legacy constructors, torch.Size, dtype objects, default
dtype, print options, named tuples, devices without a GPU, the lazy hooks and the errors for
names gradkit.torch lacks."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import gradkit as gk
import gradkit.torch as torch
from gradkit.errors import DeviceError


def test_legacy_constructors():
    assert torch.Tensor(2, 3).shape == (2, 3) and torch.Tensor(2, 3).dtype == torch.float32
    assert torch.Tensor([1, 2]).dtype == torch.float32 and torch.Tensor().shape == (0,)
    assert torch.LongTensor([1, 2]).dtype == torch.int64 and torch.FloatTensor(3).shape == (3,)
    assert isinstance(torch.zeros(2), torch.FloatTensor)
    assert not isinstance(torch.zeros(2, dtype=torch.long), torch.FloatTensor)
    assert torch.tensor([1, 2]).type(torch.DoubleTensor).dtype == torch.float64
    assert torch.tensor([1.5]).type("torch.IntTensor").tolist() == [1]


def test_size_is_a_tuple_that_prints_as_pytorch():
    s = torch.zeros(2, 3, 4).size()
    assert s == (2, 3, 4) and isinstance(s, tuple) and s.numel() == 24
    assert repr(s) == str(s) == "torch.Size([2, 3, 4])" and repr(s[1:]) == "torch.Size([3, 4])"
    assert repr(s + (5,)) == "torch.Size([2, 3, 4, 5])"
    assert torch.zeros(torch.Size([2, 2])).shape == (2, 2)


def test_dtype_objects():
    assert torch.float is torch.float32 and torch.long is torch.int64
    assert torch.half is torch.float16
    assert repr(torch.float64) == "torch.float64" and {torch.float32: 1}[torch.float] == 1
    assert pickle.loads(pickle.dumps(torch.int32)) is torch.int32
    assert torch.finfo(torch.float32).eps == np.finfo(np.float32).eps
    assert torch.iinfo(torch.int8).max == 127
    with pytest.raises(TypeError, match="is not a dtype"):
        torch.zeros(2, dtype="no such dtype")


def test_default_dtype_can_be_float64():
    torch.set_default_dtype(torch.float64)
    try:
        assert torch.tensor([1.5]).dtype == torch.float64 and torch.zeros(2).dtype == torch.float64
        assert repr(torch.tensor([1.5])) == "tensor([1.5000])"
    finally:
        torch.set_default_dtype(torch.float32)
    with pytest.raises(TypeError, match="only torch.float32 and torch.float64"):
        torch.set_default_dtype(torch.int64)


def test_print_options():
    with torch.printoptions(precision=2):
        assert repr(torch.tensor([1.12345])) == "tensor([1.12])"
    with torch.printoptions(threshold=5, edgeitems=2):
        assert repr(torch.arange(10)) == "tensor([0, 1,  ..., 8, 9])"
    with torch.printoptions(sci_mode=True):
        assert repr(torch.tensor([1.5])) == "tensor([1.5000e+00])"
    assert repr(torch.tensor([1.12345])) == "tensor([1.1235])"
    assert torch.get_printoptions()["precision"] == 4
    assert f"{torch.tensor(0.125):.2f}" == "0.12" and f"{torch.tensor(2.5)}" == "2.5"


def test_named_tuples():
    r = torch.max(torch.tensor([[1.0, 3.0], [4.0, 2.0]]), 1)
    values, indices = r
    assert r.values is values and indices.tolist() == [1, 0] and len(r) == 2
    assert repr(r).startswith("torch.return_types.max(\nvalues=tensor([3., 4.])")
    assert isinstance(r, torch.return_types.max)


def test_devices_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    d = torch.device("cuda:1")
    assert (d.type, d.index, repr(d)) == ("cuda", 1, "device(type='cuda', index=1)")
    assert torch.cuda.device_count() == 0 and torch.cuda.memory_allocated() == 0
    with pytest.raises(DeviceError):
        torch.zeros(2).cuda()
    with pytest.raises(DeviceError):
        torch.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="'cpu' and 'cuda'"):
        torch.device("mps")
    torch.backends.cudnn.deterministic = True  # accepted, no effect
    assert not torch.backends.mps.is_available()


def test_default_device_context_and_type_names():
    with torch.device("cpu"):
        assert torch.zeros(1).device == torch.device("cpu")
    assert torch.get_default_device() == torch.device("cpu")
    assert torch.zeros(1).type() == "torch.FloatTensor" and torch.tensor([True]).type() == \
        "torch.BoolTensor"


def test_copies_and_pickles():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = copy.deepcopy(x)
    assert type(y) is torch.Tensor and y.requires_grad and y._data is not x._data
    assert torch.equal(y, x)


def test_names_gradkit_torch_lacks_raise_naming_the_gradkit_way():
    with pytest.raises(AttributeError, match=r"'gradkit.torch' .* no attribute 'fft'.*np\.fft"):
        torch.fft  # noqa: B018
    with pytest.raises(AttributeError, match="gk.compile"):
        torch.jit  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'frobnicate'.*docs/torch.md"):
        torch.frobnicate  # noqa: B018
    x = torch.zeros(2)
    with pytest.raises(AttributeError, match="register_hook.*torch.autograd.grad"):
        x.register_hook(print)
    with pytest.raises(AttributeError, match="gradkit.torch"):
        x.unfold  # noqa: B018
    with pytest.raises(AttributeError, match="Function.*gradkit op"):
        torch.autograd.Function  # noqa: B018
    assert not hasattr(x, "__cuda_array_interface__") and not hasattr(x, "_repr_html_")


def test_the_lazy_hooks_load_the_modules_and_say_when_one_is_missing(monkeypatch):
    monkeypatch.setitem(torch._LAZY, "fake_part", ("no_such_module", None))
    with pytest.raises(AttributeError, match="gradkit/torch/no_such_module is missing"):
        torch.fake_part  # noqa: B018
    assert set(torch._LAZY) >= {"nn", "optim", "utils", "save", "load"}


def test_native_tensors_keep_their_numpy_semantics():
    n = gk.tensor([[1.0, 2.0], [3.0, 5.0]])
    t = torch.as_tensor(n)
    assert n.std().item() == pytest.approx(np.std([1, 2, 3, 5]))  # ddof=0: gradkit's
    assert t.std().item() == pytest.approx(np.std([1, 2, 3, 5], ddof=1))  # unbiased
    assert n.max(axis=1).tolist() == [2.0, 5.0] and t.max(1).indices.tolist() == [1, 1]
    assert n.size == 4 and t.size() == (2, 2) and t.numel() == 4
