"""model.save / keras.models.load_model (one safetensors file, any name: `.keras` too),
save_weights / load_weights (also into another instance whose layers got other names),
to_json / model_from_json, clone_model."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradkit as gk
import gradkit.keras as keras
from gradkit.io import read_metadata, read_safetensors
from gradkit.keras import layers

R = np.random.default_rng(9)


def _functional():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    shared = layers.Dense(5, activation="relu", kernel_regularizer="l2")
    merged = layers.concatenate([shared(a), layers.Dense(5)(b)])
    out = layers.Dense(2, activation="softmax", name="out")(layers.BatchNormalization()(merged))
    return keras.Model([a, b], out, name="two_in")


def _data():
    return [R.normal(size=(8, 4)).astype(np.float32), R.normal(size=(8, 3)).astype(np.float32)]


@pytest.mark.parametrize("make,x", [
    (_functional, _data()),
    (lambda: keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(2, 3, activation="relu"),
                               layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.2),
                               layers.Dense(3)]), R.normal(size=(4, 6, 6, 1)).astype(np.float32)),
    (lambda: keras.Sequential([layers.Embedding(30, 4, input_length=7),
                               layers.Bidirectional(layers.GRU(3)), layers.Dense(1)]),
     R.integers(0, 30, (5, 7))),
])
def test_save_and_load_model_gives_back_the_same_model(tmp_path, make, x):
    model = make()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    path = model.save(tmp_path / "model.keras")
    tensors, meta = read_safetensors(path)
    assert set(tensors) == set(model.state_dict())  # plain safetensors inside
    assert json.loads(meta["keras_model"])["class_name"] in ("Functional", "Sequential")
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert again.compiled and isinstance(again.optimizer, keras.optimizers.Adam)
    assert again.optimizer.learning_rate == pytest.approx(0.01)
    assert [type(la).__name__ for la in again.layers] == [type(la).__name__ for la in
                                                          model.layers]


def test_weights_load_into_another_instance_by_position(tmp_path):
    first, second = _functional(), _functional()  # second's layers are dense_3, ... not dense
    assert set(first.state_dict()) != set(second.state_dict())
    first.save_weights(tmp_path / "w.weights.h5")
    second.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    gk.load(tmp_path / "w.weights.h5", model=first)  # gradkit's own readers take it too
    assert read_metadata(tmp_path / "w.weights.h5")["format"] == "gradkit.weights"


def test_json_round_trip_and_clone_give_fresh_weights():
    model = _functional()
    twin = keras.models.model_from_json(model.to_json())
    clone = keras.models.clone_model(model)
    for other in (twin, clone):
        assert [w.shape for w in other.get_weights()] == [w.shape for w in model.get_weights()]
        assert not np.allclose(other.get_weights()[0], model.get_weights()[0])
        assert other.count_params() == model.count_params()


def test_loading_what_is_not_a_keras_model_says_what_to_do(tmp_path):
    model = _functional()
    model.save_weights(tmp_path / "only.weights.h5")
    with pytest.raises(ValueError, match="holds no Keras model.*load_weights"):
        keras.models.load_model(tmp_path / "only.weights.h5")
    lazy = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not built yet"):
        lazy.save(tmp_path / "lazy.keras")
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "only.weights.h5", overwrite=False)


class Custom(keras.layers.Layer):
    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones",
                                 name="w")

    def call(self, inputs):
        return gk.matmul(inputs, self.w) * 2

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_custom_layers_load_with_custom_objects(tmp_path):
    model = keras.Sequential([keras.Input((3,)), Custom(4), layers.Dense(1)])
    model.save(tmp_path / "custom.keras")
    with pytest.raises(ValueError, match="custom_objects=\\{'Custom'"):
        keras.models.load_model(tmp_path / "custom.keras")
    again = keras.models.load_model(tmp_path / "custom.keras", custom_objects={"Custom": Custom})
    x = R.normal(size=(2, 3)).astype(np.float32)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert again.layers[0].w.shape == (3, 4)
