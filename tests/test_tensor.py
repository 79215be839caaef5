"""Tensor creation, dtype rules, conversion, operators and error messages."""

import inspect

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


_X = np.array([[0.5, 1.5, 2.0], [3.0, 0.25, 1.0]], dtype=np.float32)
_METHOD_CALLS = [  # (method, positional arguments after self): each forwards them unchanged
    ("exp", ()), ("log", ()), ("sqrt", ()), ("abs", ()), ("sign", ()), ("tanh", ()),
    ("sigmoid", ()), ("relu", ()), ("leaky_relu", (0.2,)), ("gelu", ()), ("elu", (0.5,)),
    ("softplus", ()), ("sin", ()), ("cos", ()), ("square", ()), ("reciprocal", ()),
    ("maximum", (1.0,)), ("minimum", (1.0,)), ("clip", (0.6, 1.8)), ("pow", (3,)),
    ("sum", (1, True)), ("mean", ((0, 1),)), ("max", (0,)), ("min", (None, True)),
    ("prod", (1,)), ("var", (1, True, 1)), ("std", (0, False, 1)), ("logsumexp", (1,)),
    ("argmax", (1,)), ("argmin", (None, True)), ("any", (0,)), ("all", ()),
    ("matmul", (_X.T,)), ("dot", (_X.T,)), ("reshape", (3, 2)), ("reshape", ((6,),)),
    ("flatten", (1,)), ("transpose", ()), ("transpose", (1, 0)), ("swapaxes", (0, 1)),
    ("expand_dims", (1,)), ("squeeze", ()), ("broadcast_to", ((4, 2, 3),)),
    ("split", (3, 1)), ("flip", (1,)), ("pad", (1, 2.0)), ("tril", (1,)), ("triu", (-1,)),
    ("softmax", (0,)), ("log_softmax", ()), ("cumsum", (1,)),
]


@pytest.mark.parametrize(("name", "args"), _METHOD_CALLS, ids=lambda v: str(v))
def test_each_method_is_its_op(name, args):
    x = gk.tensor(_X, requires_grad=True)
    got, want = getattr(x, name)(*args), getattr(gk.ops, name)(x, *args)
    for g, w in zip(*[(t if isinstance(t, list) else [t]) for t in (got, want)]):
        assert g._op == w._op and g.dtype == w.dtype and g.requires_grad == w.requires_grad
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_operators_are_their_ops_in_operand_order():
    x, y = gk.tensor([1.0, 4.0]), gk.tensor([2.0, 2.0])
    ops = gk.ops
    pairs = [(x + y, ops.add(x, y)), (3 + x, ops.add(3, x)), (x - y, ops.sub(x, y)),
             (3 - x, ops.sub(3, x)), (x * y, ops.mul(x, y)), (3 * x, ops.mul(3, x)),
             (x / y, ops.div(x, y)), (3 / x, ops.div(3, x)), (x**y, ops.pow(x, y)),
             (2**x, ops.pow(2, x)), (x @ y, ops.matmul(x, y)), (x // y, x.data // y.data),
             (x % y, x.data % y.data), (-x, -x.data), (abs(-x), x.data), (+x, x.data),
             (x < y, x.data < y.data), (x <= y, x.data <= y.data), (x > y, x.data > y.data),
             (x >= y, x.data >= y.data), (x == y, x.data == y.data), (x != y, x.data != y.data)]
    for got, want in pairs:
        np.testing.assert_array_equal(got.numpy(), np.asarray(want))
    assert +x is x and isinstance(x == y, gk.Tensor) and hash(x) != hash(gk.tensor([1.0, 4.0]))
    b = x > 2
    assert (b & ~b).numpy().tolist() == [False, False] and (b | ~b).numpy().all()
    assert (b ^ b).numpy().tolist() == [False, False]
    with pytest.raises(gk.ShapeError, match=r"add: incompatible shapes \(3,\) and \(2,\)"):
        np.ones(3, np.float32) + x  # reflected: the ndarray is the first operand
    m = gk.tensor(_X)
    assert m.T.shape == (3, 2) and m.mT.shape == (3, 2) and gk.ones(4, 2, 3).mT.shape == (4, 3, 2)
    assert [r.numpy().tolist() for r in m] == _X.tolist() and m[1, 2].item() == 1.0


@pytest.mark.parametrize("name", sorted({n for n, _ in _METHOD_CALLS}))
def test_each_method_takes_its_ops_arguments(name):
    """Same names, kinds and defaults after `self` as the op (round one bound the op itself)."""
    def rest(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()][1:]

    assert rest(getattr(gk.Tensor, name)) == rest(getattr(gk.ops, name))
