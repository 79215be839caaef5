"""Bad input to fit is refused with a clear error before training starts."""

import numpy as np
import pytest

from gradkit import nn
from gradkit.callbacks import LambdaCallback
from gradkit.train import checks


@pytest.fixture
def setup(blobs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 3))
    model.compile("sgd", "cross_entropy", ["accuracy"])
    started = []
    cb = LambdaCallback(on_train_begin=lambda logs: started.append(True))
    return model, x, y, cb, started


def _refused(setup, exc, match, x=None, y=None, **kwargs):
    model, x0, y0, cb, started = setup
    before = model.state_dict()
    with pytest.raises(exc, match=match):
        model.fit(x0 if x is None else x, y0 if y is None else y, verbose=0, callbacks=[cb],
                  **kwargs)
    assert not started, "the error came after training started"
    for name, w in model.state_dict().items():
        np.testing.assert_array_equal(w, before[name])


def test_length_mismatch(setup):
    _refused(setup, ValueError, r"x has 60 samples but y has 50", y=setup[2][:50])


def test_empty_arrays(setup):
    x, y = setup[1], setup[2]
    _refused(setup, ValueError, r"x is empty \(0 samples\)", x=x[:0], y=y[:0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_x(setup, bad):
    x = setup[1].copy()
    x[17, 2] = bad
    _refused(setup, ValueError, r"x contains .*(NaN|inf).*first in sample 17", x=x)


def test_float_labels_for_cross_entropy(setup):
    _refused(setup, TypeError, r"needs integer class labels.*float32.*astype\(np.int64\)",
             y=setup[2].astype(np.float32))


def test_labels_out_of_range_for_the_outputs(setup):
    _refused(setup, ValueError, r"labels from 1 to 3, but the model outputs 3 classes.*"
             r"\[0, 3\)", y=setup[2] + 1)
    _refused(setup, ValueError, r"labels from -1", y=setup[2] - 1)


def test_integer_one_hot_rows_for_cross_entropy(setup):
    _refused(setup, ValueError, r"integer y of shape \(60, 3\)",
             y=np.eye(3, dtype=np.int64)[setup[2]])


@pytest.mark.parametrize("split", [1.0, -0.1, 1.5, "0.2"])
def test_validation_split_outside_0_1(setup, split):
    _refused(setup, ValueError, r"validation_split must be a number in \[0, 1\)",
             validation_split=split)


def test_validation_split_leaving_no_samples(setup):
    _refused(setup, ValueError, r"leaves no validation samples", validation_split=0.001)


def test_bad_validation_data(setup):
    x, y = setup[1], setup[2]
    _refused(setup, ValueError, r"validation_data must be a pair", validation_data=x)
    _refused(setup, ValueError, r"validation_data: y holds class labels from 5",
             validation_data=(x, y + 5))
    _refused(setup, ValueError, r"not both", validation_split=0.2, validation_data=(x, y))


def test_missing_targets_and_non_numeric_input(setup):
    model, x, _, cb, _ = setup
    with pytest.raises(ValueError, match="y is missing"):
        model.fit(x, None, verbose=0)
    with pytest.raises(TypeError, match="x must be a numeric array"):
        model.fit([["a", "b"]], [0], verbose=0)


def test_wrong_input_width_names_the_layer(setup):
    _refused(setup, ValueError, r"Linear\(in_features=4.*got input of shape \(2, 2, 2\)",
             x=setup[1].reshape(60, 2, 2))


def test_compile_not_called(blobs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 3))
    for call in (lambda: model.fit(x, y), lambda: model.evaluate(x, y)):
        with pytest.raises(RuntimeError, match=r"call model.compile\(.*\) before"):
            call()


def test_binary_losses_check_targets(blobs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())
    model.compile("sgd", "bce")
    with pytest.raises(ValueError, match=r"needs targets in \[0, 1\].*0 to 2.*cross_entropy"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"outputs \(1,\) per sample but y has \(2,\)"):
        model.fit(x, np.ones((60, 2), np.float32), verbose=0)
    model.fit(x, (y > 0).astype(np.int64), verbose=0)  # integer 0/1 targets are fine


def test_class_labels_with_an_element_wise_loss(blobs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 3))
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"outputs \(3,\) per sample but y has \(\).*"
                                         r"use loss='cross_entropy'"):
        model.fit(x, y, verbose=0)


def test_check_finite_survives_float32_overflow_in_the_fast_sum():
    big = np.full((4, 3), 3e38, np.float32)  # the sum overflows, every value is finite
    checks.check_finite(big, "x", "fit")
    big[2, 1] = np.inf
    with pytest.raises(ValueError, match="0 NaN and 1 inf values"):
        checks.check_finite(big, "x", "fit")
