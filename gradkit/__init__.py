"""gradkit: a light, fast neural-network framework on NumPy (CPU) and CuPy (GPU).

    import gradkit as gk
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward()      # x.grad == [2, 4]
"""

from __future__ import annotations

import importlib

import numpy as np

from . import cuda, ops
from .autograd import enable_grad, grad, is_grad_enabled, no_grad, value_and_grad
from .creation import (
    arange,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    zeros,
    zeros_like,
)
from .errors import AutogradError, DeviceError, DTypeError, GradcheckError, ShapeError
from .gradcheck import gradcheck
from .io import from_dlpack, load, load_checkpoint, save, save_checkpoint
from .ops import (
    abs,
    add,
    all,
    any,
    argmax,
    argmin,
    astype,
    broadcast_to,
    clip,
    concatenate,
    cos,
    cumsum,
    div,
    dot,
    einsum,
    elu,
    exp,
    expand_dims,
    flatten,
    flip,
    gelu,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    one_hot,
    pad,
    pow,
    prod,
    reciprocal,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    softmax,
    softplus,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    sub,
    sum,
    swapaxes,
    tanh,
    transpose,
    tril,
    triu,
    var,
    where,
)
from .random import manual_seed
from .tensor import Tensor, tensor

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

__version__ = "0.1.0"

_SUBMODULES = {
    "nn", "optim", "data", "datasets", "callbacks", "metrics", "viz", "train", "io", "onnx",
    "distributed", "sklearn", "cli", "random", "backend",
}


def __getattr__(name: str):
    """Import submodules (gk.nn, gk.datasets, ...) on first use, keeping `import` fast."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'gradkit' has no attribute {name!r}")
