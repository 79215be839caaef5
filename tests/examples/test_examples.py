"""Every lesson example runs (short settings for the slow ones) and reaches its figures."""

import importlib
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def example(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))

    def load(name):
        sys.modules.pop(name, None)
        return importlib.import_module(name)

    return load


def quiet(*args, **kwargs):
    pass


def test_own_framework(example):
    res = example("own_framework").main([], log=quiet)
    for r in res.values():
        assert r["train_acc"] >= 0.8 and r["test_acc"] >= 0.7


def test_own_framework_lowlevel_meets_the_module_version(example):
    res = example("own_framework_lowlevel").main([], log=quiet)
    assert res["train_acc"] >= 0.8 and res["test_acc"] >= 0.7


def test_regression_and_nonlinear(example):
    res = example("regression_and_nonlinear").main(["--epochs", "150"], log=quiet)
    w, b = res["regression"]["squared error"]
    assert 1.86 <= w <= 2.05 and 0.85 <= b <= 1.07
    assert res["moons"][("circles", "linear Linear(2,2)")][1] <= 0.6
    for name in ("circles", "moons"):
        assert res["moons"][(name, "MLP Linear(2,32)-ReLU-Linear(32,2)")][1] >= 0.95


def test_mnist_lab_short(example):
    pytest.importorskip("gradkit.datasets")
    from gradkit.datasets import DatasetUnavailable

    try:
        res = example("mnist_lab").main(["--epochs", "2", "--nets", "0,3",
                                         "--train-size", "10000"], log=quiet)
    except DatasetUnavailable as exc:
        pytest.skip(f"MNIST is not available here: {exc}")
    deep = res["3 layers, relu"]
    assert deep["test_acc"] > 0.85
    assert len(deep["history"]) == 2 and len(deep["history"][0]["max_w"]) == 3
    assert res["1 layer (softmax regression)"]["test_acc"] > 0.75


def test_iris_lab(example):
    res = example("iris_lab").main(["--epochs", "80"], log=quiet)
    assert res["small 4-8-3"]["val_acc"] >= 0.93
    assert res["single layer 4-3"]["val_acc"] >= 0.9
    large = res["large 4-256-256-256-3"]
    assert large["train_acc"] == 1.0
    assert large["final_val_loss"] > 2 * large["best_val_loss"]  # overfitting shows


def test_cnn_lesson_quick(example):
    from gradkit.datasets import DatasetUnavailable, load_mnist

    try:
        load_mnist()
    except DatasetUnavailable as exc:
        pytest.skip(f"MNIST is not available here: {exc}")
    res = example("cnn_lesson").main(["--quick", "--datasets", "mnist"], log=quiet)
    nets = res["mnist"]
    mlp, cnn = nets["MLP 784-512-512-10"], nets["CNN conv16-conv32-128-10"]
    assert cnn["parameters"] < mlp["parameters"] / 3  # weight sharing: far fewer weights
    assert mlp["test_acc"] > 0.6 and cnn["test_acc"] > 0.4  # one epoch on 2,000 images
    learned = cnn["learned"]
    assert learned["filters"].shape == (16, 1, 5, 5)
    assert [m.shape for _, m in learned["feature_maps"]] == [(16, 28, 28), (32, 14, 14)]
