"""The `gradkit` command: every subcommand, its outputs, and its one-line errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from gradkit.cli import main

PNG = b"\x89PNG\r\n\x1a\n"
QUICK = ["--hidden", "64", "--epochs", "3", "--lr", "0.01", "--quiet"]


def run(argv, capsys):
    """(exit code, stdout, stderr) of `gradkit argv` run in this process."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's --help and errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_usage_error(code, err, *words):
    assert code == 2
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A small run of `gradkit train --dataset digits` shared by the tests below."""
    out = tmp_path_factory.mktemp("runs") / "digits"
    code = main(["train", "--dataset", "digits", "--out", str(out), *QUICK])
    assert code == 0
    return out


# ---- help and dispatch --------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["evaluate", "--help"],
                                  ["predict", "--help"], ["bench", "--help"]])
def test_help_on_every_subcommand(argv, capsys):
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert out.startswith(f"usage: gradkit {argv[0] if len(argv) > 1 else ''}".rstrip())


def test_no_command_prints_help(capsys):
    code, out, _ = run([], capsys)
    assert code == 2 and "train" in out and "predict" in out


def test_python_dash_m_gradkit():
    done = subprocess.run([sys.executable, "-m", "gradkit", "--version"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("gradkit ")


def test_bench_runs_the_benchmark_entry_point(monkeypatch, capsys):
    import types

    from gradkit.cli import bench

    seen = []
    suite = types.SimpleNamespace(main=lambda argv=None, prog="": seen.append((argv, prog)) or {})
    monkeypatch.setattr(bench, "load_suite", lambda: suite)
    code, _, _ = run(["bench", "--quick", "--sections", "tiny"], capsys)
    assert code == 0 and seen == [(["--quick", "--sections", "tiny"], "gradkit bench")]


def test_bench_finds_the_checkout_suite_and_says_so_outside_one(monkeypatch, tmp_path, capsys):
    from gradkit.cli import bench

    assert bench.load_suite().__name__ == "benchmarks.suite"  # the tests run in a checkout
    monkeypatch.setattr(bench, "_roots", lambda: [tmp_path])
    code, _, err = run(["bench", "--quick"], capsys)
    assert code == 2 and "source checkout" in err


# ---- train --------------------------------------------------------------------------------
def test_train_writes_model_history_pictures_and_report(digits_run):
    out = digits_run
    for name in ("model.safetensors", "checkpoint.safetensors", "run.json", "history.csv",
                 "history.json", "report.html"):
        assert (out / name).is_file(), name
    for name in ("curves.png", "confusion.png", "misclassified.png"):
        assert (out / name).read_bytes()[:8] == PNG, name
    info = json.loads((out / "run.json").read_text())
    assert info["settings"]["hidden"] == [64] and info["settings"]["epochs"] == 3
    assert info["preprocessing"]["image_shape"] == [8, 8]
    assert 0.8 < info["results"]["test_accuracy"] <= 1.0
    assert (out / "history.csv").read_text().splitlines()[0].startswith(
        "epoch,loss,accuracy,val_loss,val_accuracy")
    assert len(json.loads((out / "history.json").read_text())["epoch"]) == 3
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "test accuracy" in page and "Per epoch" in page and "512" not in page.split(
        "Settings")[1].split("</table>")[0]


def test_train_prints_the_test_accuracy(tmp_path, capsys):
    code, out, _ = run(["train", "--dataset", "moons", "--out", str(tmp_path / "m"),
                        "--hidden", "16", "--epochs", "3"], capsys)
    assert code == 0
    line = [x for x in out.splitlines() if x.startswith("test accuracy:")]
    assert line and 0.5 < float(line[0].split()[2]) <= 1.0
    assert "Epoch 3/3" in out  # fit's progress output


def test_resume_continues_exactly(tmp_path, capsys):
    from safetensors.numpy import load_file

    straight, resumed = tmp_path / "a", tmp_path / "b"
    common = ["--dataset", "iris", "--hidden", "8", "--quiet"]
    assert run(["train", *common, "--epochs", "4", "--out", str(straight)], capsys)[0] == 0
    assert run(["train", *common, "--epochs", "2", "--out", str(resumed)], capsys)[0] == 0
    code, out, _ = run(["train", "--resume", "--epochs", "4", "--out", str(resumed)], capsys)
    assert code == 0 and "resuming after epoch 2" in out
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    history = json.loads((resumed / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3, 4]


def test_resume_refuses_other_settings_and_missing_runs(digits_run, tmp_path, capsys):
    code, _, err = run(["train", "--resume", "--out", str(digits_run), "--lr", "0.5"], capsys)
    assert_usage_error(code, err, "--lr", "--resume")
    code, _, err = run(["train", "--resume", "--out", str(tmp_path / "none")], capsys)
    assert_usage_error(code, err, "no run to continue")


@pytest.mark.parametrize("args, words", [
    (["--dataset", "cifar10"], ["unknown dataset", "mnist"]),
    (["--lr", "-1"], ["--lr", "> 0"]),
    (["--lr=0"], ["--lr"]),
    (["--epochs", "0"], ["--epochs"]),
    (["--batch-size", "-5"], ["--batch-size"]),
    (["--hidden", "512,abc"], ["--hidden"]),
    (["--hidden", "0,5"], ["--hidden"]),
    (["--dropout", "1.5"], ["--dropout"]),
    (["--optimizer", "adamax"], ["--optimizer"]),
    (["--device", "tpu"], ["--device"]),
])
def test_train_refuses_bad_settings(args, words, capsys):
    code, _, err = run(["train", *args], capsys)
    assert_usage_error(code, err, *words)


def test_train_refuses_an_out_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "taken"
    f.write_text("x")
    code, _, err = run(["train", "--dataset", "iris", "--out", str(f)], capsys)
    assert_usage_error(code, err, "--out", "file")


def test_distributed_flag_in_a_world_of_one(tmp_path):
    pytest.importorskip("mpi4py")
    done = subprocess.run(
        [sys.executable, "-m", "gradkit", "train", "--dataset", "iris", "--hidden", "8",
         "--epochs", "1", "--quiet", "--distributed", "--out", str(tmp_path / "d")],
        capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout and (tmp_path / "d" / "model.safetensors").exists()


# ---- evaluate -----------------------------------------------------------------------------
def test_evaluate_matches_the_run(digits_run, capsys):
    code, out, _ = run(["evaluate", str(digits_run / "model.safetensors")], capsys)
    assert code == 0
    acc = json.loads((digits_run / "run.json").read_text())["results"]["test_accuracy"]
    assert f"accuracy {acc:.4f}" in out
    code, out2, _ = run(["evaluate", str(digits_run), "--dataset", "digits"], capsys)
    assert code == 0 and out2 == out


def test_evaluate_errors(digits_run, tmp_path, capsys):
    code, _, err = run(["evaluate", str(tmp_path / "missing.safetensors")], capsys)
    assert_usage_error(code, err, "does not exist")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    code, _, err = run(["evaluate", str(junk), "--dataset", "iris"], capsys)
    assert_usage_error(code, err, "cannot read the model")
    code, _, err = run(["evaluate", str(digits_run / "model.safetensors"), "--dataset",
                        "iris"], capsys)
    assert_usage_error(code, err, "64 input features", "iris")
    code, _, err = run(["evaluate", str(digits_run), "--dataset", "svhn"], capsys)
    assert_usage_error(code, err, "unknown dataset")


# ---- predict ------------------------------------------------------------------------------
def _digit_png(path, digit_image, invert=False, size=64):
    Image = pytest.importorskip("PIL.Image")
    img = np.asarray(digit_image, dtype=np.float64).reshape(8, 8) / 16 * 255
    img = 255 - img if invert else img
    Image.fromarray(img.astype(np.uint8)).resize((size, size), Image.NEAREST).convert(
        "RGB").save(path)
    return path


def test_predict_prints_the_class_and_probabilities(digits_run, tmp_path, capsys):
    from gradkit.cli.data import load_run_data

    data = load_run_data("digits", 0, 0.1)
    x = data.x_test * 16
    model = str(digits_run / "model.safetensors")
    _, out, _ = run(["evaluate", model], capsys)
    picks = list(range(6))
    files = [str(_digit_png(tmp_path / f"d{i}.png", x[i], invert=i % 2 == 1)) for i in picks]
    code, out, err = run(["predict", model, *files], capsys)
    assert code == 0
    heads = [line for line in out.splitlines() if not line.startswith(" ")]
    assert len(heads) == len(files)
    predicted = [int(h.split(": ")[1].split()[0]) for h in heads]
    assert sum(p == int(data.y_test[i]) for p, i in zip(predicted, picks)) >= 4
    assert "inverted" in err  # the dark-on-light ones
    probs = [float(line.split()[1]) for line in out.splitlines()[1:11]]
    assert len(probs) == 10 and abs(sum(probs) - 1) < 1e-3


def test_predict_errors(digits_run, tmp_path, capsys, monkeypatch):
    model = str(digits_run / "model.safetensors")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"this is not an image")
    code, _, err = run(["predict", model, str(bad)], capsys)
    assert_usage_error(code, err, "cannot read image", "bad.png")
    code, _, err = run(["predict", model, str(tmp_path / "gone.png")], capsys)
    assert_usage_error(code, err, "cannot read image", "no such file")
    code, _, err = run(["predict", str(tmp_path / "no.safetensors"), str(bad)], capsys)
    assert_usage_error(code, err, "does not exist")
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if Pillow were not installed
    code, _, err = run(["predict", model, str(bad)], capsys)
    assert_usage_error(code, err, "Pillow", "pip install")


def test_predict_reads_npy_without_pillow(digits_run, tmp_path, capsys, monkeypatch):
    from gradkit.cli.data import load_run_data

    data = load_run_data("digits", 0, 0.1)
    np.save(tmp_path / "d.npy", (data.x_test[0].reshape(8, 8) * 255).astype(np.uint8))
    monkeypatch.setitem(sys.modules, "PIL", None)
    code, out, _ = run(["predict", str(digits_run), str(tmp_path / "d.npy"), "--top", "2"],
                       capsys)
    assert code == 0 and len(out.splitlines()) == 3


def test_predict_features_for_tabular_models(tmp_path, capsys):
    out_dir = tmp_path / "iris"
    assert run(["train", "--dataset", "iris", "--hidden", "16", "--lr", "0.01", "--out",
                str(out_dir), "--quiet"], capsys)[0] == 0
    code, out, _ = run(["predict", str(out_dir), "5.1,3.5,1.4,0.2"], capsys)
    assert code == 0 and out.startswith("5.1,3.5,1.4,0.2: setosa")
    code, _, err = run(["predict", str(out_dir), "5.1,3.5"], capsys)
    assert_usage_error(code, err, "4 comma-separated feature values")


def test_mnist_images_go_through_the_training_preprocessing(tmp_path):
    """A 28x28 MNIST PNG gives exactly the training row; framing and inversion keep a
    resized, inverted copy close to it."""
    Image = pytest.importorskip("PIL.Image")
    from gradkit.cli.data import _image_preprocessing
    from gradkit.cli.inference import image_input
    from gradkit.datasets import DatasetUnavailable, load_mnist

    try:
        (_, _), (xt, _) = load_mnist()
    except DatasetUnavailable as exc:
        pytest.skip(f"MNIST is not available: {exc}")
    pre = _image_preprocessing(28, 255.0, "mnist")
    Image.fromarray(xt[0]).save(tmp_path / "a.png")
    row = image_input(str(tmp_path / "a.png"), pre, invert="no", frame=False)
    np.testing.assert_allclose(row, xt[0].reshape(-1) / 255, atol=1e-6)
    Image.fromarray(255 - xt[0]).resize((112, 112)).save(tmp_path / "b.png")
    framed = image_input(str(tmp_path / "b.png"), pre)
    assert framed.shape == (784,) and framed.dtype == np.float32
    assert np.corrcoef(framed, image_input(str(tmp_path / "a.png"), pre))[0, 1] > 0.9


def test_jit_trains_the_same_numbers_as_eager(tmp_path, capsys):
    from safetensors.numpy import load_file

    common = ["--dataset", "iris", "--hidden", "8", "--epochs", "3", "--quiet"]
    eager, jit = tmp_path / "eager", tmp_path / "jit"
    assert run(["train", *common, "--out", str(eager)], capsys)[0] == 0
    assert run(["train", *common, "--jit", "--out", str(jit)], capsys)[0] == 0
    a, b = load_file(eager / "model.safetensors"), load_file(jit / "model.safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    ha, hb = (json.loads((d / "history.json").read_text()) for d in (eager, jit))
    assert ha["loss"] == hb["loss"] and ha["val_loss"] == hb["val_loss"]
    assert json.loads((jit / "run.json").read_text())["settings"]["jit"] is True
    code, out, _ = run(["train", "--resume", "--epochs", "4", "--out", str(eager), "--jit"],
                       capsys)  # a resumed run may switch to compiled steps
    assert code == 0 and "resuming after epoch 3" in out


def test_jit_with_distributed_is_a_usage_error(capsys):
    code, _, err = run(["train", "--dataset", "iris", "--jit", "--distributed"], capsys)
    assert_usage_error(code, err, "--jit", "--distributed")


def test_a_pipe_closed_early_ends_quietly():
    """`gradkit ... | head -1`: no traceback when the reader stops reading (exit 141)."""
    proc = subprocess.Popen([sys.executable, "-m", "gradkit", "data", "list"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert proc.returncode == 141
