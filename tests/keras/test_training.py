"""compile / fit / evaluate / predict with Keras's names and semantics on gradkit's loop:
history keys as written, Keras 2's positional compile, several outputs, the logits /
probabilities warnings, regularization in the loss, the *_on_batch methods, learning-rate
schedules, and keras.callbacks (EarlyStopping, ModelCheckpoint, LearningRateScheduler,
BackupAndRestore, a Callback with on_train_batch_end)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradkit.keras as keras
from gradkit.keras import layers

R = np.random.default_rng(5)
X = R.normal(size=(64, 2)).astype(np.float32)
Y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)  # XOR-like: no line separates it


def _binary(units=16):
    return keras.Sequential([keras.Input((2,)), layers.Dense(units, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])


def test_history_keys_are_the_names_written_and_keras_2_positional_compile_works():
    model = _binary()

    def half_error(y_true, y_pred):
        return abs(y_true - y_pred) * 0.5

    model.compile("adam", "binary_crossentropy", ["acc", "mse", half_error])  # Keras 2 order
    history = model.fit(X, Y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert sorted(history.history) == ["acc", "half_error", "loss", "mse", "val_acc",
                                       "val_half_error", "val_loss", "val_mse"]
    assert history is model.history and history.epoch == [0, 1, 2]
    assert all(len(v) == 3 for v in history.history.values())
    assert model.metrics_names == ["loss", "acc", "mse", "half_error"]
    assert 0 < history.history["half_error"][-1] < 0.5 and 0 <= history.history["acc"][-1] <= 1


def test_keras_semantics_reach_the_accuracy_of_an_xor_problem():
    model = _binary(32)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.02),
                  loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X, Y, epochs=60, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    loss, acc = model.evaluate(X, Y, verbose=0)
    assert acc > 0.9 and loss == pytest.approx(
        float(keras.losses.binary_crossentropy(Y[:, None], model.predict(X, verbose=0)).numpy()
              .mean()), rel=1e-4)


def test_evaluate_returns_keras_forms():
    model = _binary()
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    assert isinstance(model.evaluate(X, Y, verbose=0), float)
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["acc"])
    loss, acc = model.evaluate(X, Y, verbose=0)
    assert model.evaluate(X, Y, verbose=0, return_dict=True) == {"loss": loss, "acc": acc}


def test_several_outputs_log_each_loss_and_metric_under_the_output_name():
    x = keras.Input((2,), name="x")
    h = layers.Dense(8, activation="relu")(x)
    y1 = layers.Dense(1, activation="sigmoid", name="sign")(h)
    y2 = layers.Dense(1, name="product")(h)
    model = keras.Model(x, [y1, y2])
    model.compile(optimizer="adam", loss={"sign": "binary_crossentropy", "product": "mse"},
                  loss_weights={"sign": 1.0, "product": 0.5},
                  metrics={"sign": ["acc"], "product": ["mae"]})
    target = (X[:, 0] * X[:, 1])[:, None]
    h = model.fit(X, {"sign": Y, "product": target}, epochs=2, batch_size=10, verbose=0).history
    assert sorted(h) == ["loss", "product_loss", "product_mae", "sign_acc", "sign_loss"]
    combined = h["sign_loss"][-1] + 0.5 * h["product_loss"][-1]
    logs = model.evaluate(X, [Y, target], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["sign_loss"] + 0.5 * logs["product_loss"],
                                         rel=1e-5)
    assert math.isfinite(combined)
    preds = model.predict(X, verbose=0)
    assert isinstance(preds, list) and [p.shape for p in preds] == [(64, 1), (64, 1)]


def test_the_logits_probabilities_traps_are_said_out_loud():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(3, activation="softmax")])
    with pytest.warns(UserWarning, match="applies softmax, but the loss "
                                         "sparse_categorical_crossentropy was given "
                                         "from_logits=True"):
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(X, Y, verbose=0)
    logits = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    with pytest.warns(UserWarning, match="outputs logits, but the loss binary_crossentropy "
                                         "expects probabilities.*from_logits=True"):
        logits.compile(loss="binary_crossentropy")
        logits.fit(X, Y, verbose=0)


def test_regularization_penalties_are_part_of_the_loss():
    def make(penalty):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((2,)), layers.Dense(
            4, kernel_regularizer=penalty, kernel_initializer="ones"), layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        return model

    plain, penalised = make(None), make(keras.regularizers.l2(0.1))
    penalised.set_weights(plain.get_weights())
    difference = penalised.evaluate(X, Y, verbose=0) - plain.evaluate(X, Y, verbose=0)
    assert difference == pytest.approx(0.1 * 8.0, rel=1e-5)  # 0.1 * sum of eight 1s squared
    assert len(penalised.losses) == 1


def test_train_test_and_predict_on_batch():
    model = _binary()
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy",
                  metrics=["acc"])
    before = model.test_on_batch(X, Y)
    for _ in range(30):
        loss, acc = model.train_on_batch(X, Y)
    after = model.test_on_batch(X, Y, return_dict=True)
    assert after["loss"] < before[0] and 0 <= after["acc"] <= 1
    assert not model.training and not model.layers[0].training  # modes restored
    np.testing.assert_allclose(model.predict_on_batch(X[:5]), model.predict(X[:5], verbose=0))


def test_learning_rate_schedules_and_keras_2_arguments():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5)
    model = _binary()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule), loss="mse")
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0)  # 8 steps
    assert model.optimizer.iterations == 8
    assert model.optimizer.learning_rate == pytest.approx(0.1 * 0.5 ** (7 / 4))
    legacy = keras.optimizers.Adam(lr=0.5, decay=1.0)
    assert legacy.learning_rate == 0.5
    assert legacy._schedule(3) == pytest.approx(0.5 / 4)


def test_early_stopping_restores_the_best_weights_and_stops():
    model = _binary()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["acc"])
    stop = keras.callbacks.EarlyStopping(monitor="val_acc", patience=2,
                                         restore_best_weights=True)
    h = model.fit(X, Y, epochs=100, validation_data=(X[:16], Y[:16]), callbacks=[stop],
                  verbose=0).history
    assert len(h["loss"]) < 100 and stop.stopped_epoch > 0
    assert model.evaluate(X[:16], Y[:16], verbose=0)[1] == max(h["val_acc"])


def test_model_checkpoint_writes_loadable_keras_files(tmp_path):
    model = _binary()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc"])
    path = tmp_path / "best.keras"
    check = keras.callbacks.ModelCheckpoint(str(path), monitor="val_loss", save_best_only=True)
    h = model.fit(X, Y, epochs=4, validation_split=0.25, callbacks=[check], verbose=0).history
    best = keras.models.load_model(path)
    assert best.evaluate(X[48:], Y[48:], verbose=0)[0] == pytest.approx(min(h["val_loss"]),
                                                                        rel=1e-4)
    weights = tmp_path / "w{epoch:02d}.weights.h5"
    model.fit(X, Y, epochs=2, callbacks=[keras.callbacks.ModelCheckpoint(
        str(weights), save_weights_only=True)], verbose=0)
    assert sorted(p.name for p in tmp_path.glob("w*")) == ["w01.weights.h5", "w02.weights.h5"]


def test_learning_rate_scheduler_and_a_keras_callback_with_train_batch_hooks():
    seen = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((batch, round(logs["loss"], 6)))

    model = _binary()
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    sched = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
    h = model.fit(X, Y, epochs=3, batch_size=32, callbacks=[sched, Count()], verbose=0)
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    assert [b for b, _ in seen] == [0, 1] * 3
    assert "lr" not in h.history


def test_backup_and_restore_resumes_after_an_interruption(tmp_path):
    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    def make():
        keras.utils.set_random_seed(1)
        model = _binary()
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
        return model

    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    model = make()
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, epochs=6, shuffle=False, callbacks=[backup, Crash()], verbose=0)
    resumed = make()
    h = resumed.fit(X, Y, epochs=6, shuffle=False, callbacks=[backup], verbose=0)
    assert h.epoch == [3, 4, 5]  # epochs 0-2 were backed up (the crash came after the backup)
    straight = make()
    straight.fit(X, Y, epochs=6, shuffle=False, verbose=0)
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not (tmp_path / "backup" / "backup.safetensors").exists()  # deleted at the end


def test_multi_input_fit_with_validation_split_and_dicts():
    a, b = keras.Input((2,), name="a"), keras.Input((1,), name="b")
    out = layers.Dense(1, activation="sigmoid")(layers.Concatenate()([a, b]))
    model = keras.Model([a, b], out)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc"])
    extra = R.normal(size=(64, 1)).astype(np.float32)
    h = model.fit({"a": X, "b": extra}, Y, epochs=2, batch_size=10, validation_split=0.25,
                  verbose=0).history
    assert sorted(h) == ["acc", "loss", "val_acc", "val_loss"]
    assert model.predict([X, extra], verbose=0).shape == (64, 1)


def test_unsupported_arguments_say_what_to_do():
    model = _binary()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    with pytest.raises(NotImplementedError, match="class_weight"):
        model.fit(X, Y, class_weight={0: 1.0, 1: 2.0}, verbose=0)
    with pytest.raises(ValueError, match="unknown loss 'hinge_loss'"):
        model.compile(loss="hinge_loss")
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        model.compile(loss="mse", metrics=["f2"])


def test_fit_takes_batches_from_a_tf_data_pipeline_or_any_iterable():
    tf = pytest.importorskip("gradkit.tf", reason="gradkit.tf (the TensorFlow dialect)")
    assert tf.keras is keras
    ds = tf.data.Dataset.from_tensor_slices((X, Y)).shuffle(64, seed=0).batch(16)
    model = _binary()
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["acc"])
    h = model.fit(ds, epochs=3, validation_data=ds, verbose=0).history
    assert sorted(h) == ["acc", "loss", "val_acc", "val_loss"]
    assert model.evaluate(ds, verbose=0)[0] == pytest.approx(h["val_loss"][-1], rel=1e-5)
    pairs = [(X[i:i + 32], Y[i:i + 32]) for i in (0, 32)]  # a plain list of batches
    assert model.predict(iter([X[:5], X[5:9]]), verbose=0).shape == (9, 1)
    assert len(model.fit(_Batches(pairs), epochs=2, verbose=0).history["loss"]) == 2


class _Batches:
    def __init__(self, pairs):
        self.pairs = pairs

    def __iter__(self):
        return iter(self.pairs)

    def __len__(self):
        return len(self.pairs)


def test_the_learning_rate_reads_and_assigns_as_a_keras_variable():
    opt = keras.optimizers.RMSprop(learning_rate=0.01)
    assert float(opt.learning_rate) == 0.01 and opt.learning_rate.numpy().dtype == np.float32
    opt.learning_rate.assign(0.5)
    assert opt.learning_rate == 0.5 and opt.rho == 0.9 and opt.epsilon == 1e-7
