"""The names of gradkit's built-in modules: one table for everything that builds modules
from names (`model.compile`, `gradkit.sklearn`, `gradkit train`, `gk.save`/`gk.load`).

    from gradkit.nn import registry
    registry.ACTIVATIONS["tanh"]              # nn.Tanh
    registry.LOSSES["cross_entropy"]          # nn.CrossEntropyLoss
    registry.MODULES["Linear"]                # the classes the architecture JSON names
    registry.mlp([4, 16, 3], "relu", dropout=0.1)

A new layer goes into `_LAYERS` (then `gk.save` describes it: the architecture JSON reads
its constructor arguments back from the attributes of the same names, `gradkit.io.config`);
a new activation or loss also gets a lower-case name below. Optimizer names live one layer
over, in `gradkit.optim.registry` (`nn` does not import `optim`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TypeVar

from . import attention, conv, embedding, layers, losses, pooling, recurrent
from .containers import ModuleList, Sequential
from .layers import Dropout, Linear
from .module import Module

__all__ = ["ACTIVATIONS", "CONTAINERS", "LOSSES", "LOSS_KINDS", "MODULES", "get_activation",
           "get_loss", "lookup", "mlp"]

T = TypeVar("T")

_LAYERS: tuple[type[Module], ...] = (
    layers.Linear, layers.ReLU, layers.LeakyReLU, layers.Tanh, layers.Sigmoid, layers.GELU,
    layers.ELU, layers.Softplus, layers.Softmax, layers.LogSoftmax, layers.Dropout,
    layers.Flatten, layers.Identity, layers.BatchNorm1d, layers.LayerNorm,
    conv.Conv1d, conv.Conv2d, conv.ConvTranspose2d, conv.BatchNorm2d, conv.Dropout2d,
    pooling.MaxPool1d, pooling.MaxPool2d, pooling.AvgPool1d, pooling.AvgPool2d,
    pooling.AdaptiveAvgPool1d, pooling.AdaptiveAvgPool2d, pooling.Upsample,
    embedding.Embedding, recurrent.RNN, recurrent.LSTM, recurrent.GRU, recurrent.RNNCell,
    recurrent.LSTMCell, recurrent.GRUCell, attention.MultiheadAttention,
    attention.TransformerEncoderLayer, attention.TransformerEncoder,
)
_CONTAINERS: tuple[type[Module], ...] = (Sequential, ModuleList)
_LOSSES: tuple[type[Module], ...] = (
    losses.MSELoss, losses.L1Loss, losses.HuberLoss, losses.CrossEntropyLoss,
    losses.NLLLoss, losses.BCELoss, losses.BCEWithLogitsLoss,
)

#: Class name -> class of every module `gk.save` describes without help (layers,
#: containers, losses).
MODULES: Mapping[str, type[Module]] = MappingProxyType(
    {cls.__name__: cls for cls in (*_LAYERS, *_CONTAINERS, *_LOSSES)})
#: The class names whose children the architecture JSON lists.
CONTAINERS: frozenset[str] = frozenset(cls.__name__ for cls in _CONTAINERS)

#: Activation name -> layer class (the hidden activations of `mlp`, `gradkit train
#: --activation`, `gradkit.sklearn.mlp`).
ACTIVATIONS: Mapping[str, type[Module]] = MappingProxyType({
    "relu": layers.ReLU, "tanh": layers.Tanh, "sigmoid": layers.Sigmoid, "gelu": layers.GELU,
    "elu": layers.ELU, "leaky_relu": layers.LeakyReLU, "softplus": layers.Softplus,
})

#: Loss name -> loss class (`model.compile(loss=...)`, `gradkit.sklearn`); "l1" is "mae".
LOSSES: Mapping[str, type[Module]] = MappingProxyType({
    "cross_entropy": losses.CrossEntropyLoss, "mse": losses.MSELoss, "mae": losses.L1Loss,
    "l1": losses.L1Loss, "bce": losses.BCELoss, "bce_with_logits": losses.BCEWithLogitsLoss,
    "huber": losses.HuberLoss, "nll": losses.NLLLoss,
})

#: How `fit` checks and adapts targets for each built-in loss: "labels" (integer classes,
#: or class probabilities), "pointwise" (same shape as the output), "binary" (0/1 targets).
LOSS_KINDS: Mapping[type, str] = MappingProxyType({
    losses.CrossEntropyLoss: "labels", losses.NLLLoss: "labels",
    losses.MSELoss: "pointwise", losses.L1Loss: "pointwise", losses.HuberLoss: "pointwise",
    losses.BCELoss: "binary", losses.BCEWithLogitsLoss: "binary",
})


def lookup(table: Mapping[str, T], name: str, what: str, where: str, hint: str = "") -> T:
    """`table[name.lower()]`, or a ValueError naming `where`, the unknown name and every
    valid one (e.g. "compile: unknown loss 'hinge'; choose from ['bce', ...]")."""
    key = name.lower() if isinstance(name, str) else name
    if key not in table:
        raise ValueError(f"{where}: unknown {what} {name!r}; choose from {sorted(table)}{hint}")
    return table[key]


def get_activation(name: str, where: str = "activation") -> type[Module]:
    """The activation layer class called `name` (see `ACTIVATIONS`)."""
    return lookup(ACTIVATIONS, name, "activation", where)


def get_loss(name: str, where: str = "loss", hint: str = "") -> type[Module]:
    """The loss class called `name` (see `LOSSES`)."""
    return lookup(LOSSES, name, "loss", where, hint)


def mlp(sizes: Sequence[int], activation: str = "relu", dropout: float = 0.0) -> Sequential:
    """A multi-layer perceptron through the widths `sizes` (inputs, hidden..., outputs):
    Linear -> activation (-> Dropout when `dropout` > 0) for each hidden width, then a
    Linear to the outputs.

        mlp([784, 512, 512, 10], "relu", dropout=0.2)   # the `gradkit train` MNIST model
    """
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes needs at least the input and output widths, got {sizes}")
    act = get_activation(activation, "mlp")
    blocks: list[Module] = []
    for width, h in zip(sizes[:-2], sizes[1:-1]):
        blocks += [Linear(width, h), act()]
        if dropout:
            blocks.append(Dropout(dropout))
    blocks.append(Linear(sizes[-2], sizes[-1]))
    return Sequential(*blocks)
