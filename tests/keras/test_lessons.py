"""The course's Keras code (tests/keras/lessons/*.py, written for Keras and run as it is by
record_reference.py) runs on gradkit with only its import lines changed, and reaches what
Keras reached (keras_reference.json holds Keras 3.15's numbers, PyTorch backend). The initial
weights differ (another random generator), so the comparisons allow for that."""

from __future__ import annotations

import json
import runpy
import warnings
from pathlib import Path

import pytest

HERE = Path(__file__).parent
KERAS = json.loads((HERE / "keras_reference.json").read_text())["lessons"]
IMPORTS = {"import keras\n": "import gradkit.keras as keras\n",
           "from keras import ": "from gradkit.keras import "}


def run_on_gradkit(name: str, tmp_path: Path) -> dict:
    source = (HERE / "lessons" / name).read_text()
    for keras_line, gradkit_line in IMPORTS.items():
        source = source.replace(keras_line, gradkit_line)
    assert "import keras" not in source.replace("import gradkit.keras", "")
    script = tmp_path / name
    script.write_text(source)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the lessons' code draws no warning from gradkit
        return runpy.run_path(str(script), run_name="__main__")["RESULT"]


def test_every_lesson_has_keras_results():
    assert sorted(p.name for p in (HERE / "lessons").glob("*.py")) == sorted(KERAS)


def test_two_classes_with_sigmoid_and_softmax_outputs(tmp_path, capsys):
    got, want = run_on_gradkit("two_class.py", tmp_path), KERAS["two_class.py"]
    # Keras: train acc 0.975, val acc 0.950, test acc 0.960; softmax test acc 0.980
    assert got["keys"] == want["keys"] == ["acc", "loss", "val_acc", "val_loss"]
    assert got["acc"] >= want["acc"] - 0.03
    assert got["val_acc"] >= want["val_acc"] - 0.04
    assert got["test_acc"] >= want["test_acc"] - 0.04
    assert got["test_loss"] <= want["test_loss"] * 1.5
    assert got["softmax_acc"] >= want["softmax_acc"] - 0.03
    assert got["probs_sum"] < 1e-5  # softmax outputs: probabilities
    assert "sigmoid: train acc" in capsys.readouterr().out


def test_functional_model_with_a_skip_connection_and_early_stopping(tmp_path):
    got, want = run_on_gradkit("functional.py", tmp_path), KERAS["functional.py"]
    # Keras: validation accuracy 1.000 on three spirals, 4,547 weights in 6 layers
    assert (got["params"], got["layers"], got["keys"]) == (want["params"], want["layers"],
                                                           want["keys"])
    assert got["val_acc"] >= want["val_acc"] - 0.03
    assert got["train_acc"] >= want["train_acc"] - 0.03


def test_overfitting_and_its_remedies(tmp_path):
    got, want = run_on_gradkit("overfitting.py", tmp_path), KERAS["overfitting.py"]
    # Keras: plain model train 1.00 / val 0.72 (gap 0.28); dropout + L2: gap 0.18;
    # EarlyStopping after 16 epochs
    assert got["plain_train_acc"] == pytest.approx(want["plain_train_acc"], abs=0.02)
    assert got["plain_val_acc"] == pytest.approx(want["plain_val_acc"], abs=0.08)
    assert got["plain_gap"] > 0.15 and want["plain_gap"] > 0.15  # it overfits...
    assert got["plain_final_val_loss_over_best"] > 1.2  # ...the validation loss rises again
    assert got["reg_gap"] < got["plain_gap"]  # ...and regularisation narrows the gap
    assert got["stopped_epochs"] == pytest.approx(want["stopped_epochs"], abs=6)
