"""`t.grad_fn`: the node that made a tensor, named as PyTorch names it (`MulBackward0`).

gradkit records each op under its own name (`tensor._op`: 'mul', 'reshape', ...); `NAMES`
maps those, and the dialect's own op names ('sum_dim', 'select', 'topk', ...), to PyTorch's
grad_fn class names. A name missing from the table is spelled PyTorch's way
(`'layer_norm'` -> `LayerNormBackward0`).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["NAMES", "GradFn", "AccumulateGrad", "grad_fn_name", "grad_fn_of"]

NAMES: dict[str, str] = {
    # arithmetic
    "add": "AddBackward0", "sub": "SubBackward0", "rsub": "RsubBackward1",
    "mul": "MulBackward0", "div": "DivBackward0", "rdiv": "MulBackward0",
    "pow": "PowBackward0", "square": "PowBackward0", "pow_tensor": "PowBackward1",
    "rpow": "PowBackward2", "neg": "NegBackward0", "abs": "AbsBackward0",
    "clip": "ClampBackward1", "clamp_tensor": "ClampBackward0",
    "maximum": "MaximumBackward0", "minimum": "MinimumBackward0", "where": "WhereBackward0",
    "astype": "ToCopyBackward0", "to": "ToCopyBackward0", "clone": "CloneBackward0",
    "contiguous": "CloneBackward0", "log1p": "Log1PBackward0",
    "round_decimals": "RoundBackward1", "alias": "AliasBackward0", "outer": "MulBackward0",
    # linear algebra
    "matmul": "UnsafeViewBackward0", "mm": "MmBackward0", "mv": "MvBackward0",
    "dot": "DotBackward0", "bmm": "BmmBackward0", "einsum": "ViewBackward0",
    # reductions
    "sum": "SumBackward0", "sum_dim": "SumBackward1", "mean": "MeanBackward0",
    "mean_dim": "MeanBackward1", "max": "MaxBackward1", "max_dim": "MaxBackward0",
    "min": "MinBackward1", "min_dim": "MinBackward0", "amax": "AmaxBackward0",
    "amin": "AminBackward0", "prod": "ProdBackward0", "prod_dim": "ProdBackward1",
    "std": "StdBackward0", "var": "VarBackward0", "logsumexp": "LogsumexpBackward0",
    "cumsum": "CumsumBackward0", "norm": "LinalgVectorNormBackward0",
    "softmax": "SoftmaxBackward0", "log_softmax": "LogSoftmaxBackward0",
    "sort": "SortBackward0", "topk": "TopkBackward0", "median": "MedianBackward0",
    "median_dim": "MedianBackward1", "mode": "ModeBackward0", "kthvalue": "KthvalueBackward0",
    # shapes and indexing
    "reshape": "ViewBackward0", "transpose": "PermuteBackward0",
    "swapaxes": "TransposeBackward0", "t": "TBackward0", "expand_dims": "UnsqueezeBackward0",
    "squeeze": "SqueezeBackward0", "squeeze_dim": "SqueezeBackward1",
    "broadcast_to": "ExpandBackward0", "repeat": "RepeatBackward0", "flip": "FlipBackward0",
    "concatenate": "CatBackward0", "stack": "StackBackward0", "split": "SplitBackward0",
    "split_sizes": "SplitWithSizesBackward0", "unbind": "UnbindBackward0",
    "select": "SelectBackward0", "slice": "SliceBackward0", "getitem": "IndexBackward0",
    "gather": "GatherBackward0", "scatter": "IndexPutBackward0",
    "scatter_src": "ScatterBackward0", "scatter_value": "ScatterBackward1",
    "scatter_add": "ScatterAddBackward0", "index_select": "IndexSelectBackward0",
    "masked_fill": "MaskedFillBackward0", "masked_select": "MaskedSelectBackward0",
    "repeat_interleave": "ViewBackward0", "roll": "RollBackward0",
    "tril": "TrilBackward0", "triu": "TriuBackward0", "pad": "ConstantPadNdBackward0",
    "setitem": "CopySlices",
    # neural network ops (gradkit.nn)
    "relu": "ReluBackward0", "leaky_relu": "LeakyReluBackward0", "elu": "EluBackward0",
    "gelu": "GeluBackward0", "softplus": "SoftplusBackward0", "sigmoid": "SigmoidBackward0",
    "tanh": "TanhBackward0", "linear": "AddmmBackward0", "linear+relu": "ReluBackward0",
    "linear+tanh": "TanhBackward0", "cross_entropy": "NllLossBackward0",
    "nll_loss": "NllLossBackward0", "mse_loss": "MseLossBackward0",
    "l1_loss": "MeanBackward0", "dropout": "MulBackward0",
    "binary_cross_entropy": "BinaryCrossEntropyBackward0",
    "binary_cross_entropy_with_logits": "BinaryCrossEntropyWithLogitsBackward0",
    "embedding": "EmbeddingBackward0", "batch_norm": "NativeBatchNormBackward0",
    "layer_norm": "NativeLayerNormBackward0", "conv1d": "ConvolutionBackward0",
    "conv2d": "ConvolutionBackward0", "conv_transpose2d": "ConvolutionBackward0",
}

_PARTS = re.compile(r"[a-z0-9]+")


def grad_fn_name(op: str | None) -> str:
    """PyTorch's grad_fn name for a gradkit op name."""
    name = NAMES.get(op or "")
    if name is None:
        name = "".join(p.capitalize() for p in _PARTS.findall(op or "node")) + "Backward0"
    return name


class GradFn:
    """The node that made a tensor (`t.grad_fn`): `name()` and `next_functions`."""

    __slots__ = ("_node",)

    def __init__(self, node: Any) -> None:
        self._node = node

    def name(self) -> str:
        """PyTorch's name of this node's class (`MulBackward0`)."""
        return grad_fn_name(self._node._op)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """(node, 0) for each input: its GradFn, AccumulateGrad for a leaf that requires
        grad, None for an input outside the graph."""
        return tuple((grad_fn_of(p, leaf=True), 0) for p in self._node._parents)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GradFn) and other._node is self._node

    def __hash__(self) -> int:
        return id(self._node)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self._node):#x}>"


class AccumulateGrad:
    """Where the gradient of a leaf that requires grad accumulates (`.variable`)."""

    __slots__ = ("variable",)

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        """'torch::autograd::AccumulateGrad'."""
        return "torch::autograd::AccumulateGrad"

    next_functions: tuple = ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self.variable):#x}>"


def grad_fn_of(t: Any, leaf: bool = False) -> Any:
    """`t.grad_fn` (None for a leaf), or for a leaf `AccumulateGrad` when `leaf` is set."""
    if t._vjp is not None:
        return GradFn(t)
    if leaf and getattr(t, "requires_grad", False):
        return AccumulateGrad(t)
    return None
