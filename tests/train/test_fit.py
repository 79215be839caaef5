"""fit / evaluate / predict: the frameworks lesson's runs, the loop's semantics, memory."""

import gc
import resource
import sys

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.callbacks import LambdaCallback
from gradkit.data import DataLoader, TensorDataset


def _sgd(model, lr=0.5):
    return optim.SGD(model.parameters(), lr=lr)


def _total_params(model) -> int:
    text = model.summary(print_fn=None)
    line = next(s for s in text.splitlines() if s.startswith("Total params:"))
    return int(line.split(":")[1].replace(",", ""))


@pytest.mark.parametrize("layers, params", [
    (lambda: [nn.Linear(2, 1), nn.Sigmoid()], 3),
    (lambda: [nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 1), nn.Sigmoid()], 21),
])
def test_lesson_binary_networks(lesson, layers, params):
    xtr, ytr, xva, yva = lesson
    model = nn.Sequential(*layers())
    assert _total_params(model) == params
    model.compile(_sgd(model), "bce", metrics=["accuracy"])
    history = model.fit(xtr, ytr, epochs=40, batch_size=8, validation_data=(xva, yva),
                        verbose=0)
    assert history.history["val_accuracy"][-1] >= 0.87
    assert model.evaluate(xva, yva)["accuracy"] >= 0.87
    assert history.overfit_epoch is None  # no false alarm on a model that cannot overfit


def test_lesson_softmax_with_sparse_labels(lesson):
    xtr, ytr, xva, yva = lesson
    model = nn.Sequential(nn.Linear(2, 2))
    model.compile(_sgd(model), "cross_entropy", metrics=["accuracy"])
    history = model.fit(xtr, ytr, epochs=40, batch_size=8, validation_data=(xva, yva),
                        verbose=0)
    assert history.history["val_accuracy"][-1] >= 0.87


def _softmax_run(xtr, ytr, xva, yva):
    gk.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 2))
    model.compile(_sgd(model), "cross_entropy", metrics=["accuracy"])
    history = model.fit(xtr, ytr, epochs=10, batch_size=8, validation_data=(xva, yva),
                        verbose=0)
    return history.history, model.state_dict()


def test_one_hot_and_sparse_labels_give_the_same_result(lesson):
    xtr, ytr, xva, yva = lesson
    sparse, w_sparse = _softmax_run(xtr, ytr, xva, yva)
    onehot, w_onehot = _softmax_run(xtr, np.eye(2)[ytr], xva, np.eye(2)[yva])
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(onehot[key], sparse[key], rtol=1e-5)
    for name in w_sparse:
        np.testing.assert_allclose(w_onehot[name], w_sparse[name], rtol=1e-5, atol=1e-6)


def test_fit_equals_the_hand_written_loop(blobs):
    x, y = blobs

    def model_and_opt():
        gk.manual_seed(1)
        m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        return m, optim.SGD(m.parameters(), lr=0.1, momentum=0.9)

    model, opt = model_and_opt()
    model.compile(opt, "cross_entropy")
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    hand, opt = model_and_opt()
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)
    for _ in range(3):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(hand(xb), yb).backward()
            opt.step()
    for name, w in hand.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name], w)


def _dropout_run(x, y):
    gk.manual_seed(7)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    model.compile("adam", "cross_entropy", ["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
    return history.history, model.state_dict()


def test_manual_seed_reproduces_a_run_bit_for_bit(blobs):
    x, y = blobs
    h1, w1 = _dropout_run(x, y)
    h2, w2 = _dropout_run(x, y)
    assert h1 == h2
    for name in w1:
        np.testing.assert_array_equal(w1[name], w2[name])


class _Recorder(nn.Module):
    """A linear model that records (training flag, grad mode, batch rows) per forward."""

    def __init__(self, n_in=4, n_out=3):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, gk.is_grad_enabled(), x.numpy().copy()))
        return self.lin(x)


def test_modes_and_gradients_switch_automatically(blobs):
    x, y = blobs
    model = _Recorder()
    model.eval()  # the mode fit found is restored afterwards
    model.compile("sgd", "cross_entropy")
    model.fit(x, y, epochs=1, batch_size=20, validation_split=0.25, verbose=0)
    modes = {(t, g) for t, g, _ in model.calls[1:]}  # calls[0] is the input probe
    assert modes == {(True, True), (False, False)}
    assert model.training is False
    model.calls.clear()
    model.predict(x)
    model.evaluate(x, y)
    assert {(t, g) for t, g, _ in model.calls} == {(False, False)}


