"""`import gradkit.torch as torch`: PyTorch's names and semantics over gradkit's core.

    import gradkit.torch as torch
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x ** 2).sum()
    y.backward()                     # x.grad: tensor([2., 4.])
    values, indices = torch.max(torch.randn(4, 3), 1)

Tensors are `gradkit.torch.Tensor`s: gradkit Tensors (every gradkit function takes them)
with PyTorch's methods, dtypes (`torch.float32`), devices and printing. The graph, the ops
and the gradients are gradkit's. `torch.nn`, `torch.optim`, `torch.utils`, `torch.amp`, `torch.save`
and `torch.load` load on first use. A PyTorch name gradkit lacks raises an AttributeError that
names the gradkit way. How the dialects meet and what differs: docs/torch.md.
"""

from __future__ import annotations

import importlib
import math as _math
from typing import Any

from .._version import __version__ as _gk_version
from . import autograd, backends, cuda, return_types
from .autograd import functional as _functional  # noqa: F401 - torch.autograd.functional
from .compare import (
    allclose,
    eq,
    equal,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
    not_equal,
)
from .convert import clone, detach, is_complex, is_floating_point, is_tensor, numel
from .creation import (
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    scalar_tensor,
    tensor,
    zeros,
    zeros_like,
)
from .device import device, get_default_device, set_default_device
from .dtypes import (
    Size,
    bool,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    dtype,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
    uint16,
    uint32,
    uint64,
)
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .indexing import (
    argwhere,
    gather,
    index_select,
    masked_fill,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    take_along_dim,
    where,
)
from .legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from .math import (
    abs,
    absolute,
    acos,
    add,
    arccos,
    arcsin,
    arctan,
    asin,
    atan,
    bmm,
    ceil,
    clamp,
    clip,
    cos,
    cosh,
    div,
    divide,
    dot,
    einsum,
    erf,
    exp,
    exp2,
    expm1,
    fix,
    float_power,
    floor,
    floor_divide,
    fmod,
    frac,
    ger,
    lerp,
    log,
    log1p,
    log2,
    log10,
    mm,
    mul,
    multiply,
    mv,
    neg,
    negative,
    outer,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    rsub,
    sgn,
    sigmoid,
    sign,
    silu,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    subtract,
    tan,
    tanh,
    true_divide,
    trunc,
)
from .methods import METHODS  # noqa: F401 - installs the Tensor methods
from .missing import missing_attribute
from .printing import get_printoptions, printoptions, set_printoptions
from .random import (
    Generator,
    bernoulli,
    get_rng_state,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from .reduce import (
    all,
    any,
    count_nonzero,
    cumsum,
    log_softmax,
    logsumexp,
    mean,
    nansum,
    norm,
    prod,
    softmax,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .select import (
    amax,
    amin,
    argmax,
    argmin,
    argsort,
    kthvalue,
    max,
    maximum,
    median,
    min,
    minimum,
    mode,
    sort,
    topk,
)
from .shape import (
    atleast_2d,
    cat,
    chunk,
    concat,
    concatenate,
    expand,
    flatten,
    flip,
    fliplr,
    flipud,
    hstack,
    moveaxis,
    movedim,
    narrow,
    permute,
    repeat_interleave,
    reshape,
    roll,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    tile,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
    view_as,
    vstack,
)
from .tensor import Tensor, matmul

__version__ = f"2.13.0+gradkit.{_gk_version}"
pi, e, inf, nan = _math.pi, _math.e, _math.inf, _math.nan
strided, contiguous_format, preserve_format = "strided", "contiguous_format", "preserve_format"


def set_num_interop_threads(n: Any) -> None:
    """Accepted and ignored (gradkit's threads are NumPy's BLAS threads)."""


# ---- the lazy hooks: the other parts of the dialect load on first use ------------------------
#: name -> (module under gradkit.torch, attribute of it or None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "nn": ("nn", None),
    "optim": ("optim", None),
    "utils": ("utils", None),
    "save": ("serialization", "save"),
    "load": ("serialization", "load"),
    "amp": ("amp", None),
    "autocast": ("amp", "autocast"),
}


def __getattr__(name: str) -> Any:
    """torch.nn / optim / utils / save / load from their modules (loaded on first use); an
    AttributeError naming the gradkit way for a PyTorch name gradkit.torch lacks."""
    if name in _LAZY:
        module, attr = _LAZY[name]
        try:
            found = importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
            raise AttributeError(f"gradkit.torch.{name} is not in this gradkit "
                                 f"(gradkit/torch/{module} is missing)") from None
        value = found if attr is None else getattr(found, attr)
        globals()[name] = value
        return value
    raise missing_attribute("gradkit.torch", name)
