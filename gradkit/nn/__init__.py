"""gradkit.nn: modules (PyTorch names), layers, losses, `functional` and `init`.

    import gradkit as gk
    from gradkit import nn

    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
"""

from . import functional, init
from .containers import ModuleList, Sequential
from .layers import (
    ELU,
    GELU,
    BatchNorm1d,
    Dropout,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from .module import IncompatibleKeys, Module, Parameter, StateDictError

__all__ = [
    "functional", "init",
    "Module", "Parameter", "Sequential", "ModuleList", "StateDictError", "IncompatibleKeys",
    "Linear", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "GELU", "ELU", "Softplus", "Softmax",
    "LogSoftmax", "Dropout", "Flatten", "Identity", "BatchNorm1d", "LayerNorm",
    "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss",
]
