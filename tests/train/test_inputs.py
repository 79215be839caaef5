"""inputs: arrays, Tensors and lists to loaders; the validation tail; predict inputs."""

import numpy as np
import pytest

import gradkit as gk
from gradkit.data import DataLoader, TensorDataset
from gradkit.train import inputs


def test_to_array_accepts_arrays_tensors_and_lists():
    a = np.arange(6.0).reshape(3, 2)
    assert inputs.to_array(a, "x", "fit") is a
    t = gk.tensor(a)
    assert inputs.to_array(t, "x", "fit") is t.data
    assert inputs.to_array([[1, 2], [3, 4]], "x", "fit").dtype == np.int64
    with pytest.raises(ValueError, match="x is a scalar"):
        inputs.to_array(3.0, "x", "fit")
    with pytest.raises(TypeError, match="y must be a numeric array"):
        inputs.to_array([[1, 2], [3]], "y", "fit")


@pytest.mark.parametrize("n, fraction, n_val", [(60, 0.2, 12), (10, 0.25, 2), (7, 0.5, 3)])
def test_split_tail_follows_keras(n, fraction, n_val):
    x, y = np.arange(n), np.arange(n) * 10
    (xt, yt), (xv, yv) = inputs.split_tail(x, y, fraction)
    assert len(xv) == n_val  # n - ceil(n * (1 - fraction))
    np.testing.assert_array_equal(np.concatenate([xt, xv]), x)
    np.testing.assert_array_equal(yv, xv * 10)


def test_float64_arrays_become_float32_batches(blobs):
    x, y = blobs
    checker = inputs.Checker(gk.nn.Linear(4, 3), None, "cpu", targets=False)
    train, val = inputs.fit_loaders(checker, x.astype(np.float64), y, 16, 0.25, None,
                                    shuffle=True, need_y=True)
    xb, yb = next(iter(train))
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    assert len(train.dataset) == 45 and len(val.dataset) == 15


def test_predict_inputs(blobs):
    x, _ = blobs
    loader = inputs.predict_loader(x, 16, "cpu")
    assert len(loader) == 4 and loader.device is None  # host data for a CPU model: no moves
    given = DataLoader(TensorDataset(x), batch_size=5)
    assert inputs.predict_loader(given, 16, "cpu") is given
    with pytest.raises(ValueError, match="predict: x is empty"):
        inputs.predict_loader(x[:0], 16, "cpu")
