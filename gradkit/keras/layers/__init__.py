"""`keras.layers`: Keras 3's layers on gradkit (channels-last, Keras's weights and
defaults). A layer Keras has and this package lacks raises an error naming the gradkit way.

    from gradkit.keras import layers
    layers.Dense(64, activation="relu", input_shape=(4,))
"""

from __future__ import annotations

from typing import Any

from .._missing import missing
from ..engine import Layer
from .convolutional import (
    AveragePooling1D,
    AveragePooling2D,
    Conv1D,
    Conv2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from .core import (
    ELU,
    Activation,
    Dense,
    Dropout,
    Flatten,
    Identity,
    Input,
    InputLayer,
    Lambda,
    LeakyReLU,
    ReLU,
    Rescaling,
    Reshape,
    Softmax,
)
from .merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .normalization import BatchNormalization, LayerNormalization, Normalization
from .recurrent import GRU, LSTM, Bidirectional, Embedding, SimpleRNN

MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, \
    AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
Convolution1D, Convolution2D = Conv1D, Conv2D

__all__ = [
    "Layer", "Input", "InputLayer", "Dense", "Activation", "Dropout", "Flatten", "Reshape",
    "Lambda", "Rescaling", "Identity", "ReLU", "Softmax", "LeakyReLU", "ELU",
    "BatchNormalization", "LayerNormalization", "Normalization", "Conv1D", "Conv2D",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "Convolution1D", "Convolution2D", "Embedding",
    "SimpleRNN", "LSTM", "GRU", "Bidirectional", "Concatenate", "Add", "Subtract", "Multiply",
    "Average", "Maximum", "Minimum", "Dot", "concatenate", "add", "subtract", "multiply",
    "average", "maximum", "minimum", "dot", "LAYERS",
]

#: Class name -> layer class, for rebuilding saved models (`keras.models.load_model`).
LAYERS: dict[str, type] = {name: obj for name, obj in dict(globals()).items()
                           if isinstance(obj, type) and issubclass(obj, Layer)}


def __getattr__(name: str) -> Any:
    raise missing("layers", name, __all__)
