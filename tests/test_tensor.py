"""Tensor creation, dtype rules, conversion, operators and error messages."""

import numpy as np
import pytest

import gradkit as gk


def test_dtype_rules():
    assert gk.tensor(1.5).dtype == np.float32
    assert gk.tensor([1.0, 2.0]).dtype == np.float32
    assert gk.tensor(np.zeros(3)).dtype == np.float32  # float64 arrays become float32
    assert gk.tensor(np.zeros(3), dtype="float64").dtype == np.float64
    assert gk.tensor(3).dtype == np.int64
    assert gk.tensor([1, 2]).dtype == np.int64
    assert gk.tensor(True).dtype == np.bool_
    assert gk.tensor([True, False]).dtype == np.bool_
    assert gk.tensor(np.zeros(2, np.uint8)).dtype == np.uint8
    t = gk.tensor([1.0], dtype=gk.float64)
    assert gk.tensor(t).dtype == np.float64


def test_creation_functions():
    assert gk.zeros(2, 3).shape == (2, 3) and gk.zeros((2, 3)).dtype == np.float32
    assert gk.ones(4).numpy().sum() == 4
    assert gk.full((2, 2), 7.0).numpy().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert gk.full((2,), 3).dtype == np.int64
    x = gk.tensor([[1.0, 2.0]])
    assert gk.zeros_like(x).shape == (1, 2) and gk.ones_like(x).numpy().sum() == 2
    assert gk.arange(5).numpy().tolist() == [0, 1, 2, 3, 4]
    assert gk.arange(1, 2, 0.5).dtype == np.float32
    assert gk.eye(3).numpy().trace() == 3
    assert gk.randn(3, 4).dtype == np.float32
    r = gk.rand(1000)
    assert r.numpy().min() >= 0 and r.numpy().max() < 1
    assert gk.zeros(2, requires_grad=True).requires_grad
    assert gk.randn(2, dtype="float64").dtype == np.float64
    with pytest.raises(ValueError, match="negative"):
        gk.zeros(-1)


def test_manual_seed_reproduces():
    gk.manual_seed(42)
    a = gk.randn(5).numpy()
    gk.manual_seed(42)
    np.testing.assert_array_equal(a, gk.randn(5).numpy())
    with pytest.raises(TypeError):
        gk.manual_seed("x")


def test_metadata_and_conversion():
    t = gk.tensor([[1.0, 2.0, 3.0]])
    assert t.shape == (1, 3) and t.ndim == 2 and t.size == 3 and len(t) == 1
    assert t.device == "cpu"
    assert isinstance(t.numpy(), np.ndarray)
    assert np.asarray(t).shape == (1, 3)
    s = gk.tensor(2.5)
    assert s.item() == 2.5 and float(s) == 2.5 and int(gk.tensor(3)) == 3
    with pytest.raises(ValueError, match="one-element"):
        t.item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    assert "requires_grad=True" in repr(gk.tensor([1.0], requires_grad=True))
    assert repr(gk.tensor([1.0, 2.0])).startswith("tensor([1., 2.]")


def test_operators_and_reflected():
    x = gk.tensor([1.0, 2.0])
    assert (x + 1).numpy().tolist() == [2.0, 3.0]
    assert (1 - x).numpy().tolist() == [0.0, -1.0]
    assert (2 * x).numpy().tolist() == [2.0, 4.0]
    assert (2 / x).numpy().tolist() == [2.0, 1.0]
    assert (2**x).numpy().tolist() == [2.0, 4.0]
    assert (-x).numpy().tolist() == [-1.0, -2.0]
    assert abs(gk.tensor([-1.0])).item() == 1.0
    assert (np.array([1.0, 1.0]) + x).numpy().tolist() == [2.0, 3.0]
    assert isinstance(np.ones(2) * x, gk.Tensor)
    assert (x > 1).dtype == np.bool_ and (x == 2).numpy().tolist() == [False, True]
    assert ((x > 0) & (x < 2)).numpy().tolist() == [True, False]
    assert (~(x > 1)).numpy().tolist() == [True, False]
    assert [v.item() for v in x] == [1.0, 2.0]


def test_python_scalars_keep_float32():
    x = gk.tensor([1.0, 2.0])
    for y in (x + 1.5, x * 2, x / 3, x**2, 1.5 - x, x.mean(), gk.exp(x)):
        assert y.dtype == np.float32


