"""Bad input to gradkit.torch's functions raises a clear error naming the function, the shapes
or dtypes (PyTorch's message where it has one)."""

from __future__ import annotations

import pytest

import gradkit.torch as torch
from gradkit.errors import DTypeError, ShapeError

X = torch.ones(2, 3)
CASES = [
    (lambda: torch.mm(X, X), RuntimeError, r"mm\(\): mat1 and mat2 shapes cannot be "
                                           r"multiplied \(2x3 and 2x3\)"),
    (lambda: torch.bmm(X, X), RuntimeError, r"bmm\(\): expected 3-D tensors"),
    (lambda: torch.dot(X, X), RuntimeError, r"dot\(\): 1D tensors expected"),
    (lambda: X + torch.ones(4), ShapeError, r"add: incompatible shapes \(2, 3\) and \(4,\)"),
    (lambda: X @ torch.ones(2), ShapeError, "matmul"),
    (lambda: torch.cat([]), RuntimeError, "non-empty"),
    (lambda: torch.cat([X, torch.ones(2, 2)]), ShapeError, "concatenate"),
    (lambda: X.transpose(0, 3), IndexError, r"transpose: Dimension out of range"),
    (lambda: X.max(dim=2), IndexError, r"max: Dimension out of range"),
    (lambda: X.view(4), ShapeError, "reshape: cannot reshape a tensor of shape"),
    (lambda: X.permute(0, 0), RuntimeError, "repeated dim"),
    (lambda: X.repeat(2), RuntimeError, "can not be smaller"),
    (lambda: X.expand(3), RuntimeError, "expand: the number of sizes"),
    (lambda: X.split([1, 1], 1), RuntimeError, "split_with_sizes expects split_sizes to sum "
                                               "exactly to 3"),
    (lambda: X.chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0"),
    (lambda: X.narrow(1, 2, 3), RuntimeError, r"narrow\(\): start \(2\) \+ length \(3\)"),
    (lambda: X.gather(1, torch.tensor([0, 1])), RuntimeError, "same number of dimensions"),
    (lambda: X.gather(1, torch.tensor([[5]])), IndexError, "index 5 is out of bounds for "
                                                             "dimension 1 with size 3"),
    (lambda: X.gather(1, torch.tensor([[0.5]])), TypeError, "Expected dtype int64 for index"),
    (lambda: X.masked_fill(X, 0.0), RuntimeError, "expected a bool mask"),
    (lambda: X.index_select(0, torch.tensor([[0]])), IndexError, "supposed to be a vector"),
    (lambda: X.topk(4), RuntimeError, r"topk\(\): selected index k=4 out of range"),
    (lambda: X.t().view(6), RuntimeError, "Use .reshape"),
    (lambda: torch.tensor([1, 2]).mean(), RuntimeError, "Got: Long"),
    (lambda: torch.tensor([1, 2]).softmax(0), RuntimeError, "expected a floating tensor"),
    (lambda: torch.tensor([1, 2]).requires_grad_(), DTypeError, "only floating tensors"),
    (lambda: torch.ones(2).item(), RuntimeError, "a Tensor with 2 elements cannot be "
                                                 "converted to Scalar"),
    (lambda: torch.zeros(-1), RuntimeError, "negative dimension"),
    (lambda: torch.zeros("a"), TypeError, "size must be ints"),
    (lambda: torch.arange(0, 1, 0), RuntimeError, "step must be nonzero"),
    (lambda: torch.randint(5), TypeError, "give high and size"),
    (lambda: torch.clamp(X), RuntimeError, "At least one of 'min' or 'max'"),
    (lambda: torch.norm(X, p="nuc"), RuntimeError, "vector norms only"),
    (lambda: torch.multinomial(torch.tensor([0.0, 0.0]), 1), RuntimeError, "sums to zero"),
    (lambda: torch.tensor(["a"]), TypeError, "could not make a tensor"),
    (lambda: torch.device("tpu"), RuntimeError, "'cpu' and 'cuda'"),
    (lambda: torch.zeros_like([1, 2]), TypeError, "argument 'input' must be Tensor"),
    (lambda: torch.div(X, 2, rounding_mode="up"), ValueError, "rounding_mode"),
]


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_bad_input_raises_a_clear_error(case):
    call, kind, message = case
    with pytest.raises(kind, match=message):
        call()
