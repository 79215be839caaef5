"""The Keras dialect's models without Keras itself: shape inference, the functional API
(several inputs and outputs, shared layers, nested models), subclassed models, weights,
freezing, names, and errors that name the gradkit way."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.keras as keras
from gradkit.keras import layers

R = np.random.default_rng(3)


def test_dense_infers_its_input_size_on_the_first_call():
    layer = layers.Dense(4, activation="relu")
    assert not layer.built and layer.weights == []
    out = layer(R.normal(size=(5, 3)))
    assert layer.built and out.shape == (5, 4) and (out.numpy() >= 0).all()
    assert [w.shape for w in layer.weights] == [(3, 4), (4,)]
    assert [w.path for w in layer.weights] == ["dense/kernel", "dense/bias"]
    np.testing.assert_array_equal(layer.bias.numpy(), 0)  # bias "zeros", kernel glorot
    limit = np.sqrt(6 / (3 + 4))
    assert np.abs(layer.kernel.numpy()).max() <= limit


def test_an_explicit_build_creates_the_weights_once():
    layer = layers.Dense(3)
    layer.build((None, 4))
    assert layer.built and [w.shape for w in layer.weights] == [(4, 3), (3,)]
    layer(np.zeros((2, 4), np.float32))
    assert len(layer.weights) == 2
    model = keras.Sequential([layers.Dense(2)])
    model.build((None, 5))
    assert model.built and model.count_params() == 12 and model.output_shape == (None, 2)


def test_sequential_with_input_shape_is_built_at_once_and_names_count_up():
    model = keras.Sequential([layers.Dense(8, input_shape=(4,)), layers.Dense(2)])
    assert model.built and model.count_params() == 4 * 8 + 8 + 8 * 2 + 2
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert model.output_shape == (None, 2) and model.layers[0].output_shape == (None, 8)
    other = keras.Sequential()
    other.add(keras.Input(shape=(3,)))
    other.add(layers.Dense(5))
    assert other.layers[0].name == "dense_2" and other.output_shape == (None, 5)


def test_sequential_without_an_input_is_built_by_its_first_data():
    model = keras.Sequential([layers.Dense(3, activation="relu"), layers.Dense(1)])
    assert not model.built
    assert "0 (unbuilt)" in model.summary(print_fn=lambda s: None)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(R.normal(size=(10, 6)).astype(np.float32), R.normal(size=(10, 1)), verbose=0)
    assert model.built and model.layers[0].kernel.shape == (6, 3)
    assert "(None, 3)" in model.summary(print_fn=lambda s: None)


def test_functional_model_with_two_inputs_two_outputs_and_a_shared_layer():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = layers.Dense(4, activation="tanh", name="shared")
    ha, hb = shared(a), shared(b)
    out1 = layers.Dense(1, name="sum")(layers.Add()([ha, hb]))
    out2 = layers.Concatenate(name="both")([ha, hb])
    model = keras.Model(inputs=[a, b], outputs=[out1, out2])
    assert [layer.name for layer in model.layers][:3] == ["a", "b", "shared"]
    assert len(shared.weights) == 2 and len(shared._inbound_nodes) == 2
    xa, xb = R.normal(size=(5, 3)).astype(np.float32), R.normal(size=(5, 3)).astype(np.float32)
    y1, y2 = model([xa, xb])
    assert y1.shape == (5, 1) and y2.shape == (5, 8)
    w, bias = shared.get_weights()
    np.testing.assert_allclose(y2.numpy()[:, :4], np.tanh(xa @ w + bias), rtol=1e-5)
    np.testing.assert_allclose(y2.numpy()[:, 4:], np.tanh(xb @ w + bias), rtol=1e-5)
    by_name = model({"b": xb, "a": xa})
    np.testing.assert_allclose(by_name[0].numpy(), y1.numpy())
    assert dict(model.named_parameters()).keys() == {"shared.kernel", "shared.bias",
                                                     "sum.kernel", "sum.bias"}


def test_functional_graph_errors_name_the_problem():
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    out = layers.Dense(1)(layers.Add()([a, b]))
    with pytest.raises(ValueError, match="graph disconnected.*'b'"):
        keras.Model(a, out)
    model = keras.Model([a, b], out)
    with pytest.raises(gk.ShapeError, match="input 'a' of the model expects shape"):
        model([np.zeros((3, 5), np.float32), np.zeros((3, 2), np.float32)])
    with pytest.raises(TypeError, match="both inputs and outputs"):
        keras.Model(inputs=a)


def test_a_model_is_a_layer_of_another_model():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu")])
    x = keras.Input((4,))
    outer = keras.Model(x, layers.Dense(2)(inner(x)))
    assert outer.count_params() == inner.count_params() + 3 * 2 + 2
    data = R.normal(size=(6, 4)).astype(np.float32)
    np.testing.assert_allclose(outer.predict(data, verbose=0),
                               outer.layers[-1](inner(data)).numpy(), rtol=1e-6)


class TwoLayers(keras.Model):
    def __init__(self, units=4):
        super().__init__()
        self.hidden = layers.Dense(units, activation="relu")
        self.drop = layers.Dropout(0.5)
        self.out = layers.Dense(1)

    def call(self, inputs, training=None):
        return self.out(self.drop(self.hidden(inputs), training=training))


def test_subclassed_model_builds_lazily_and_trains():
    model = TwoLayers()
    assert model.name == "two_layers" and not model.hidden.built
    x = R.normal(size=(16, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=40, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first / 2
    assert [w.shape for w in model.get_weights()] == [(3, 4), (4,), (4, 1), (1,)]
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_training_flag_follows_keras():
    drop = layers.Dropout(0.5)
    x = np.ones((50, 20), np.float32)
    np.testing.assert_array_equal(drop(x).numpy(), x)  # a plain call is inference
    dropped = drop(x, training=True).numpy()
    assert (dropped == 0).mean() > 0.3 and set(np.unique(dropped)) <= {0.0, 2.0}
    bn = layers.BatchNormalization()
    bn(x * 3, training=True)
    assert np.allclose(bn.moving_mean.numpy(), 0.03)  # 0.99 * 0 + 0.01 * 3


def test_get_set_weights_and_freezing():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2), layers.BatchNormalization()])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 2), (2,), (2,), (2,), (2,), (2,)]
    model.set_weights([np.full_like(w, i) for i, w in enumerate(weights)])
    assert model.layers[1].moving_mean.numpy().tolist() == [4.0, 4.0]
    with pytest.raises(ValueError, match="has shape \\(3, 2\\), got an array of shape"):
        model.set_weights([np.zeros((2, 3))] + weights[1:])
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 2
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and not model.layers[0].kernel.requires_grad
    model.trainable = True
    assert len(model.trainable_weights) == 4  # moving statistics stay non-trainable


def test_layers_on_sequences_images_and_merges_have_kerass_shapes():
    seq = keras.Sequential([keras.Input((None,), dtype="int64"), layers.Embedding(20, 6),
                            layers.Conv1D(4, 3, padding="same"),
                            layers.Bidirectional(layers.LSTM(5, return_sequences=True)),
                            layers.GRU(3), layers.Dense(2)])
    assert seq.layers[0].output_shape == (None, None, 6)
    assert seq.layers[2].output_shape == (None, None, 10)
    assert seq.predict(R.integers(0, 20, (4, 9)), verbose=0).shape == (4, 2)
    img = keras.Sequential([keras.Input((9, 9, 2)), layers.Conv2D(3, 3, strides=2,
                                                                  padding="same"),
                            layers.AveragePooling2D(), layers.Flatten(), layers.Reshape((3, -1))])
    assert [layer.output_shape for layer in img.layers] == [(None, 5, 5, 3), (None, 2, 2, 3),
                                                            (None, 12), (None, 3, 4)]
    assert img.predict(np.zeros((2, 9, 9, 2), np.float32), verbose=0).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="cannot reshape samples of shape \\(3, 4\\)"):
        img.add(layers.Reshape((5,)))
    assert len(img.layers) == 4 and img.output_shape == (None, 3, 4)  # not added


def test_average_pooling_same_averages_the_real_pixels_only_as_tensorflow():
    x = np.arange(8, dtype=np.float32).reshape(1, 8, 1)
    out = layers.AveragePooling1D(3, strides=3, padding="same")(x).numpy().ravel()
    # TensorFlow's "same": windows [0,1,2], [3,4,5], [6,7] (the one pad pixel at the end)
    np.testing.assert_allclose(out, [1.0, 4.0, 6.5])
    biggest = layers.MaxPooling1D(3, strides=3, padding="same")(-x).numpy().ravel()
    np.testing.assert_allclose(biggest, [0.0, -3.0, -6.0])


def test_missing_names_say_so_and_name_the_gradkit_way():
    with pytest.raises(AttributeError, match="keras.layers.MultiHeadAttention is not in "
                                             "gradkit's Keras; instead: gradkit.nn"):
        layers.MultiHeadAttention  # noqa: B018
    with pytest.raises(AttributeError, match="keras.ops is not in gradkit's Keras.*gk.exp"):
        keras.ops  # noqa: B018
    with pytest.raises(AttributeError, match="optimizers.Nadam"):
        keras.optimizers.Nadam  # noqa: B018
    assert not hasattr(keras.layers, "Conv3D")
    with pytest.raises(ValueError, match="unknown optimizer 'nadam'.*gradkit.optim"):
        keras.optimizers.get("nadam")
    with pytest.raises(NotImplementedError, match="mask_zero.*pad_sequences"):
        layers.Embedding(10, 3, mask_zero=True)
