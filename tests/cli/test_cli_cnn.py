"""`gradkit train --model cnn`: the LeNet-style CNN, its report (with filters and feature
maps), and evaluate / predict / resume on the model it writes."""

import json

import numpy as np
import pytest

from gradkit import nn
from gradkit.cli import main
from gradkit.cli.data import load_run_data
from gradkit.cli.models import build_network

from .test_cli import PNG, assert_usage_error, run

QUICK = ["--channels", "4,8", "--hidden", "16", "--epochs", "2", "--lr", "0.01", "--quiet"]


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "digits-cnn"
    assert main(["train", "--dataset", "digits", "--model", "cnn", "--out", str(out),
                 *QUICK]) == 0
    return out


def test_the_default_cnn_is_lenet_style():
    settings = {"model": "cnn", "channels": [16, 32], "hidden": [128], "activation": "relu",
                "dropout": 0.2}
    model = build_network(settings, (1, 28, 28), 10)
    kinds = [type(m) for m in model]
    assert kinds == [nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Conv2d, nn.ReLU, nn.MaxPool2d,
                     nn.Flatten, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    assert model[0].kernel_size == (5, 5) and model[0].padding == (2, 2)
    assert model[7].in_features == 32 * 7 * 7
    assert model.num_parameters() == (1 * 25 + 1) * 16 + (16 * 25 + 1) * 32 + (
        32 * 49 + 1) * 128 + (128 + 1) * 10


def test_train_cnn_writes_the_report_with_filters_and_feature_maps(cnn_run):
    for name in ("curves.png", "confusion.png", "misclassified.png", "filters.png",
                 "feature_maps.png"):
        assert (cnn_run / name).read_bytes()[:8] == PNG, name
    info = json.loads((cnn_run / "run.json").read_text())
    assert info["settings"]["model"] == "cnn" and info["settings"]["channels"] == [4, 8]
    assert info["architecture"] == "1x8x8-conv4-conv8-16-10"
    assert info["preprocessing"]["flatten"] is False
    assert info["preprocessing"]["input_shape"] == [1, 8, 8]
    assert info["results"]["test_accuracy"] > 0.5
    page = (cnn_run / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 5
    assert "CNN" in page and "Feature maps" in page and "--model cnn --channels 4,8" in page


def test_evaluate_and_predict_a_cnn(cnn_run, tmp_path, capsys):
    code, out, _ = run(["evaluate", str(cnn_run)], capsys)
    acc = json.loads((cnn_run / "run.json").read_text())["results"]["test_accuracy"]
    assert code == 0 and f"accuracy {acc:.4f}" in out
    data = load_run_data("digits", 0, 0.1, layout="image")
    assert data.x_test.shape[1:] == (1, 8, 8)
    np.save(tmp_path / "d.npy", (data.x_test[0, 0] * 255).astype(np.uint8))
    code, out, _ = run(["predict", str(cnn_run), str(tmp_path / "d.npy"), "--top", "3"],
                       capsys)
    assert code == 0 and len(out.splitlines()) == 4
    code, _, err = run(["evaluate", str(cnn_run), "--dataset", "iris"], capsys)
    assert_usage_error(code, err, "iris is not an image dataset")


def test_resume_a_cnn_run(cnn_run, tmp_path, capsys):
    import shutil

    out = tmp_path / "again"
    shutil.copytree(cnn_run, out)
    code, text, _ = run(["train", "--resume", "--epochs", "3", "--out", str(out)], capsys)
    assert code == 0 and "resuming after epoch 2" in text and "CNN" in text
    assert json.loads((out / "history.json").read_text())["epoch"] == [1, 2, 3]
    code, _, err = run(["train", "--resume", "--out", str(out), "--channels", "8,8"], capsys)
    assert_usage_error(code, err, "--channels", "--resume")


@pytest.mark.parametrize("args, words", [
    (["--model", "cnn", "--dataset", "iris"], ["iris is not an image dataset", "--model cnn"]),
    (["--model", "cnn", "--dataset", "digits", "--channels", "4,4,4,4"], ["--channels",
                                                                         "halve 8x8"]),
    (["--channels", "16,32", "--dataset", "digits"], ["--channels", "--model cnn"]),
    (["--model", "cnn", "--channels", "16,x"], ["--channels", "16,32"]),
    (["--model", "rnn"], ["--model"]),
])
def test_cnn_settings_are_checked(args, words, tmp_path, capsys):
    code, _, err = run(["train", *args, "--out", str(tmp_path / "r"), "--quiet"], capsys)
    assert_usage_error(code, err, *words)


@pytest.mark.parametrize("argv, epochs, channels, hidden", [
    (["--dataset", "mnist", "--model", "cnn"], 10, [16, 32], [128]),
    (["--dataset", "fashion-mnist", "--model", "cnn"], 15, [16, 32], [128]),
    (["--dataset", "fashion-mnist", "--model", "cnn", "--epochs", "4", "--hidden", "64"], 4,
     [16, 32], [64]),
    (["--dataset", "fashion-mnist"], 10, None, [512, 512]),  # the MLP's, unchanged
])
def test_defaults_per_model_and_dataset(argv, epochs, channels, hidden, tmp_path):
    from gradkit.cli import build_parser, train

    args = build_parser().parse_args(["train", *argv])
    settings, _ = train.resolve_settings(args, tmp_path)
    assert (settings["epochs"], settings["channels"], settings["hidden"]) == (
        epochs, channels, hidden)


@pytest.mark.slow
@pytest.mark.parametrize("dataset, target", [("mnist", 0.99), ("fashion-mnist", 0.91)])
def test_the_default_cnn_reaches_its_accuracy(dataset, target, tmp_path, capsys):
    """The issue's targets with the defaults: 20-30 minutes each on the shared 2-core
    machine (GRADKIT_RUN_SLOW=1; measured 0.9919 and 0.9150)."""
    from gradkit.datasets import DatasetUnavailable, load_fashion_mnist, load_mnist

    try:
        (load_mnist if dataset == "mnist" else load_fashion_mnist)()
    except DatasetUnavailable as exc:
        pytest.skip(f"{dataset} is not available: {exc}")
    code, _, _ = run(["train", "--dataset", dataset, "--model", "cnn", "--quiet", "--out",
                      str(tmp_path / "run")], capsys)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert code == 0 and info["results"]["test_accuracy"] >= target


def test_predict_needs_the_run_info_of_a_cnn(cnn_run, tmp_path, capsys):
    import shutil

    shutil.copy(cnn_run / "model.safetensors", tmp_path / "model.safetensors")
    np.save(tmp_path / "d.npy", np.zeros((8, 8), np.uint8))
    code, _, err = run(["predict", str(tmp_path / "model.safetensors"),
                        str(tmp_path / "d.npy")], capsys)
    assert_usage_error(code, err, "no run.json", "CNN")
