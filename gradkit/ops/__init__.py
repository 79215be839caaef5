"""Every differentiable op, as a function; importing this package binds the Tensor methods."""

from __future__ import annotations

from ..autograd import RECORDED_NS
from ..tensor import _bind_ops
from . import recorded
from .compare import (
    equal,
    floor_divide,
    greater,
    greater_equal,
    less,
    less_equal,
    logical_and,
    logical_or,
    logical_xor,
    not_equal,
    remainder,
)
from .elementwise import (
    abs,
    add,
    astype,
    clip,
    cos,
    div,
    elu,
    erf,
    exp,
    gelu,
    leaky_relu,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    reciprocal,
    relu,
    sigmoid,
    sign,
    sin,
    softplus,
    sqrt,
    square,
    sub,
    tanh,
    to_device_op,
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
    reshape_packed,
    split,
    squeeze,
    stack,
    swapaxes,
    transpose,
    transpose_packed,
    tril,
    triu,
)

RECORDED_NS[:] = [recorded]  # what stands for NumPy/CuPy when a gradient rule records

# THE one hook between Tensor and the ops (see gradkit/tensor.py): every op that a Tensor
# method or operator calls, by name. Bound once, here, when gradkit.ops is imported.
_bind_ops(
    add=add, sub=sub, mul=mul, div=div, pow=pow, floor_divide=floor_divide,
    remainder=remainder, neg=neg, matmul=matmul, dot=dot,
    less=less, less_equal=less_equal, greater=greater, greater_equal=greater_equal,
    equal=equal, not_equal=not_equal,
    logical_and=logical_and, logical_or=logical_or, logical_xor=logical_xor,
    getitem=getitem, astype=astype, to_device_op=to_device_op,
    exp=exp, log=log, sqrt=sqrt, abs=abs, sign=sign, tanh=tanh, sigmoid=sigmoid, relu=relu,
    leaky_relu=leaky_relu, gelu=gelu, elu=elu, softplus=softplus, sin=sin, cos=cos,
    square=square, reciprocal=reciprocal, maximum=maximum, minimum=minimum, clip=clip,
    sum=sum, mean=mean, max=max, min=min, prod=prod, var=var, std=std, logsumexp=logsumexp,
    argmax=argmax, argmin=argmin, any=any, all=all, cumsum=cumsum,
    softmax=softmax, log_softmax=log_softmax,
    reshape_packed=reshape_packed, flatten=flatten, transpose_packed=transpose_packed,
    swapaxes=swapaxes, expand_dims=expand_dims, squeeze=squeeze, broadcast_to=broadcast_to,
    split=split, flip=flip, pad=pad, tril=tril, triu=triu,
)

__all__ = [
    "abs", "all", "any", "argmax", "argmin", "broadcast_to", "clip", "cos", "cumsum", "dot",
    "elu", "exp", "expand_dims", "flatten", "flip", "gelu", "leaky_relu", "log",
    "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum", "pad",
    "pow", "prod", "reciprocal", "relu", "reshape", "sigmoid", "sign", "sin", "softmax",
    "softplus", "split", "sqrt", "square", "squeeze", "std", "sum", "swapaxes", "tanh",
    "transpose", "tril", "triu", "var",
    "add", "sub", "mul", "div", "neg", "where", "astype", "concatenate", "stack", "einsum",
    "getitem", "one_hot", "linear", "cross_entropy", "dropout", "erf", "less", "less_equal",
    "greater", "greater_equal", "equal", "not_equal",
]
