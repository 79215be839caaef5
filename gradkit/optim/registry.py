"""Optimizer names: the one table that `model.compile("adam")`, `gradkit.sklearn` and
`gradkit train --optimizer` read (layer names are in `gradkit.nn.registry`).

    from gradkit.optim import registry
    registry.OPTIMIZERS["adamw"]              # optim.AdamW
    registry.create("sgd", model.parameters())  # SGD with Keras's default lr, 0.01

A new optimizer gets a lower-case name here, with Keras's default learning rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from .optimizer import Optimizer
from .optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

__all__ = ["DEFAULT_LR", "OPTIMIZERS", "create", "get_optimizer"]

#: Optimizer name -> class.
OPTIMIZERS: Mapping[str, type[Optimizer]] = MappingProxyType({
    "sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad,
})

#: The learning rate a name alone gets: Keras's defaults (0.01 for SGD, 0.001 for the others).
DEFAULT_LR: Mapping[str, float] = MappingProxyType({
    "sgd": 0.01, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-3,
})


def get_optimizer(name: str, where: str = "optimizer", hint: str = "") -> type[Optimizer]:
    """The optimizer class called `name` (any case), or a ValueError naming `where`, the
    unknown name and every valid one."""
    key = name.lower() if isinstance(name, str) else name
    if key not in OPTIMIZERS:
        raise ValueError(f"{where}: unknown optimizer {name!r}; choose from "
                         f"{sorted(OPTIMIZERS)}{hint}")
    return OPTIMIZERS[key]


def create(name: str, params: Iterable, lr: float | None = None, *, where: str = "optimizer",
           hint: str = "", **options: Any) -> Optimizer:
    """The optimizer called `name` over `params`; `lr=None` takes `DEFAULT_LR[name]`.
    `options` go to its constructor (e.g. `momentum=0.9`)."""
    cls: Callable[..., Optimizer] = get_optimizer(name, where, hint)
    return cls(params, lr=DEFAULT_LR[name.lower()] if lr is None else lr, **options)
