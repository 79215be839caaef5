"""The conformance table covers every name of issue 17's list: each appears in a row of
test_conformance_{tensors,math,reduce,shape}.py, which compare it with PyTorch."""

from __future__ import annotations

import gradkit.torch as gtorch

from . import (
    test_conformance_math,
    test_conformance_reduce,
    test_conformance_shape,
    test_conformance_tensors,
)

COVERED = (test_conformance_math.NAMES | test_conformance_reduce.NAMES
           | test_conformance_shape.NAMES | test_conformance_tensors.NAMES)

REQUIRED = (
    "float32", "float", "float64", "double", "float16", "half", "int64", "long", "int32", "int",
    "int16", "int8", "uint8", "bool", "dtype", "get_default_dtype", "is_floating_point", "finfo",
    "iinfo", "device", "cuda.is_available", "cuda.device_count", "Tensor.to", "Tensor.cpu",
    "manual_seed", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_tensor",
    "numel", "tensor", "zeros", "ones", "empty", "full", "eye", "arange", "linspace", "logspace",
    "rand", "randn", "randint", "randperm", "normal", "zeros_like", "ones_like", "full_like",
    "rand_like", "randn_like", "empty_like", "from_numpy", "as_tensor", "stack", "cat", "concat",
    "concatenate", "sum", "mean", "prod", "std", "var", "max", "min", "argmax", "argmin",
    "median", "mode", "topk", "sort", "argsort", "cumsum", "logsumexp", "norm", "all", "any",
    "softmax", "log_softmax", "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid",
    "relu", "pow", "clamp", "clip", "round", "floor", "ceil", "sign", "neg", "reciprocal",
    "rsqrt", "matmul", "mm", "bmm", "dot", "outer", "where", "gather", "scatter", "index_select",
    "masked_fill", "chunk", "split", "squeeze", "unsqueeze", "flatten", "view", "reshape",
    "permute", "transpose", "t", "T", "expand", "expand_as", "repeat", "repeat_interleave",
    "flip", "narrow", "equal", "allclose", "isclose", "eq", "ne", "lt", "le", "gt", "ge",
    "logical_and", "logical_or", "logical_xor", "logical_not", "size", "dim", "shape",
    "Tensor.type", "Tensor.long", "Tensor.float", "Tensor.int", "Tensor.double", "Tensor.bool",
    "Tensor.half", "clone", "detach", "item", "tolist", "numpy", "contiguous", "is_contiguous",
    "requires_grad_", "add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "clamp_",
    "uniform_", "normal_", "exp_", "pow_", "masked_fill_", "grad.zero_", "data.sub_", "backward",
    "autograd.grad", "create_graph", "retain_graph", "grad_fn", "printing",
)


def test_every_listed_name_has_a_row():
    assert sorted(set(REQUIRED) - COVERED) == []


def test_every_listed_name_exists_in_the_dialect():
    functions = [n for n in REQUIRED if "." not in n and n[-1:] != "_" and n not in (
        "T", "printing", "create_graph", "retain_graph", "grad_fn", "size", "dim", "shape",
        "item", "tolist", "numpy", "contiguous", "is_contiguous", "backward",
        "requires_grad_")]
    missing = [n for n in functions if not (hasattr(gtorch, n) or hasattr(gtorch.Tensor, n))]
    assert missing == []
    methods = [n for n in REQUIRED if n.endswith("_") and "." not in n]
    assert [n for n in methods if not hasattr(gtorch.Tensor, n)] == []
