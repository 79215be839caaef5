"""predict's direct path for small in-memory inputs (gradkit/train/predict_fast.py): the
outputs, modes and read-only batches of the loader path; that path wherever it is needed."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.callbacks import Callback
from gradkit.train import predict_fast


def _model():
    gk.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))


class _Count(Callback):
    """A callback: forces fit.predict's loader path, counting its batches."""

    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_predict_batch_end(self, batch, logs=None):
        self.batches += 1


@pytest.mark.parametrize("n, batch_size", [(1, 256), (10, 4), (7, 7)])
def test_same_outputs_as_the_loader_path(rng, n, batch_size):
    model = _model()
    x = rng.standard_normal((n, 4)).astype(np.float32)
    assert predict_fast.predict(model, x, batch_size) is not None
    fast = model.predict(x, batch_size=batch_size)
    count = _Count()
    slow = model.predict(x, batch_size=batch_size, callbacks=[count])
    assert count.batches == -(-n // batch_size)  # the callback did take the loader path
    assert isinstance(fast, np.ndarray) and fast.shape == (n, 3)
    assert np.array_equal(fast, slow)
    assert np.array_equal(model.predict(gk.tensor(x), batch_size=batch_size), slow)


def test_eval_mode_inside_and_each_modules_mode_back_after(rng):
    model = _model()
    model.train()
    model[2].training = False
    x = rng.standard_normal((64, 4)).astype(np.float32)
    a = model.predict(x)
    assert np.array_equal(a, model.predict(x))  # dropout off: deterministic
    assert model.training and model[0].training and not model[2].training
    assert [m.training for m in predict_fast.modules(model)] == [True, True, True, False, True]


def test_batches_are_read_only_views_as_from_the_loader(rng):
    class Writes(nn.Module):
        def forward(self, x):
            x.data[...] = 0
            return x

    x = rng.standard_normal((3, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="read-only"):
        Writes().predict(x)
    assert not np.all(x == 0)


def test_other_inputs_take_the_loader_path(rng):
    model = _model()
    x = rng.standard_normal((5, 4))
    for args in [(x, 8), (x.astype(np.float32).tolist(), 8)]:
        assert predict_fast.predict(model, *args) is None
    x32 = x.astype(np.float32)
    assert predict_fast.predict(model, x32, 8, verbose=1) is None
    assert predict_fast.predict(model, x32, 8, callbacks=[_Count()]) is None
    assert np.array_equal(model.predict(x), model.predict(x32))  # float64 stored as float32

    class Custom(nn.Sequential):
        def predict_step(self, batch):
            return self(batch[0]) * 0

    custom = Custom(nn.Linear(4, 2))
    assert predict_fast.predict(custom, x32, 8) is None
    assert np.all(custom.predict(x32) == 0)


def test_models_returning_tuples_fall_back(rng):
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 2)

        def forward(self, x):
            y = self.lin(x)
            return y, y * 2

    x = rng.standard_normal((6, 4)).astype(np.float32)
    assert predict_fast.predict(Two(), x, 4) is None
    a, b = Two().predict(x, batch_size=4)
    assert a.shape == (6, 2) and np.allclose(b, 2 * a)
