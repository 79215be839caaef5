"""The methods of `torch.Tensor`: PyTorch's method names, each one of the dialect's
functions (`t.sum(dim=1)` is `torch.sum(t, dim=1)`), installed once on import through
`tensor.install` (which also retags the gradkit methods PyTorch shares, e.g. `broadcast_to`).
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor as _Native
from . import compare, convert, indexing, inplace, math, random, reduce, select, shape
from .tensor import install, matmul

__all__ = ["METHODS"]


def _from(module: Any, *names: str) -> dict[str, Any]:
    return {n: getattr(module, n) for n in names}


def numpy(self: Any, *, force: bool = False) -> Any:
    """The values as a NumPy array (shares memory on the CPU; a copy from a GPU)."""
    return _Native.numpy(self)


def multinomial(self: Any, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Any:
    """`torch.multinomial(self, ...)`."""
    return random.multinomial(self, num_samples, replacement, generator=generator)


def bernoulli(self: Any, p: Any = None, *, generator: Any = None) -> Any:
    """`torch.bernoulli(self)` (or with probability `p` everywhere)."""
    return random.bernoulli(self, p, generator=generator)


METHODS: dict[str, Any] = {
    **_from(math, "add", "sub", "mul", "div", "multiply", "divide", "true_divide", "subtract",
            "floor_divide", "remainder", "fmod", "pow", "float_power", "clamp", "clip", "exp",
            "log", "sqrt", "rsqrt", "sin", "cos", "tan", "atan", "asin", "acos", "arctan",
            "arcsin", "arccos", "sinh", "cosh", "tanh", "sigmoid", "relu", "abs", "absolute",
            "sign", "sgn", "neg", "negative", "reciprocal", "square", "floor", "ceil",
            "round", "trunc", "fix", "frac", "log2", "log10", "log1p", "expm1", "exp2", "erf",
            "lerp", "mm", "bmm", "mv", "dot", "outer", "ger"),
    **_from(compare, "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal",
            "less_equal", "not_equal", "equal", "allclose", "isclose", "isnan", "isinf",
            "isfinite", "logical_and", "logical_or", "logical_xor", "logical_not"),
    **_from(reduce, "sum", "mean", "prod", "std", "var", "logsumexp", "norm", "all", "any",
            "cumsum", "softmax", "log_softmax", "count_nonzero", "nansum"),
    **_from(select, "max", "min", "amax", "amin", "argmax", "argmin", "sort", "argsort",
            "topk", "median", "mode", "kthvalue", "maximum", "minimum"),
    **_from(shape, "view", "view_as", "reshape", "reshape_as", "permute", "transpose",
            "swapaxes", "swapdims", "t", "flatten", "unflatten", "unsqueeze", "squeeze",
            "expand", "expand_as", "repeat", "tile", "repeat_interleave", "flip", "fliplr",
            "flipud", "roll", "narrow", "chunk", "split", "unbind", "movedim", "moveaxis",
            "tril", "triu"),
    **_from(indexing, "gather", "scatter", "scatter_add", "index_select", "masked_fill",
            "masked_select", "nonzero", "argwhere", "take_along_dim"),
    **_from(convert, "to", "type_as", "clone", "detach", "detach_", "contiguous",
            "is_contiguous", "backward", "new_tensor", "new_zeros", "new_ones", "new_full",
            "new_empty", "is_floating_point", "is_complex", "element_size", "get_device",
            "data_ptr", "pin_memory", "is_pinned", "cpu", "cuda", "requires_grad_", "item"),
    **{name: convert.cast_method(np_name, name) for name, np_name in (
        ("float", "float32"), ("double", "float64"), ("half", "float16"), ("long", "int64"),
        ("int", "int32"), ("short", "int16"), ("char", "int8"), ("byte", "uint8"),
        ("bool", "bool"))},
    **_from(inplace, "add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "uniform_",
            "normal_", "bernoulli_", "masked_fill_", "scatter_", "scatter_add_", "addcmul_",
            "addcdiv_"),
    **inplace.INPLACE_UNARY,
    "type": convert.type_, "matmul": matmul, "numpy": numpy, "multinomial": multinomial,
    "bernoulli": bernoulli, "ndimension": lambda self: self._data.ndim,
    "nelement": lambda self: int(self._data.size),
    "__abs__": math.abs, "__setitem__": inplace.setitem, "__iadd__": inplace.iadd,
    "__isub__": inplace.isub,
    "__imul__": inplace.imul, "__itruediv__": inplace.itruediv,
}

install(METHODS)
