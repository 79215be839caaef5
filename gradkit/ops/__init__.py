"""Every differentiable op, and the Tensor methods and operators that call them."""

from __future__ import annotations

from ..tensor import Tensor
from .elementwise import (
    abs,
    add,
    astype,
    clip,
    cos,
    div,
    elu,
    equal,
    erf,
    exp,
    floor_divide,
    gelu,
    greater,
    greater_equal,
    leaky_relu,
    less,
    less_equal,
    log,
    logical_and,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    mul,
    neg,
    not_equal,
    pow,
    reciprocal,
    relu,
    remainder,
    sigmoid,
    sign,
    sin,
    softplus,
    sqrt,
    square,
    sub,
    tanh,
    where,
)
from .indexing import getitem
from .linalg import dot, einsum, matmul
from .neural import cross_entropy, dropout, linear, log_softmax, one_hot, softmax
from .reduce import (
    all,
    any,
    argmax,
    argmin,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)
from .shape import (
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    flip,
    pad,
    reshape,
    split,
    squeeze,
    stack,
    swapaxes,
    transpose,
    tril,
    triu,
)

_METHODS = {
    "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "sign": sign, "tanh": tanh,
    "sigmoid": sigmoid, "relu": relu, "leaky_relu": leaky_relu, "gelu": gelu, "elu": elu,
    "softplus": softplus, "sin": sin, "cos": cos, "square": square, "reciprocal": reciprocal,
    "maximum": maximum, "minimum": minimum, "clip": clip, "pow": pow,
    "sum": sum, "mean": mean, "max": max, "min": min, "prod": prod, "var": var, "std": std,
    "logsumexp": logsumexp, "argmax": argmax, "argmin": argmin, "any": any, "all": all,
    "matmul": matmul, "dot": dot,
    "reshape": reshape, "flatten": flatten, "transpose": transpose, "swapaxes": swapaxes,
    "expand_dims": expand_dims, "squeeze": squeeze, "broadcast_to": broadcast_to,
    "split": split, "flip": flip, "pad": pad, "tril": tril, "triu": triu,
    "softmax": softmax, "log_softmax": log_softmax, "cumsum": cumsum,
}

_OPERATORS = {
    "__add__": add, "__sub__": sub, "__mul__": mul, "__truediv__": div, "__pow__": pow,
    "__matmul__": matmul, "__floordiv__": floor_divide, "__mod__": remainder,
    "__lt__": less, "__le__": less_equal, "__gt__": greater, "__ge__": greater_equal,
    "__eq__": equal, "__ne__": not_equal,
    "__and__": logical_and, "__or__": logical_or, "__xor__": logical_xor,
    "__radd__": lambda a, b: add(b, a), "__rsub__": lambda a, b: sub(b, a),
    "__rmul__": lambda a, b: mul(b, a), "__rtruediv__": lambda a, b: div(b, a),
    "__rpow__": lambda a, b: pow(b, a), "__rmatmul__": lambda a, b: matmul(b, a),
    "__neg__": neg, "__abs__": abs, "__getitem__": getitem,
    "__invert__": lambda a: Tensor._wrap(~a.data),
    "__pos__": lambda a: a,
    "__iter__": lambda a: (getitem(a, i) for i in range(len(a))),
}

for _name, _fn in {**_METHODS, **_OPERATORS}.items():
    setattr(Tensor, _name, _fn)
Tensor.T = property(lambda self: transpose(self), doc="The tensor with its axes reversed.")
Tensor.mT = property(lambda self: swapaxes(self, -1, -2), doc="Swap the last two axes.")

__all__ = sorted(_METHODS) + [
    "add", "sub", "mul", "div", "neg", "where", "astype", "concatenate", "stack", "einsum",
    "getitem", "one_hot", "linear", "cross_entropy", "dropout", "erf", "less", "less_equal",
    "greater", "greater_equal", "equal", "not_equal",
]
