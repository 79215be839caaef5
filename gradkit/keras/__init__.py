"""gradkit.keras: Keras 3's API and semantics on gradkit's core (`import gradkit.keras as
keras`): the same Tensors, Modules, optimizers and fit loop as the rest of gradkit.

    import gradkit.keras as keras
    from gradkit.keras import layers

    model = keras.Sequential([layers.Dense(16, activation="relu", input_shape=(2,)),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=20, validation_split=0.2, verbose=0)
    history.history["acc"]

What differs from Keras and what is missing: docs/keras.md. A Keras name that is missing
raises an AttributeError that names the gradkit way to do it.
"""

from __future__ import annotations

from typing import Any

from . import (
    activations,
    backend,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    saving,
    utils,
)
from ._missing import missing
from .engine import Layer
from .layers.core import Input, InputLayer
from .losses import Loss
from .metrics import Metric
from .models import Model, Sequential
from .optimizers import Optimizer
from .symbolic import KerasTensor
from .variables import KerasVariable as Variable

__version__ = "3.0.0+gradkit"
config = backend

__all__ = [
    "Input", "InputLayer", "Layer", "Model", "Sequential", "KerasTensor", "Variable", "Loss",
    "Metric", "Optimizer", "activations", "backend", "callbacks", "config", "datasets",
    "initializers", "layers", "losses", "metrics", "models", "optimizers", "regularizers",
    "saving", "utils",
]


def __getattr__(name: str) -> Any:
    raise missing("", name, __all__)
