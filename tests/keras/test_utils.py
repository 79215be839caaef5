"""keras.utils (to_categorical, pad_sequences, normalize, plot_model), keras.datasets
(through gradkit's loaders), keras.backend, activations, initializers and regularizers by
name."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.keras as keras
from gradkit.keras import layers


def test_to_categorical_as_keras():
    out = keras.utils.to_categorical([0, 2, 1, 2])
    assert out.dtype == np.float32 and out.shape == (4, 3)
    np.testing.assert_array_equal(out.argmax(axis=1), [0, 2, 1, 2])
    assert keras.utils.to_categorical(np.array([[1], [3]]), num_classes=5).shape == (2, 5)
    assert keras.utils.to_categorical(np.zeros((2, 3), int), 4).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="does not fit num_classes=2"):
        keras.utils.to_categorical([0, 2], num_classes=2)


def test_pad_sequences_and_normalize():
    padded = keras.utils.pad_sequences([[1, 2, 3], [4], [5, 6, 7, 8, 9]], maxlen=4)
    np.testing.assert_array_equal(padded, [[0, 1, 2, 3], [0, 0, 0, 4], [6, 7, 8, 9]])
    post = keras.utils.pad_sequences([[1, 2], [3]], padding="post", truncating="post",
                                     maxlen=1, value=-1)
    np.testing.assert_array_equal(post, [[1], [3]])
    unit = keras.utils.normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(unit, [[0.6, 0.8], [0.0, 0.0]])


def test_plot_model_draws_the_layers(tmp_path):
    pytest.importorskip("matplotlib")
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    out = layers.Dense(1, name="out")(layers.Concatenate(name="cat")([a, b]))
    fig = keras.utils.plot_model(keras.Model([a, b], out), to_file=tmp_path / "m.png",
                                 show_shapes=True)
    texts = [t.get_text() for t in fig.axes[0].texts]
    boxes = [t for t in texts if t]
    assert sorted(b.split(" ")[0] for b in boxes) == ["a", "b", "cat", "out"]
    assert "cat (Concatenate)\n(None, 5)" in boxes
    assert texts.count("") == 3  # the arrows a -> cat, b -> cat, cat -> out
    assert (tmp_path / "m.png").stat().st_size > 1000


def test_datasets_load_data_as_keras_through_gradkits_loaders(monkeypatch):
    assert keras.datasets.mnist._loader is gk.datasets.load_mnist
    assert keras.datasets.fashion_mnist._loader is gk.datasets.load_fashion_mnist
    images = np.zeros((5, 28, 28), np.uint8)
    monkeypatch.setattr(keras.datasets.mnist, "_loader",
                        lambda: ((images, np.arange(5, dtype=np.int64)), (images[:2],
                                                                          np.zeros(2, np.int64))))
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    assert (x_train.dtype, y_train.dtype, x_test.shape) == (np.uint8, np.uint8, (2, 28, 28))
    np.testing.assert_array_equal(y_train, np.arange(5))
    with pytest.raises(AttributeError, match="keras.datasets.cifar10 is not in"):
        keras.datasets.cifar10  # noqa: B018


def test_backend_functions_and_names_resolve():
    assert keras.backend.epsilon() == 1e-7 and keras.backend.floatx() == "float32"
    assert keras.backend.image_data_format() == "channels_last"
    dense = layers.Dense(2)
    dense(np.zeros((1, 3), np.float32))
    keras.backend.set_value(dense.bias, [1.0, 2.0])
    np.testing.assert_array_equal(keras.backend.get_value(dense.bias), [1.0, 2.0])
    x = gk.tensor([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(keras.activations.get("relu")(x).numpy(), [0, 0, 2])
    np.testing.assert_allclose(keras.activations.get("leaky_relu")(x).numpy(), [-0.2, 0, 2])
    np.testing.assert_allclose(keras.activations.relu(x, max_value=1.0).numpy(), [0, 0, 1])
    assert keras.activations.get(None)(x) is x
    assert isinstance(keras.initializers.get("he_normal"), keras.initializers.HeNormal)
    assert float(keras.regularizers.get("l2")(gk.tensor([1.0, 2.0]))) == pytest.approx(0.05)
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        keras.activations.get("swishy")
