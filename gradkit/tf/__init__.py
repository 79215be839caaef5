"""`import gradkit.tf as tf`: the low-level TensorFlow the course uses, over gradkit's core.

    import gradkit.tf as tf
    w = tf.Variable(tf.random.normal([3, 1]))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(x @ w - y))
    w.assign_sub(0.1 * tape.gradient(loss, w))

Tensors are `gradkit.tf.Tensor`s (gradkit Tensors that print like TF's); the graph, the ops
and the gradients are gradkit's. `tf.keras`, `tf.losses`, `tf.optimizers` and `tf.metrics`
are `gradkit.keras` (loaded on first use). A TF name gradkit lacks raises an
AttributeError that names the gradkit way. What differs from TF: docs/tensorflow.md.
"""

from __future__ import annotations

import builtins
import importlib
from typing import Any

import numpy as np

from .._version import __version__ as _gk_version
from ..tensor import Tensor as _Native
from . import config, data, math, nest, nn, random
from .config import device
from .function import function
from .math import (
    abs,
    add,
    add_n,
    ceil,
    cos,
    cumsum,
    divide,
    exp,
    floor,
    log,
    maximum,
    minimum,
    multiply,
    negative,
    pow,
    reduce_all,
    reduce_any,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_std,
    reduce_sum,
    reduce_variance,
    round,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    subtract,
    tanh,
    truediv,
)
from .missing import missing_attribute
from .ops import (
    argmax,
    argmin,
    boolean_mask,
    cast,
    clip_by_value,
    concat,
    constant,
    einsum,
    equal,
    expand_dims,
    eye,
    fill,
    gather,
    greater,
    greater_equal,
    identity,
    less,
    less_equal,
    linspace,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    matmul,
    not_equal,
    one_hot,
    ones,
    ones_like,
    pad,
    range,
    rank,
    reshape,
    shape,
    size,
    split,
    squeeze,
    stack,
    stop_gradient,
    tile,
    transpose,
    unstack,
    where,
    zeros,
    zeros_like,
)
from .tape import GradientTape, UnconnectedGradients
from .tensor import Tensor, TensorShape, convert_to_tensor
from .variable import Variable

__version__ = f"2.16.0+gradkit.{_gk_version}"

# ---- dtypes: NumPy's (so `x.dtype == tf.float32` and gradkit's functions accept them) ------
float16 = half = np.dtype("float16")
float32 = np.dtype("float32")
float64 = double = np.dtype("float64")
int8, int16, int32, int64 = (np.dtype(f"int{n}") for n in (8, 16, 32, 64))
uint8, uint16, uint32, uint64 = (np.dtype(f"uint{n}") for n in (8, 16, 32, 64))
bool = np.dtype("bool")  # noqa: A001 - TF's name
complex64, complex128 = np.dtype("complex64"), np.dtype("complex128")
DType = np.dtype
newaxis = None


def as_dtype(type_value: Any) -> np.dtype:
    """A dtype from a name, a NumPy type or a dtype."""
    return np.dtype(type_value)


def executing_eagerly() -> builtins.bool:
    """Always True: gradkit runs each op at once."""
    return True


def is_tensor(x: Any) -> builtins.bool:
    """Whether `x` is a tensor (a gradkit or tf tensor, or a tf.Variable)."""
    return isinstance(x, _Native)


def norm(tensor: Any, ord: Any = "euclidean", axis: Any = None, keepdims: Any = None,
         name: str | None = None) -> Tensor:
    """The Euclidean norm over `axis` (all elements when None)."""
    if ord not in ("euclidean", "fro", 2):
        raise NotImplementedError(f"tf.norm: ord={ord!r} is not in gradkit.tf; compose it "
                                  "from tf.reduce_sum and tf.abs")
    return sqrt(reduce_sum(square(tensor), axis, builtins.bool(keepdims)))


# `tf.keras` & co. are gradkit.keras, imported on first use (gradkit.tf works without it).
_KERAS = {"keras": None, "losses": "losses", "optimizers": "optimizers",
          "metrics": "metrics", "initializers": "initializers",
          "activations": "activations", "regularizers": "regularizers"}


def __getattr__(name: str) -> Any:
    """tf.keras / tf.losses / tf.optimizers / tf.metrics from gradkit.keras; an
    AttributeError naming the gradkit way for a TF name gradkit.tf lacks."""
    if name in _KERAS:
        try:
            keras = importlib.import_module("gradkit.keras")
        except ModuleNotFoundError as exc:
            if exc.name not in ("gradkit.keras", "gradkit"):
                raise
            raise AttributeError(f"tf.{name} is gradkit.keras, which this gradkit does not "
                                 "have") from None
        sub = _KERAS[name]
        return keras if sub is None else getattr(keras, sub)
    raise missing_attribute("gradkit.tf", name)

