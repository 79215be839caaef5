"""iris and digits: shipped with gradkit, checked, equal to scikit-learn's copies."""

from __future__ import annotations

import numpy as np
import pytest

from gradkit.datasets import load_digits, load_iris, small
from gradkit.datasets.sources import ChecksumError


def test_iris() -> None:
    x, y = load_iris()
    assert x.shape == (150, 4) and x.dtype == np.float32
    assert y.shape == (150,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert x[0].tolist() == pytest.approx([5.1, 3.5, 1.4, 0.2])
    assert x.min() > 0 and x.max() < 8
    # one class is linearly separable: setosa's petals are short
    assert x[y == 0, 2].max() < x[y != 0, 2].min()


def test_digits() -> None:
    x, y = load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert x.min() == 0 and x.max() == 16 and np.all(x == np.round(x))
    assert y[:10].tolist() == list(range(10))


def test_fresh_arrays_each_call() -> None:
    x, _ = load_iris()
    x[:] = 0
    assert load_iris()[0].max() > 0


def test_damaged_file_refused(monkeypatch) -> None:
    monkeypatch.setitem(small._FILES, "iris.csv", "0" * 64)
    with pytest.raises(ChecksumError, match="bundled iris.csv is damaged"):
        load_iris()


def test_same_as_scikit_learn() -> None:
    datasets = pytest.importorskip("sklearn.datasets")
    for ours, theirs in ((load_iris, datasets.load_iris), (load_digits, datasets.load_digits)):
        x, y = ours()
        sx, sy = theirs(return_X_y=True)
        np.testing.assert_array_equal(x, sx.astype(np.float32))
        np.testing.assert_array_equal(y, sy)
