"""Conformance table, tensors: creation (dtype rules, `*size`/`size=`), dtypes, devices,
conversions, printing (PyTorch's formats, summarisation, suffixes), in-place methods and
autograd: gradkit.torch against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.torch as gtorch

from .conformance import Row, check, f32, pos

X = f32(2, 3)


def _printed(T):
    return [repr(T.tensor(v)) for v in (
        [1.0, 2.0], [1.5, 2.25], 3.5, 3, True, [], [1e-5, 1.0], [1e10], [[1.123456, 2000.5],
                                                                         [3, 4]],
        [float("nan"), 1.5, float("inf")], [-0.0, 1.0], [True, False], [1, -20, 300],
        [[1, 2], [3, 4]], [0.1, 0.25, 123.456], [1e-3, 2e-3], [-1.5, 2.0])] + [
        repr(T.arange(2000.0)), repr(T.arange(30).reshape(5, 6) * 100000),
        repr(T.zeros(0, 3)), repr(T.tensor([1.5], dtype=T.float64)),
        repr(T.tensor([1, 2], dtype=T.int32)), repr(T.ones(2, 2, dtype=T.float16)),
        repr(T.tensor([1, 2], dtype=T.uint8)), repr(T.zeros(2, 3, 4)),
        repr(T.linspace(0, 1, 50)), repr(T.arange(1200).reshape(40, 30)),
        repr(T.tensor([1.0, 2.0], requires_grad=True)),
        repr(T.tensor(0.5, requires_grad=True) * 1),
        repr(T.tensor([[1.0, 2.0]], requires_grad=True).sum(1)), str(T.tensor([2.5, 1.0])),
        f"{T.tensor(0.25)}", f"{T.tensor(0.25):.3f}", repr(T.ones(3, 30) / 3),
        repr(T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True) * 2)]


def _inplace(T, x, y):
    a = T.zeros(2, 3)
    a.add_(x)
    a.sub_(y, alpha=2)
    a.mul_(3)
    a.div_(2)
    a += 1
    a -= y
    a *= 2
    a /= 4
    b = T.ones(2, 3).fill_(7.0)
    c = T.empty(2, 3).copy_(x)
    d = x.detach().clone().clamp_(-0.5, 0.5)
    e = x.detach().clone().exp_()
    f = x.detach().clone().masked_fill_(x > 0, 0.0)
    g = x.detach().clone().zero_()
    h = x.detach().clone().pow_(2)
    i = T.ones(3)
    i[1] = 5.0
    i[T.tensor([0, 2])] = T.tensor([-1.0, -2.0])
    return [a, b, c, d, e, f, g, h, i, a.addcmul_(x, y, value=0.5), a.addcdiv_(x, y + 5)]


def _nonleaf_inplace(T, x):
    h = x * 2
    h.add_(1)
    h.mul_(x)
    h[0] = h[0] * 3
    h.relu_()
    return h


def _linear_regression(T, x, y):
    w = T.zeros(3, 1, requires_grad=True)
    b = T.zeros(1, requires_grad=True)
    losses = []
    for _ in range(5):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        w.data.sub_(0.1 * w.grad.data)
        b.data -= 0.1 * b.grad
        w.grad.zero_()
        b.grad.data.zero_()
        losses.append(loss.item())
    with T.no_grad():
        w -= 0.0
    return [losses, w, b, w.grad]


def _autograd(T, x):
    x.requires_grad_()
    y = (x ** 3).sum()
    (g,) = T.autograd.grad(y, x, create_graph=True)
    (gg,) = T.autograd.grad(g.sum(), x)
    z = (x * 2).sum()
    z.backward(retain_graph=True)
    z.backward()
    v = x * 3
    v.backward(T.ones_like(v))
    return [g, gg, x.grad, x.grad_fn is None, y.grad_fn.name(), v.is_leaf, x.is_leaf]


def _random(T):
    """Random functions: the numbers differ from PyTorch's, their shapes, dtypes, ranges and
    reproducibility do not."""
    T.manual_seed(0)
    a = T.rand(3, 4)
    T.manual_seed(0)
    b = T.rand(3, 4)
    draws = [T.rand(2, 3), T.randn(2, 3), T.rand((4,)), T.randn(size=(2,)),
             T.randint(0, 10, (3,)), T.randint(5, (2, 2)), T.randperm(6),
             T.normal(0.0, 1.0, size=(2, 2)), T.normal(T.zeros(3), T.ones(3)),
             T.rand_like(a), T.randn_like(a), T.rand(2, dtype=T.float64),
             T.zeros(3).uniform_(-2, 2), T.zeros(3).normal_(1.0, 0.5),
             T.empty(2, 2).uniform_(), T.bernoulli(T.full((4,), 0.5)),
             T.multinomial(T.tensor([0.2, 0.8]), 3, replacement=True)]
    r = T.randperm(6)
    return [T.equal(a, b), [(tuple(d.shape), str(d.dtype), d.requires_grad) for d in draws],
            bool(((a >= 0) & (a < 1)).all()), sorted(r.tolist()),
            bool(((T.randint(3, 7, (50,)) >= 3) & (T.randint(3, 7, (50,)) < 7)).all()),
            bool(((T.zeros(50).uniform_(-2, 2) >= -2)).all()),
            T.rand(3, requires_grad=True).requires_grad, type(T.manual_seed(1)).__name__]


def _modes(T, x):
    out = []
    with T.no_grad():
        out.append((x * 2).requires_grad)
        with T.enable_grad():
            out.append((x * 2).requires_grad)
        out.append(T.is_grad_enabled())
    with T.set_grad_enabled(False):
        out.append((x * 2).requires_grad)
    with T.inference_mode():
        out.append((x * 2).requires_grad)
    out.append(T.is_grad_enabled())
    x.requires_grad_(True)
    out.append((x * 2).requires_grad)
    return out


ROWS = [
    Row(("tensor", "dtype rules"), lambda T: [T.tensor(v) for v in (
        1.5, 2, True, [1, 2.5], [[1, 2], [3, 4]], np.array([1.0]), np.array([1], np.int32),
        np.float64(2.0), [True, False])] + [T.tensor([1, 2], dtype=T.float32),
                                            T.tensor(np.arange(3), dtype=T.float64)]),
    Row(("zeros", "ones", "empty", "full"), lambda T: [
        T.zeros(2, 3), T.zeros((2, 3)), T.zeros(size=(1, 2)), T.ones(3, dtype=T.long),
        T.empty(2).shape, T.full((2, 2), 7), T.full((2,), 1.5), T.full((1,), True),
        T.ones(2, 2, dtype=T.float64), T.zeros([2]), T.zeros(2, requires_grad=True)]),
    Row(("eye", "arange", "linspace", "logspace"), lambda T: [
        T.eye(3), T.eye(2, 3), T.arange(5), T.arange(1, 4), T.arange(0, 1, 0.1),
        T.arange(5.0), T.arange(0, 10, 3), T.arange(3, dtype=T.float32), T.linspace(0, 1, 5),
        T.linspace(-1, 1, steps=4), T.logspace(0, 2, 3), T.arange(-1, -5, -1)]),
    Row(("zeros_like", "ones_like", "full_like", "empty_like"), lambda T, x: [
        T.zeros_like(x), T.ones_like(x), T.full_like(x, 2.5), T.empty_like(x).shape,
        T.zeros_like(x, dtype=T.long), T.ones_like(T.tensor([1, 2]))], (X,), grad=False),
    Row(("from_numpy", "as_tensor"), lambda T: [
        T.from_numpy(np.arange(3.0)), T.as_tensor([1, 2]), T.as_tensor(np.ones(2, np.int32)),
        T.as_tensor([1.0], dtype=T.float64)]),
    Row(("dtypes", "float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
         "bool", "float", "double", "half", "long", "int", "dtype", "get_default_dtype",
         "is_floating_point", "finfo", "iinfo"), lambda T: [
        T.float32, T.float, T.float64, T.double, T.float16, T.half, T.int64, T.long, T.int32,
        T.int, T.int16, T.int8, T.uint8, T.bool, T.get_default_dtype(),
        T.float32 == T.float, T.long == T.int64, T.float32 != T.int32,
        T.zeros(1).dtype == T.float32, T.float32.is_floating_point, T.int64.is_floating_point,
        T.is_floating_point(T.zeros(1)), T.is_floating_point(T.zeros(1, dtype=T.long)),
        T.finfo(T.float32).eps, T.iinfo(T.int64).max, T.float64.itemsize]),
    Row(("casts", "Tensor.long", "Tensor.float", "Tensor.int", "Tensor.double", "Tensor.bool",
         "Tensor.half", "Tensor.to", "Tensor.type"), lambda T, x: [
        x.long(), x.float(), x.int(), x.double(), x.bool(), x.half(), x.to(T.float64),
        x.to("cpu"), x.to(T.zeros(1, dtype=T.int32)), x.type(), x.long().type(),
        x.type(T.float64), x.type("torch.LongTensor"), x.to(dtype=T.float16, device="cpu"),
        x.float() is x, x.to(T.float32) is x], (X,), tol=1e-3),
    Row(("device", "Tensor.device", "cuda.is_available", "cuda.device_count", "Tensor.cpu",
         "is_tensor", "numel"),
        lambda T, x: [T.device("cpu"), T.device("cuda:0"), T.device("cuda", 1),
                      str(T.device("cuda:0")), T.device("cuda").type, T.device("cuda:1").index,
                      x.device, x.cpu().device, x.is_cuda, T.cuda.is_available(),
                      T.cuda.device_count(), T.is_tensor(x), T.is_tensor(1.0), T.numel(x),
                      x.device == T.device("cpu")], (X,), grad=False),
    Row(("printing", "repr"), _printed),
    Row(("clone", "detach", "item", "tolist", "numpy", "contiguous", "is_contiguous",
         "requires_grad_"), lambda T, x: [
        x.clone(), T.clone(x), x.detach(), x.detach().requires_grad, x[0, 0].item(),
        x.tolist(), x.detach().numpy().tolist(), x.t().is_contiguous(), x.is_contiguous(),
        x.t().contiguous(), x.t().contiguous().is_contiguous(), x.sum().item(),
        T.tensor([1, 2]).float().requires_grad_(), T.tensor(3).item(),
        x.new_zeros(2), x.new_ones((1, 2)), x.new_full((2,), 3.0), x.new_tensor([1, 2])],
        (X,)),
    Row(("add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "clamp_", "exp_",
         "masked_fill_", "pow_", "setitem", "+=", "addcmul_", "addcdiv_"), _inplace,
        (X, pos(2, 3)), grad=False),
    Row(("in-place in the graph", "relu_"), _nonleaf_inplace, (X,)),
    Row(("data", "grad", "grad.zero_", "data.sub_", "no_grad", "backward"),
        _linear_regression, (f32(8, 3), f32(8, 1)), grad=False),
    Row(("autograd.grad", "create_graph", "retain_graph", "grad_fn", "is_leaf"), _autograd,
        (pos(3),), grad=False),
    Row(("manual_seed", "rand", "randn", "randint", "randperm", "normal", "rand_like",
         "randn_like", "uniform_", "normal_", "bernoulli", "multinomial"), _random),
    Row(("enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled"),
        lambda T, x: [_modes(T, x)], (X,), grad=False),
]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is the reference (pip install torch)")


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_row_matches_pytorch(row, torch):
    assert check(row, gtorch, torch) == []


NAMES = {n for r in ROWS for n in r.names}
