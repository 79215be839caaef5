"""compile(precision=...): fit/evaluate/predict under autocast, 16-mixed with a GradScaler,
the checks of the argument, and checkpoints that keep the scaler."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.train.config import resolve_precision


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + 2 * (x[:, 2] > 0)
    return x, y


def _model(precision, loss="cross_entropy"):
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 4))
    model.compile(lambda ps: gk.optim.Adam(ps, lr=0.01), loss, metrics=["accuracy"],
                  precision=precision)
    return model


def test_16_mixed_reaches_float32_accuracy():
    x, y = _data()
    results = {}
    for precision in ("32", "16-mixed"):
        model = _model(precision)
        model.fit(x, y, epochs=8, batch_size=32, verbose=0)
        results[precision] = model.evaluate(x, y)
        assert {p.dtype for p in model.parameters()} == {np.dtype("float32")}
    assert results["32"]["accuracy"] > 0.8
    assert abs(results["16-mixed"]["accuracy"] - results["32"]["accuracy"]) < 0.03
    assert abs(results["16-mixed"]["loss"] - results["32"]["loss"]) < 0.05


def test_the_steps_run_under_autocast_and_the_scaler_updates():
    x, y = _data()
    seen = []

    def loss(y_pred, y_true):
        seen.append(y_pred.dtype)
        return nn.functional.cross_entropy(y_pred, y_true)

    model = _model("16-mixed", loss)
    scaler = model._train_config.scaler
    assert isinstance(scaler, gk.GradScaler)
    scaler.set_growth_interval(5)
    model.fit(x[:320], y[:320], epochs=1, batch_size=32, verbose=0)  # 10 good steps
    assert set(seen) == {np.dtype("float16")}
    assert scaler.get_scale() == 2.0 ** 18
    assert _model("32")._train_config.scaler is None
    assert _model("bf16")._train_config.scaler is None


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        return self.fc(x)


def test_evaluate_and_predict_run_under_autocast():
    x, y = _data()
    gk.manual_seed(0)
    model = _Net()
    seen = []

    def loss(y_pred, y_true):
        seen.append(y_pred.dtype)
        return nn.functional.cross_entropy(y_pred, y_true)

    model.compile("adam", loss, precision="16-mixed")
    model.evaluate(x, y)
    assert set(seen) == {np.dtype("float16")}
    assert model.predict(x[:8]).dtype == np.float16  # the model's own outputs
    seq = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))
    with gk.no_grad(), gk.autocast("float16"):  # not nn/inference.py's float32 path
        assert seq(gk.tensor(x[:8])).dtype == np.float16
    seq.compile("adam", "cross_entropy", precision="16-mixed")
    assert seq.predict(x[:8]).dtype == np.float16


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_an_inf_gradient_skips_the_update_in_fit():
    x, y = _data()
    model = _model("16-mixed")
    model._train_config.scaler.update(new_scale=1e38)  # scaled gradients overflow
    before = [p.numpy().copy() for p in model.parameters()]
    model.fit(x[:64], y[:64], epochs=1, batch_size=64, verbose=0)
    assert all(np.array_equal(b, p.numpy()) for b, p in zip(before, model.parameters()))
    assert model._train_config.scaler.get_scale() < 1e38


def test_bf16_mixed_on_the_cpu_says_it_needs_a_gpu():
    x, y = _data()
    model = _model("bf16-mixed")
    with pytest.raises(gk.DTypeError, match="bfloat16.*'cpu'"):
        model.fit(x, y, epochs=1, verbose=0)


@pytest.mark.parametrize("given, name", [("32", "32"), (32, "32"), ("32-true", "32"),
                                         ("16-mixed", "16-mixed"), (16, "16-mixed"),
                                         ("16", "16-mixed"), ("bf16-mixed", "bf16-mixed"),
                                         ("bf16", "bf16-mixed")])
def test_accepted_spellings(given, name):
    assert resolve_precision(given) == name


@pytest.mark.parametrize("bad", ["16-true", "fp16", 64, True, None, 16.0])
def test_bad_precision_names_the_accepted_values(bad):
    with pytest.raises(ValueError, match="precision must be one of.*16-mixed.*bf16-mixed"):
        _model(bad)


def test_jit_compile_with_mixed_precision_is_refused():
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 4))
    with pytest.raises(ValueError, match="jit_compile=True with precision='16-mixed' is not "
                                         "supported"):
        model.compile("adam", "cross_entropy", precision="16-mixed", jit_compile=True)


def test_checkpoints_keep_the_scaler(tmp_path):
    model = _model("16-mixed")
    opt = model.optimizer
    scaler = gk.GradScaler(init_scale=32.0, growth_interval=7)
    scaler._growth_tracker = 4
    path = tmp_path / "ckpt.safetensors"
    gk.save_checkpoint(path, model, opt, scaler=scaler)
    restored = gk.GradScaler()
    gk.load_checkpoint(path, model, opt, scaler=restored)
    assert restored.state_dict() == scaler.state_dict()
    # compile's scaler is saved and restored without being passed
    model._train_config.scaler.update(new_scale=128.0)
    gk.save_checkpoint(path, model, opt)
    other = _model("16-mixed")
    gk.load_checkpoint(path, other, other.optimizer)
    assert other._train_config.scaler.get_scale() == 128.0
    plain = tmp_path / "plain.safetensors"
    gk.save_checkpoint(plain, _model("32"))
    with pytest.raises(ValueError, match="no scaler state"):
        gk.load_checkpoint(plain, _model("32"), scaler=gk.GradScaler())