def test_validation_split_is_the_tail_taken_before_shuffling(blobs):
    x, y = blobs
    model = _Recorder()
    model.compile("sgd", "cross_entropy")
    model.fit(x, y, epochs=1, batch_size=7, validation_split=0.2, shuffle=True, verbose=0)
    train = np.concatenate([b for t, _, b in model.calls[1:] if t])
    val = np.concatenate([b for t, _, b in model.calls[1:] if not t])
    np.testing.assert_array_equal(val, x[48:])  # ceil(60 * 0.8) = 48, in order
    assert not np.array_equal(train, x[:48])  # shuffled ...
    np.testing.assert_array_equal(np.sort(train, axis=0), np.sort(x[:48], axis=0))  # ... same


def test_fit_on_a_dataloader_with_loader_validation(blobs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 3))
    model.compile(optim.SGD(model.parameters(), lr=0.1), "cross_entropy", ["accuracy"])
    train = DataLoader(TensorDataset(x[:45], y[:45]), batch_size=8, shuffle=True, seed=0)
    val = DataLoader(TensorDataset(x[45:], y[45:]), batch_size=8)
    history = model.fit(train, epochs=15, validation_data=val, verbose=0)
    assert history.params["steps"] == 6
    assert history.history["val_accuracy"][-1] >= 0.9
    with pytest.raises(ValueError, match="y must be None"):
        model.fit(train, y, verbose=0)
    with pytest.raises(ValueError, match="validation_split needs arrays"):
        model.fit(train, validation_split=0.2, verbose=0)


def test_predict_returns_numpy_and_evaluate_a_dict(blobs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 3))
    out = model.predict(x, batch_size=7)  # no compile needed
    assert isinstance(out, np.ndarray) and out.shape == (60, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, model(gk.tensor(x)).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(model.predict(gk.tensor(x)), out)
    model.compile("sgd", "cross_entropy", ["accuracy"])
    logs = model.evaluate(x, y, batch_size=7)
    assert set(logs) == {"loss", "accuracy"}
    expected = nn.CrossEntropyLoss()(gk.tensor(out), gk.tensor(y)).item()
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)
    assert logs["accuracy"] == pytest.approx(float((out.argmax(1) == y).mean()))


def test_regression_targets_are_reshaped_for_an_n_by_1_output(rng):
    x = rng.normal(size=(80, 3)).astype(np.float32)
    y = x @ np.array([1.0, -2.0, 0.5], np.float32) + 0.3  # shape (80,)
    model = nn.Sequential(nn.Linear(3, 1))
    model.compile(optim.SGD(model.parameters(), lr=0.1), "mse", ["mae"])
    history = model.fit(x, y, epochs=60, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 1e-3
    assert model.evaluate(x, y)["mae"] < 0.05


def test_bce_with_logits_thresholds_accuracy_at_zero(lesson):
    xtr, ytr, xva, yva = lesson
    model = nn.Sequential(nn.Linear(2, 1))
    model.compile(_sgd(model), "bce_with_logits", ["accuracy"])
    model.fit(xtr, ytr, epochs=40, batch_size=8, verbose=0)
    logits = model.predict(xva).reshape(-1)
    assert model.evaluate(xva, yva)["accuracy"] == pytest.approx(((logits > 0) == yva).mean())


def test_stop_training_ends_fit_after_the_current_batch(blobs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 3))
    model.compile("sgd", "cross_entropy")
    seen = []

    def on_batch_end(batch, logs):
        seen.append(batch)
        if batch == 2:
            model.stop_training = True

    history = model.fit(x, y, epochs=5, batch_size=10, verbose=0,
                        callbacks=[LambdaCallback(on_batch_end=on_batch_end)])
    assert seen == [0, 1, 2] and history.epoch == [0]


def _rss_kib() -> int:
    try:
        import psutil

        return psutil.Process().memory_info().rss // 1024
    except ImportError:  # pragma: no cover - psutil is optional
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() // 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads RSS on Linux")
def test_two_hundred_fits_do_not_grow_memory(blobs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))
    model.compile("adam", "cross_entropy", ["accuracy"])

    def run(n):
        for _ in range(n):
            model.fit(x, y, epochs=1, batch_size=16, validation_split=0.2, verbose=0)

    run(20)  # warm-up: caches, allocator pools, lazy imports
    gc.collect()
    before = _rss_kib()
    run(200)
    gc.collect()
    grown = _rss_kib() - before
    assert grown < 2048, f"RSS grew by {grown} KiB over 200 fits"
