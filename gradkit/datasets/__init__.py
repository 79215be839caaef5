"""Datasets as NumPy arrays: MNIST and Fashion-MNIST (found locally, in installed packages or
downloaded, always checked against pinned SHA-256s), the small iris and digits sets shipped
with gradkit, and scikit-learn-style synthetic makers. Needs nothing but NumPy."""

from .mnist import load_fashion_mnist, load_mnist
from .small import load_digits, load_iris
from .sources import DatasetUnavailable
from .synthetic import make_circles, make_classification, make_moons, make_regression

__all__ = [
    "DatasetUnavailable",
    "load_digits",
    "load_fashion_mnist",
    "load_iris",
    "load_mnist",
    "make_circles",
    "make_classification",
    "make_moons",
    "make_regression",
]
