"""gradkit.keras against Keras 3 itself (PyTorch backend): losses and their gradients,
metrics over several batches, optimizer steps from the same weights and gradients, and the
statistics of the initialisers. Skipped, with the reason, where Keras cannot be imported."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.keras as keras

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
R = np.random.default_rng(7)


def _np(ref, t):
    return np.asarray(ref.ops.convert_to_numpy(t))


def _probs(n, c):
    p = R.random((n, c)).astype(np.float32) + 0.05
    return p / p.sum(axis=1, keepdims=True)


_LABELS = R.integers(0, 4, 6)
_ONE_HOT = np.eye(4, dtype=np.float32)[_LABELS]
_BINARY = R.integers(0, 2, (6, 1)).astype(np.float32)
_SATURATED = np.array([[0.0], [1.0], [1.0], [0.5], [1e-9], [0.999]], dtype=np.float32)
_REAL = R.normal(size=(6, 3)).astype(np.float32)
_REAL2 = R.normal(size=(6, 3)).astype(np.float32)
_POSITIVE = np.abs(_REAL) + 0.1

LOSS_CASES = [
    ("BinaryCrossentropy", {}, _BINARY, _SATURATED),  # clipping at 1e-7: 16.1, not 100
    ("BinaryCrossentropy", {}, _BINARY[:, 0], R.random((6, 1)).astype(np.float32)),
    ("BinaryCrossentropy", {"from_logits": True}, _BINARY, _REAL[:, :1] * 4),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, _BINARY, R.random((6, 1)).astype(
        np.float32)),
    ("CategoricalCrossentropy", {}, _ONE_HOT, _probs(6, 4)),
    ("CategoricalCrossentropy", {}, _ONE_HOT, np.eye(4, dtype=np.float32)[(_LABELS + 1) % 4]),
    ("CategoricalCrossentropy", {"from_logits": True}, _ONE_HOT, R.normal(size=(6, 4)).astype(
        np.float32)),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, _ONE_HOT, _probs(6, 4)),
    ("SparseCategoricalCrossentropy", {}, _LABELS, _probs(6, 4)),
    ("SparseCategoricalCrossentropy", {}, _LABELS[:, None], _probs(6, 4)),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, _LABELS,
     R.normal(size=(6, 4)).astype(np.float32)),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, R.integers(0, 4, (3, 5)),
     R.normal(size=(3, 5, 4)).astype(np.float32)),
    ("MeanSquaredError", {}, _REAL, _REAL2),
    ("MeanSquaredError", {}, _REAL[:, 0], _REAL2[:, :1]),
    ("MeanAbsoluteError", {}, _REAL, _REAL2),
    ("MeanAbsolutePercentageError", {}, _REAL, _REAL2),
    ("MeanSquaredLogarithmicError", {}, _POSITIVE, np.abs(_REAL2)),
    ("Huber", {"delta": 0.7}, _REAL, _REAL2),
    ("LogCosh", {}, _REAL, _REAL2),
    ("Hinge", {}, _BINARY, _REAL[:, :1]),
    ("SquaredHinge", {}, _BINARY, _REAL[:, :1]),
    ("CategoricalHinge", {}, _ONE_HOT, R.normal(size=(6, 4)).astype(np.float32)),
    ("KLDivergence", {}, _probs(6, 4), _probs(6, 4)),
    ("Poisson", {}, _POSITIVE, np.abs(_REAL2)),
    ("CosineSimilarity", {}, _REAL, _REAL2),
]


@pytest.mark.parametrize("name,kwargs,y_true,y_pred", LOSS_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(LOSS_CASES)])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", None])
def test_losses_and_their_gradients_equal_keras(ref, name, kwargs, y_true, y_pred, reduction):
    import torch

    theirs = getattr(ref.losses, name)(reduction=reduction, **kwargs)
    p = torch.tensor(y_pred, requires_grad=True)
    want = theirs(torch.tensor(y_true), p)
    want.sum().backward()
    ours = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    q = gk.tensor(y_pred, requires_grad=True)
    got = ours(y_true, q)
    got.sum().backward()
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=2e-4, atol=1e-6)


def test_the_saturated_binary_crossentropy_is_kerass_not_gradkits_floor(ref):
    y, p = np.array([[1.0]], np.float32), np.array([[0.0]], np.float32)
    want = float(_np(ref, ref.losses.binary_crossentropy(y, p))[0])
    got = float(keras.losses.binary_crossentropy(y, p).numpy()[0])
    assert got == pytest.approx(want, rel=1e-6)
    assert 16.0 < got < 16.2  # -log(1e-7); gradkit's BCELoss would say 100


METRIC_CASES = [
    ("BinaryAccuracy", {}, lambda n: (R.integers(0, 2, (n, 1)), R.random((n, 1)))),
    ("BinaryAccuracy", {}, lambda n: (R.integers(0, 2, n), R.random((n, 1)))),
    ("BinaryAccuracy", {"threshold": 0.3}, lambda n: (R.integers(0, 2, (n, 3)),
                                                      R.random((n, 3)))),
    ("CategoricalAccuracy", {}, lambda n: (np.eye(5)[R.integers(0, 5, n)], R.random((n, 5)))),
    ("SparseCategoricalAccuracy", {}, lambda n: (R.integers(0, 5, n), R.random((n, 5)))),
    ("SparseCategoricalAccuracy", {}, lambda n: (R.integers(0, 5, (n, 1)), R.random((n, 5)))),
    ("TopKCategoricalAccuracy", {"k": 2}, lambda n: (np.eye(5)[R.integers(0, 5, n)],
                                                     R.random((n, 5)))),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, lambda n: (R.integers(0, 5, n),
                                                           R.random((n, 5)))),
    ("MeanSquaredError", {}, lambda n: (R.normal(size=(n, 2)), R.normal(size=(n, 2)))),
    ("MeanSquaredError", {}, lambda n: (R.normal(size=n), R.normal(size=(n, 1)))),
    ("MeanAbsoluteError", {}, lambda n: (R.normal(size=(n, 2)), R.normal(size=(n, 2)))),
    ("RootMeanSquaredError", {}, lambda n: (R.normal(size=(n, 2)), R.normal(size=(n, 2)))),
    ("MeanAbsolutePercentageError", {}, lambda n: (R.normal(size=(n, 2)),
                                                   R.normal(size=(n, 2)))),
    ("BinaryCrossentropy", {}, lambda n: (R.integers(0, 2, (n, 1)), R.random((n, 1)))),
    ("SparseCategoricalCrossentropy", {}, lambda n: (R.integers(0, 3, n), _probs(n, 3))),
    ("Precision", {}, lambda n: (R.integers(0, 2, (n, 1)), R.random((n, 1)))),
    ("Recall", {}, lambda n: (R.integers(0, 2, n), R.random((n, 1)))),
    ("AUC", {}, lambda n: (R.integers(0, 2, (5 * n, 1)), R.random((5 * n, 1)))),
]


@pytest.mark.parametrize("name,kwargs,make", METRIC_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(METRIC_CASES)])
def test_metrics_over_batches_equal_keras(ref, name, kwargs, make):
    theirs, ours = getattr(ref.metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for n in (5, 8, 3):  # batches of different sizes: every element weighs the same
        y, p = make(n)
        y, p = y.astype(np.float32 if y.dtype.kind == "f" else np.int64), p.astype(np.float32)
        theirs.update_state(y, p)
        ours.update_state(y, p)
    assert ours.result() == pytest.approx(float(_np(ref, theirs.result())), rel=1e-5, abs=1e-6)
    ours.reset_state()
    assert ours.result() == 0.0


OPTIMIZER_CASES = [
    ("SGD", {}), ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"learning_rate": 0.1, "weight_decay": 0.01}),
    ("Adam", {}), ("Adam", {"learning_rate": 0.05, "beta_1": 0.8, "amsgrad": True}),
    ("Adam", {"learning_rate": 0.01, "clipnorm": 0.5}),
    ("Adam", {"learning_rate": 0.01, "global_clipnorm": 0.3}),
    ("Adam", {"learning_rate": 0.01, "clipvalue": 0.2}),
    ("AdamW", {}), ("AdamW", {"learning_rate": 0.02, "weight_decay": 0.1}),
    ("RMSprop", {}), ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"learning_rate": 0.1}), ("Adamax", {"learning_rate": 0.02}),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZER_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(OPTIMIZER_CASES)])
def test_optimizer_steps_equal_keras(ref, name, kwargs):
    w0 = [R.normal(size=(4, 3)).astype(np.float32), R.normal(size=(3,)).astype(np.float32)]
    grads = [[R.normal(size=w.shape).astype(np.float32) for w in w0] for _ in range(4)]
    theirs_vars = [ref.Variable(w.copy()) for w in w0]
    theirs = getattr(ref.optimizers, name)(**kwargs)
    ours_vars = [gk.nn.Parameter(gk.tensor(w.copy())) for w in w0]
    ours = getattr(keras.optimizers, name)(**kwargs)
    for step in grads:
        theirs.apply_gradients([(ref.ops.convert_to_tensor(g), v)
                                for g, v in zip(step, theirs_vars)])
        ours.apply_gradients(list(zip(step, ours_vars)))
        for a, b in zip(ours_vars, theirs_vars):
            np.testing.assert_allclose(a.numpy(), _np(ref, b), rtol=1e-5, atol=1e-6)
    assert ours.iterations == int(_np(ref, theirs.iterations)) == len(grads)


def test_optimizer_defaults_are_kerass(ref):
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax"):
        theirs, ours = getattr(ref.optimizers, name)(), getattr(keras.optimizers, name)()
        assert ours.learning_rate == pytest.approx(float(_np(ref, theirs.learning_rate)))
        for key in ("beta_1", "beta_2", "epsilon", "momentum", "rho", "weight_decay",
                    "initial_accumulator_value"):
            if getattr(theirs, key, None) is not None:
                assert getattr(ours, key) == pytest.approx(getattr(theirs, key)), (name, key)


INITIALIZERS = ["GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
                "LecunUniform", "RandomNormal", "RandomUniform", "TruncatedNormal",
                "Orthogonal", "Zeros", "Ones"]


@pytest.mark.parametrize("name", INITIALIZERS)
@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 16, 32)])
def test_initializer_statistics_equal_keras(ref, name, shape):
    want = _np(ref, getattr(ref.initializers, name)(seed=3)(shape)) if name not in (
        "Zeros", "Ones") else _np(ref, getattr(ref.initializers, name)()(shape))
    got = getattr(keras.initializers, name)()(shape)
    assert got.shape == want.shape and got.dtype == np.float32
    spread = max(float(want.std()), 1e-3)
    assert float(got.mean()) == pytest.approx(float(want.mean()), abs=0.01 * spread + 1e-3)
    assert float(got.std()) == pytest.approx(float(want.std()), rel=0.03, abs=1e-6)
    if name not in ("RandomNormal", "Orthogonal"):  # bounded: uniform, or cut at 2 std
        assert got.min() >= want.min() - 0.05 * spread
        assert got.max() <= want.max() + 0.05 * spread
    if name == "Orthogonal":
        flat = got.reshape(-1, shape[-1])
        q = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
        np.testing.assert_allclose(q, np.eye(len(q)), atol=1e-4)
