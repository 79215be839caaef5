"""DLPack: zero-copy exchange with NumPy and PyTorch, dtypes and shapes preserved."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_numpy_zero_copy_both_ways(dtype):
    t = gk.tensor(np.arange(6).reshape(2, 3) % 2, dtype=dtype)
    arr = np.from_dlpack(t)
    assert arr.dtype == np.dtype(dtype) and arr.shape == (2, 3)
    assert np.shares_memory(arr, t.data)
    arr[0, 0] = 1
    assert t.numpy()[0, 0] == 1

    source = np.zeros((3, 2), dtype=dtype)
    back = gk.from_dlpack(source)
    assert isinstance(back, gk.Tensor) and back.dtype == source.dtype and back.shape == (3, 2)
    source[2, 1] = 1
    assert back.numpy()[2, 1] == 1


def test_device_and_views():
    t = gk.arange(12.0).reshape(3, 4)
    assert t.__dlpack_device__() == (1, 0)
    view = gk.from_dlpack(np.arange(12.0, dtype=np.float32).reshape(3, 4)[:, 1::2])
    assert view.shape == (3, 2)
    np.testing.assert_array_equal(view.numpy(), [[1, 3], [5, 7], [9, 11]])
    same = gk.from_dlpack(t)
    assert same.data is t.data and same is not t


def test_scalar_tensor_and_gradkit_ops_on_imported_data():
    s = gk.from_dlpack(np.array(3.5, np.float32))
    assert s.shape == () and s.item() == 3.5
    x = gk.from_dlpack(np.ones((2, 2), np.float32)).requires_grad_()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 2.0))


def test_refuses_objects_without_dlpack():
    with pytest.raises(TypeError, match="list does not support DLPack"):
        gk.from_dlpack([1, 2, 3])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_torch_zero_copy_both_ways(torch, dtype):
    tdtype = getattr(torch, dtype)
    t = gk.tensor(np.arange(6).reshape(2, 3) > 2, dtype=dtype)
    pt = torch.from_dlpack(t)
    assert pt.dtype == tdtype and tuple(pt.shape) == (2, 3)
    pt[0, 0] = 1
    assert t.numpy()[0, 0] == 1
    assert pt.data_ptr() == t.data.ctypes.data

    src = torch.zeros((4, 2), dtype=tdtype)
    g = gk.from_dlpack(src)
    assert g.dtype == np.dtype(dtype) and g.shape == (4, 2)
    src[3, 1] = 1
    assert g.numpy()[3, 1] == 1
    g.data[0, 0] = 1
    assert src[0, 0].item() == 1


def test_torch_parameters_need_detach(torch):
    p = torch.nn.Parameter(torch.ones(2))
    with pytest.raises(BufferError, match="detach"):
        gk.from_dlpack(p)
    g = gk.from_dlpack(p.detach())
    with torch.no_grad():
        p.mul_(3)
    np.testing.assert_array_equal(g.numpy(), [3.0, 3.0])


@pytest.mark.skipif(not gk.cuda.is_available(), reason="needs a CUDA GPU and CuPy")
def test_cupy_zero_copy_both_ways():  # pragma: no cover - needs a GPU
    import cupy as cp

    t = gk.ones(3, device="cuda")
    c = cp.from_dlpack(t)
    c[0] = 5
    assert t.numpy()[0] == 5
    src = cp.zeros((2, 2), dtype=cp.float32)
    back = gk.from_dlpack(src)
    assert back.device.startswith("cuda") and back.shape == (2, 2)
    src[1, 1] = 7
    assert back.numpy()[1, 1] == 7
