"""Shared data for the training tests: the frameworks lesson's 2-D classification set."""

import numpy as np
import pytest

from gradkit.datasets import make_classification


def lesson_split():
    """make_classification as in the lesson, min-max scaled per feature, 70/30 split."""
    x, y = make_classification(n_samples=100, n_features=2, n_redundant=0, n_informative=2,
                               flip_y=0.05, class_sep=1.5, random_state=0)
    x = ((x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))).astype(np.float32)
    return x[:70], y[:70], x[70:], y[70:]


@pytest.fixture
def lesson():
    return lesson_split()


@pytest.fixture
def blobs(rng):
    """A small 3-class problem (60 samples, 4 features) for fast callback tests."""
    centers = rng.normal(size=(3, 4)) * 3
    y = np.arange(60) % 3
    x = (centers[y] + rng.normal(size=(60, 4))).astype(np.float32)
    return x, y.astype(np.int64)
