"""`torch.nn` (`import gradkit.torch.nn as nn`, or `torch.nn`): PyTorch's modules over
gradkit's own layers.

    model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 1))
    loss = nn.MSELoss()(model(x), y)

Modules return `torch.Tensor`s, their parameters are `nn.Parameter`s (also `torch.Tensor`s),
`state_dict()` has PyTorch's keys and shapes, and models print as PyTorch prints them. A
gradkit layer set on a dialect module becomes its dialect class in place. A name gradkit
lacks raises an AttributeError that says what to use instead.
"""

from __future__ import annotations

from typing import Any

from . import functional, init, utils
from ._missing import missing_attribute
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    Dropout2d,
    MaxPool1d,
    MaxPool2d,
    Upsample,
)
from .layers import (
    ELU,
    GELU,
    BatchNorm1d,
    Dropout,
    Embedding,
    Flatten,
    Hardtanh,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
    Unflatten,
)
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module, Parameter
from .sequence import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    MultiheadAttention,
    RNNCell,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList",
    "ModuleDict", "ParameterList", "ParameterDict",
    "Linear", "Identity", "ReLU", "ReLU6", "SiLU", "Hardtanh", "Tanh", "Sigmoid", "GELU",
    "LeakyReLU", "ELU", "Softplus", "Softmax", "LogSoftmax", "Dropout", "Flatten", "Unflatten",
    "BatchNorm1d", "LayerNorm", "Embedding",
    "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "BatchNorm2d", "Dropout2d", "Upsample",
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
    "TransformerEncoderLayer", "TransformerEncoder",
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss", "KLDivLoss",
]


def __getattr__(name: str) -> Any:
    raise missing_attribute("gradkit.torch.nn", name)
