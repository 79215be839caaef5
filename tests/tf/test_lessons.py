"""The course's TensorFlow code (tests/tf/lessons/*.py, written for TensorFlow and run as
they are by record_reference.py) runs on gradkit with only its import line changed, and
reaches what TensorFlow reached (tf_reference.json holds TensorFlow's numbers). The random
initial weights differ (another generator), so the comparisons allow for that."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HERE = Path(__file__).parent
TF_RESULTS = json.loads((HERE / "tf_reference.json").read_text())["lessons"]
IMPORT = "import tensorflow as tf\n"


def run_on_gradkit(name: str) -> dict:
    source = (HERE / "lessons" / name).read_text()
    assert source.count(IMPORT) == 1
    code = compile(source.replace(IMPORT, "import gradkit.tf as tf\n"), name, "exec")
    namespace = {"__name__": "__main__"}
    exec(code, namespace)
    return namespace["RESULT"]


def test_every_lesson_has_tensorflow_results():
    assert sorted(p.name for p in (HERE / "lessons").glob("*.py")) == sorted(TF_RESULTS)


def test_linear_regression_with_a_tape_and_assign_sub(capsys):
    got, want = run_on_gradkit("linear_regression.py"), TF_RESULTS["linear_regression.py"]
    # TensorFlow: w = 1.862, b = 1.071, mean squared error 0.2094 (the least-squares fit)
    assert got["w"] == pytest.approx(want["w"], abs=0.02)
    assert got["b"] == pytest.approx(want["b"], abs=0.02)
    assert got["loss"] == pytest.approx(want["loss"], rel=0.02)
    assert got["loss"] < got["first_epoch_loss"]
    assert "Epoch 9: last batch loss" in capsys.readouterr().out


def test_tf_data_batching_with_shuffle_and_tf_function():
    got, want = run_on_gradkit("dataset_logistic.py"), TF_RESULTS["dataset_logistic.py"]
    # TensorFlow: 18 batches of 8 per epoch, 180 steps; train accuracy 0.971, test 1.0
    assert (got["batches"], got["cardinality"]) == (want["batches"], want["cardinality"])
    assert got["train_acc"] >= want["train_acc"] - 0.03
    assert got["test_acc"] >= want["test_acc"] - 0.04


def test_mlp_trained_with_a_tape_separates_spirals():
    got, want = run_on_gradkit("mlp.py"), TF_RESULTS["mlp.py"]
    # TensorFlow: accuracy 0.983, cross-entropy 0.084 on three spirals
    assert got["acc"] >= want["acc"] - 0.03
    assert got["loss"] <= 2 * want["loss"]