def test_int_float_mixing_gives_float32():
    i = gk.tensor([1, 2])
    f = gk.tensor([0.5, 0.5])
    assert (i * f).dtype == np.float32
    assert (i * 0.5).dtype == np.float32
    assert (i / 2).dtype == np.float32
    assert (i + 1).dtype == np.int64
    assert i.mean().dtype == np.float32


def test_astype_and_to():
    x = gk.tensor([1.5, 2.5], requires_grad=True)
    y = x.astype("float64")
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0])
    assert x.astype("int64").numpy().tolist() == [1, 2]
    assert x.to("cpu") is x
    with pytest.raises(gk.DeviceError, match="unknown device"):
        x.to("tpu")


def test_setitem_and_copy_outside_graph():
    x = gk.zeros(3)
    x[1] = 5.0
    x[gk.tensor([0, 2])] = gk.tensor([1.0, 2.0])
    assert x.numpy().tolist() == [1.0, 5.0, 2.0]
    x.copy_(gk.ones(3))
    assert x.numpy().tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(gk.ShapeError):
        x.copy_(gk.ones(4))
    w = gk.zeros(2, requires_grad=True)
    with pytest.raises(gk.AutogradError):
        w[0] = 1.0


def test_inplace_int_tensor_with_float_is_refused():
    x = gk.tensor([1, 2])
    with pytest.raises(TypeError, match="in place"):
        x += 0.5


@pytest.mark.parametrize(
    ("fn", "pattern"),
    [
        (lambda: gk.ones(3) + gk.ones(4), r"add: incompatible shapes \(3,\) and \(4,\)"),
        (lambda: gk.ones(32, 28, 28) @ gk.ones(784, 512),
         r"matmul: shapes \(32, 28, 28\) and \(784, 512\) are not aligned"),
        (lambda: gk.ones(6).reshape(4, 2), r"reshape: cannot reshape .* \(6,\)"),
        (lambda: gk.ones(2, 3).sum(axis=2), r"sum: axis 2 is out of range"),
        (lambda: gk.concatenate([gk.ones(2, 3), gk.ones(3, 2)]), r"concatenate: .*\(2, 3\)"),
        (lambda: gk.ops.linear(gk.ones(32, 28, 28), gk.ones(512, 784)), r"in_features=784"),
        (lambda: gk.ops.cross_entropy(gk.ones(2, 3), gk.tensor([0, 3])),
         r"labels must lie in \[0, 3\)"),
        (lambda: gk.one_hot(gk.tensor([0.5]), 3), "integers"),
        (lambda: gk.where(gk.ones(2), gk.ones(2), gk.zeros(2)), "bool"),
        (lambda: gk.squeeze(gk.ones(2, 3), 0), "not of length 1"),
        (lambda: gk.ones(3)[5], r"getitem: index 5 does not fit shape \(3,\)"),
    ],
)
def test_errors_name_the_op_and_shapes(fn, pattern):
    with pytest.raises((ValueError, TypeError, IndexError), match=pattern):
        fn()


def test_shape_errors_are_value_errors():
    assert issubclass(gk.ShapeError, ValueError)
    assert issubclass(gk.DeviceError, ValueError)
    assert issubclass(gk.DTypeError, TypeError)


def test_cuda_absent_is_reported_cleanly():
    if gk.cuda.is_available():
        pytest.skip("a GPU is present")
    assert gk.cuda.device_count() == 0


def test_dropout_op_train_and_eval():
    x = gk.ones(10_000, requires_grad=True)
    y = gk.ops.dropout(x, 0.25, training=True)
    kept = y.numpy() != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, kept)
    assert gk.ops.dropout(x, 0.25, training=False) is x
    gk.manual_seed(3)
    a = gk.ops.dropout(gk.ones(50), 0.5).numpy()
    gk.manual_seed(3)
    np.testing.assert_array_equal(a, gk.ops.dropout(gk.ones(50), 0.5).numpy())


def test_ndarray_subclasses_are_cpu_arrays(tmp_path):
    mm = np.memmap(tmp_path / "w.bin", dtype=np.float32, mode="w+", shape=(3,))
    mm[:] = [1.0, 2.0, 3.0]
    w = gk.Tensor._wrap(mm)
    assert (w * gk.ones(3)).numpy().tolist() == [1.0, 2.0, 3.0]
    assert (gk.ones(3, dtype="float64") + w).dtype == np.float64
