"""gradkit.nn: modules (PyTorch names), layers, losses, `functional` and `init`.

    import gradkit as gk
    from gradkit import nn

    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()

`registry` holds the names of the built-in modules (activations, losses, the classes the
architecture JSON names) and the `mlp` builder.
"""

from . import functional, init, registry, utils
from .attention import (
    MultiheadAttention,
    TransformerEncoder,
    TransformerEncoderLayer,
    sinusoidal_positional_encoding,
)
from .containers import ModuleList, Sequential
from .conv import BatchNorm2d, Conv1d, Conv2d, ConvTranspose2d, Dropout2d
from .embedding import Embedding
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
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    Upsample,
)
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .sequence_utils import pad_sequence, padding_mask

__all__ = [
    "functional", "init", "registry", "utils",
    "Module", "Parameter", "Sequential", "ModuleList", "StateDictError", "IncompatibleKeys",
    "Linear", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "GELU", "ELU", "Softplus", "Softmax",
    "LogSoftmax", "Dropout", "Flatten", "Identity", "BatchNorm1d", "LayerNorm",
    "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
    "BCEWithLogitsLoss",
    "Conv1d", "Conv2d", "ConvTranspose2d", "BatchNorm2d", "Dropout2d", "MaxPool1d", "MaxPool2d",
    "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "Upsample",
    "Embedding", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
    "TransformerEncoderLayer", "TransformerEncoder", "sinusoidal_positional_encoding",
    "pad_sequence", "padding_mask",
]
