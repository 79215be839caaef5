"""`model.compile(..., jit_compile=True)`: fit, evaluate and predict on compiled steps give
the eager numbers bit for bit, with callbacks, metrics, progress, a partial last batch and
the data checks behaving as in eager mode; the Keras dialect takes the same path."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.data import DataLoader, Dataset
from gradkit.jit import CompileWarning

from .zoo import same_model_state


def _data(n: int = 250, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.int64)


def _model(jit: bool, optimizer="adam", **options) -> nn.Module:
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(16, 2))
    model.compile(optimizer=optimizer, loss="cross_entropy", metrics=["accuracy"],
                  jit_compile=jit, **options)
    return model


def _steps(model: nn.Module) -> dict:
    """The compiled functions fit/evaluate/predict made: kind -> CompiledFunction."""
    found = model._train_config.jit_steps
    return {(k if isinstance(k, str) else k[0]): f.compiled for k, f in found.items()
            if callable(f)}


def _fit_all(jit: bool, callbacks=None, **options):
    model = _model(jit, **options)
    x, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)  # nothing fell back to eager
        history = model.fit(x, y, epochs=4, batch_size=32, validation_split=0.2, verbose=0,
                            callbacks=callbacks)
        logs = model.evaluate(x, y, batch_size=64)
        out = model.predict(x, batch_size=64)
    return model, history.history, logs, out


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_fit_evaluate_predict_compiled_equal_eager_bitwise(optimizer):
    eager = _fit_all(False, optimizer=optimizer, clipnorm=1.0)
    compiled = _fit_all(True, optimizer=optimizer, clipnorm=1.0)
    assert compiled[1] == eager[1]  # every epoch's loss, accuracy, val_*, lr
    assert compiled[2] == eager[2]
    assert compiled[3].tobytes() == eager[3].tobytes()
    same_model_state(eager[0], compiled[0])
    steps = _steps(compiled[0])
    # 200 training samples in batches of 32: 6 full ones and a partial one, two plans
    assert steps["train"].traces == 2 and len(steps["train"].plans) == 2
    assert all(p.fallbacks == 0 for f in steps.values() for p in f.plans)
    assert steps["test"].plans and steps["predict"].plans


class _Halve(gk.callbacks.Callback):
    """Halves the learning rate after every epoch (a schedule, between replays)."""

    def on_epoch_end(self, epoch, logs=None):
        self.model.optimizer.param_groups[0]["lr"] *= 0.5


def test_callbacks_see_the_eager_logs_and_an_lr_change_needs_no_retrace():
    def run(jit: bool):
        seen: list = []

        def on_batch_end(batch, logs):
            seen.append((batch, logs["loss"], logs["accuracy"], logs["size"]))

        cbs = [gk.callbacks.LambdaCallback(on_batch_end=on_batch_end), _Halve(),
               gk.callbacks.WeightHistory(), gk.callbacks.TerminateOnNaN()]
        model, history, _, _ = _fit_all(jit, callbacks=cbs)
        return model, history, seen, cbs[2].max_abs

    eager, compiled = run(False), run(True)
    assert compiled[1] == eager[1] and compiled[2] == eager[2] and compiled[3] == eager[3]
    assert compiled[1]["lr"] == [0.001, 0.0005, 0.00025, 0.000125]
    assert _steps(compiled[0])["train"].traces == 2


def test_a_second_fit_replays_the_first_fits_plans():
    model = _model(True)
    x, y = _data()
    model.fit(x, y, epochs=3, batch_size=50, verbose=0)
    train = _steps(model)["train"]
    traces = train.traces
    model.fit(x, y, epochs=2, batch_size=50, verbose=0)
    assert train.traces == traces == 1  # 250 = 5 x 50: one signature, traced once
    model.compile(optimizer="adam", loss="cross_entropy", jit_compile=True)
    assert not _steps(model)  # compile() again starts afresh


def test_progress_bar_prints_as_in_eager_mode(capsys):
    def run(jit: bool) -> str:
        model = _model(jit)
        x, y = _data()
        model.fit(x, y, epochs=2, batch_size=64, verbose=1)
        return capsys.readouterr().out

    eager, compiled = run(False), run(True)
    assert len(compiled.splitlines()) == 2 and "loss:" in compiled
    # the same lines but for the time and speed ("Epoch 1/2 - 0.0s - 9,000 samples/s - ")
    assert [line.split("loss:")[1] for line in compiled.splitlines()] == \
        [line.split("loss:")[1] for line in eager.splitlines()]


class _Pairs(Dataset):
    """A dataset that the up-front checks cannot see into (not a TensorDataset)."""

    def __init__(self, x, y) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def test_a_bad_batch_in_the_middle_raises_the_eager_error():
    x, y = _data(160)
    y = y.copy()
    y[140] = 5  # a label outside [0, 2) in the last batch of the epoch
    errors = []
    for jit in (False, True):
        model = _model(jit)
        loader = DataLoader(_Pairs(x, y), batch_size=20, shuffle=False)
        with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)") as info:
            model.fit(loader, epochs=3, verbose=0)
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def test_nan_inputs_raise_the_eager_error_from_a_replay():
    model = _model(True)
    x, y = _data(160)
    model.fit(x, y, epochs=2, batch_size=40, verbose=0)  # traced: later calls replay
    bad = x.copy()
    bad[3, 1] = np.nan
    loader = DataLoader(_Pairs(bad, y), batch_size=40, shuffle=False)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(loader, epochs=1, verbose=0)


def test_automatic_optimization_off_and_custom_steps_still_train():
    class Manual(nn.Module):
        automatic_optimization = False

        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))

        def forward(self, x):
            return self.net(x)

        def train_step(self, batch):
            x, y = batch
            self.optimizer.zero_grad()
            loss = nn.functional.cross_entropy(self(x), y)
            loss.backward()
            self.optimizer.step()
            return {"loss": loss, "y_pred": self(x)}

    results = []
    for jit in (False, True):
        gk.manual_seed(0)
        model = Manual()
        model.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"],
                      jit_compile=jit)
        x, y = _data()
        results.append((model.fit(x, y, epochs=2, batch_size=50, verbose=0).history,
                        [p.data.tobytes() for p in model.parameters()]))
    assert results[0] == results[1]


def test_jit_compile_must_be_a_bool():
    with pytest.raises(TypeError, match="jit_compile must be True or False"):
        _model("yes")  # type: ignore[arg-type]


def test_keras_dialect_jit_compile_takes_the_same_path():
    keras = pytest.importorskip("gradkit.keras")
    x, y = _data()

    def run(jit):
        gk.manual_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dropout(0.2),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["acc"], jit_compile=jit)
        with warnings.catch_warnings():
            warnings.simplefilter("error", CompileWarning)
            history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
        return model, history.history, model.predict(x, verbose=0)

    eager, compiled = run("auto"), run(True)
    assert compiled[1] == eager[1]
    assert compiled[2].tobytes() == eager[2].tobytes()
    assert _steps(compiled[0])["train"].plans
    assert not _steps(eager[0])  # "auto" stays eager, as Keras on the torch backend
    with pytest.raises(ValueError, match="jit_compile must be True, False or 'auto'"):
        eager[0].compile(optimizer="adam", loss="mse", jit_compile="xla")
