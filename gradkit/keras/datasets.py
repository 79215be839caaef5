"""`keras.datasets`: `mnist.load_data()` and `fashion_mnist.load_data()` as Keras returns
them, `(x_train, y_train), (x_test, y_test)` of uint8 arrays, read by gradkit's loaders
(`gradkit.datasets.load_mnist`: the files are looked for locally, then downloaded)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..datasets import load_fashion_mnist, load_mnist
from ._missing import missing

__all__ = ["mnist", "fashion_mnist"]


class _Dataset:
    """A Keras dataset module: `load_data()`."""

    def __init__(self, name: str, loader: Callable[..., Any]) -> None:
        self.__name__, self._loader = name, loader

    def load_data(self, path: Any = None) -> tuple:
        """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28), uint8 labels."""
        (x_train, y_train), (x_test, y_test) = self._loader()
        return ((np.asarray(x_train, dtype=np.uint8), np.asarray(y_train, dtype=np.uint8)),
                (np.asarray(x_test, dtype=np.uint8), np.asarray(y_test, dtype=np.uint8)))

    def __repr__(self) -> str:
        return f"<keras.datasets.{self.__name__} (gradkit)>"


mnist = _Dataset("mnist", load_mnist)
fashion_mnist = _Dataset("fashion_mnist", load_fashion_mnist)


def __getattr__(name: str) -> Any:
    raise missing("datasets", name, __all__)
