"""gradkit: a light, fast neural-network framework on NumPy (CPU) and CuPy (GPU).

    import gradkit as gk
    x = gk.tensor([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward()      # x.grad == [2, 4]

This file is the curated public API. The layers below it (docs/architecture.md) import only
downwards. `nn`, `train`, `callbacks`, `viz`, `datasets`, `distributed`, `sklearn` and `cli`
load on first use (`Module.fit` loads `train` through its hook, `gradkit/nn/training.py`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

import numpy as np

from . import ops
from ._version import __version__
from .autograd import enable_grad, is_grad_enabled, no_grad
from .backend import cuda, random
from .backend.autocast import autocast
from .backend.config import config, show_config
from .backend.random import manual_seed
from .errors import AutogradError, DeviceError, DTypeError, GradcheckError, ShapeError
from .jacobians import hessian, jacobian, jvp, vjp
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
from .ops.creation import (
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
from .tensor import Tensor, tensor
from .transforms import grad, gradcheck, gradgradcheck, value_and_grad

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

# Round one's module paths of parts that now live inside a layer: `import gradkit.cuda`,
# `gradkit.random` and `from gradkit.onnx import export` keep working (onnx on first use).
for _name, _module in {"cuda": cuda, "random": random}.items():
    sys.modules.setdefault(f"{__name__}.{_name}", _module)
_ALIASES = {f"{__name__}.onnx": f"{__name__}.io.onnx"}


class _AliasLoader(importlib.abc.Loader):
    """Loads an old module path as the module that now holds its code (the same object)."""

    def __init__(self, real: str) -> None:
        self.real = real

    def create_module(self, spec):
        return importlib.import_module(self.real)

    def exec_module(self, module) -> None:
        sys.modules[self.real] = module


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        real = _ALIASES.get(name)
        return None if real is None else importlib.util.spec_from_loader(
            name, _AliasLoader(real))


sys.meta_path.append(_AliasFinder())

# gk.save & co. live in `io` (above nn): loaded on first use, keeping `import gradkit` fast.
_LAZY = {name: "io" for name in ("save", "load", "save_checkpoint", "load_checkpoint",
                                 "from_dlpack")}
_LAZY["GradScaler"] = "optim.grad_scaler"  # mixed precision's loss scaling (optim layer)
_LAZY["compile"] = "jit"  # gk.compile: traced, replayed steps (gradkit/jit)

_SUBMODULES = {
    "nn", "optim", "data", "datasets", "callbacks", "metrics", "viz", "io", "distributed",
    "sklearn", "cli", "backend", "transforms", "train", "jit", "tf",
}


def __getattr__(name: str):
    """Import submodules (gk.nn, gk.datasets, ...) on first use, keeping `import` fast."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    if name == "onnx":
        return importlib.import_module(f"{__name__}.onnx")
    raise AttributeError(f"module 'gradkit' has no attribute {name!r}")
