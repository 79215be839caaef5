"""Layer by layer against Keras 3 (PyTorch backend): the same weights (copied with
`get_weights` / `set_weights`) give the same outputs, in inference and in training mode, and
the weights have Keras's shapes and order; a compiled model trained on the same data from the
same weights reports the same losses. Skipped, with the reason, where Keras is missing."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.keras as keras

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
R = np.random.default_rng(11)


def _f(*shape):
    return R.normal(size=shape).astype(np.float32)


def _np(ref, t):
    return np.asarray(ref.ops.convert_to_numpy(t))


CASES = [
    ("dense-relu", lambda k: k.layers.Dense(5, activation="relu"), _f(4, 3)),
    ("dense-softmax-nobias", lambda k: k.layers.Dense(5, activation="softmax", use_bias=False),
     _f(4, 3)),
    ("dense-3d", lambda k: k.layers.Dense(3, activation="tanh"), _f(2, 4, 6)),
    ("conv2d-valid", lambda k: k.layers.Conv2D(4, 3), _f(2, 7, 8, 3)),
    ("conv2d-same-stride", lambda k: k.layers.Conv2D(4, 3, strides=2, padding="same",
                                                      activation="relu"), _f(2, 7, 8, 3)),
    ("conv2d-dilated", lambda k: k.layers.Conv2D(6, (2, 3), dilation_rate=2, padding="same"),
     _f(2, 7, 8, 2)),
    ("conv2d-groups", lambda k: k.layers.Conv2D(4, 3, groups=2), _f(2, 6, 6, 4)),
    ("conv1d-causal", lambda k: k.layers.Conv1D(4, 3, padding="causal"), _f(2, 9, 3)),
    ("conv1d-same-stride", lambda k: k.layers.Conv1D(5, 4, strides=2, padding="same"),
     _f(2, 9, 3)),
    ("maxpool2d", lambda k: k.layers.MaxPooling2D(), _f(2, 6, 7, 3)),
    ("maxpool2d-same", lambda k: k.layers.MaxPooling2D(3, strides=2, padding="same"),
     _f(2, 7, 8, 3)),
    ("avgpool2d", lambda k: k.layers.AveragePooling2D(2), _f(2, 6, 6, 3)),
    ("avgpool2d-same", lambda k: k.layers.AveragePooling2D(3, strides=2, padding="same"),
     _f(2, 7, 9, 3)),  # symmetric padding (Keras's torch backend averages in a replicated
    # edge where TensorFlow's "same" pads one side only; test_layers checks gradkit's TF way)
    ("maxpool1d", lambda k: k.layers.MaxPooling1D(2), _f(2, 9, 3)),
    ("avgpool1d-same", lambda k: k.layers.AveragePooling1D(3, strides=1, padding="same"),
     _f(2, 8, 3)),
    ("global-avg2d", lambda k: k.layers.GlobalAveragePooling2D(), _f(2, 5, 4, 3)),
    ("global-max1d", lambda k: k.layers.GlobalMaxPooling1D(), _f(2, 6, 3)),
    ("batchnorm", lambda k: k.layers.BatchNormalization(), _f(6, 4) * 3 + 1),
    ("batchnorm-images", lambda k: k.layers.BatchNormalization(momentum=0.9), _f(3, 4, 4, 2)),
    ("layernorm", lambda k: k.layers.LayerNormalization(), _f(3, 5, 4) * 2),
    ("embedding", lambda k: k.layers.Embedding(10, 4), R.integers(0, 10, (3, 5))),
    ("simplernn", lambda k: k.layers.SimpleRNN(4), _f(2, 5, 3)),
    ("simplernn-relu-seq", lambda k: k.layers.SimpleRNN(4, activation="relu",
                                                        return_sequences=True), _f(2, 5, 3)),
    ("lstm-seq-state", lambda k: k.layers.LSTM(3, return_sequences=True, return_state=True),
     _f(2, 6, 4)),
    ("lstm-backwards", lambda k: k.layers.LSTM(4, go_backwards=True, return_sequences=True),
     _f(2, 6, 3)),
    ("gru", lambda k: k.layers.GRU(3), _f(2, 6, 4)),
    ("gru-seq-state-back", lambda k: k.layers.GRU(3, return_sequences=True, return_state=True,
                                                  go_backwards=True), _f(2, 6, 4)),
    ("bidirectional-lstm", lambda k: k.layers.Bidirectional(k.layers.LSTM(3,
                                                            return_sequences=True)),
     _f(2, 5, 4)),
    ("bidirectional-gru-sum", lambda k: k.layers.Bidirectional(k.layers.GRU(2),
                                                               merge_mode="sum"), _f(2, 5, 4)),
    ("flatten", lambda k: k.layers.Flatten(), _f(2, 3, 4, 2)),
    ("reshape", lambda k: k.layers.Reshape((4, -1)), _f(2, 3, 4, 2)),
    ("dropout-inference", lambda k: k.layers.Dropout(0.5), _f(3, 4)),
    ("activation-gelu", lambda k: k.layers.Activation("gelu"), _f(3, 4)),
    ("leaky-relu", lambda k: k.layers.LeakyReLU(), _f(3, 4)),
    ("rescaling", lambda k: k.layers.Rescaling(1 / 255, offset=-0.5), R.integers(0, 255, (2, 4))
     .astype(np.float32)),
]


def _pair(ref, make, x):
    theirs, ours = make(ref), make(keras)
    want = theirs(x)
    ours(x)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in
                                                     theirs.get_weights()]
    ours.set_weights(theirs.get_weights())
    return theirs, ours, want


def _outputs(ref, out):
    return [_np(ref, o) for o in out] if isinstance(out, (list, tuple)) else [_np(ref, out)]


def _ours(out):
    return [o.numpy() for o in out] if isinstance(out, (list, tuple)) else [out.numpy()]


@pytest.mark.parametrize("name,make,x", CASES, ids=[c[0] for c in CASES])
def test_layer_outputs_equal_kerass_given_its_weights(ref, name, make, x):
    theirs, ours, want = _pair(ref, make, x)
    for a, b in zip(_ours(ours(x)), _outputs(ref, want)):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


@pytest.mark.parametrize("name,make,x", [c for c in CASES if c[0].startswith(
    ("batchnorm", "dense-relu", "conv2d-valid", "lstm-seq"))], ids=lambda c: str(c)[:20])
def test_training_mode_and_moving_statistics_equal_kerass(ref, name, make, x):
    theirs, ours, _ = _pair(ref, make, x)
    for _ in range(2):
        want, got = theirs(x, training=True), ours(x, training=True)
    for a, b in zip(_ours(got), _outputs(ref, want)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):  # moving mean and variance
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_weights_copied_from_gradkit_give_keras_the_same_outputs(ref):
    x = _f(2, 8, 8, 3)

    def make(k):
        return k.Sequential([k.Input((8, 8, 3)), k.layers.Conv2D(4, 3, activation="relu"),
                             k.layers.MaxPooling2D(), k.layers.BatchNormalization(),
                             k.layers.Flatten(), k.layers.Dense(5, activation="softmax")])

    ours, theirs = make(keras), make(ref)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-6)


def test_normalization_adapts_to_the_data_as_kerass(ref):
    data = _f(50, 3) * np.array([1.0, 5.0, 0.1], np.float32) + 2
    x = _f(4, 3)
    theirs, ours = ref.layers.Normalization(), keras.layers.Normalization()
    theirs.adapt(data)
    ours.adapt(data)
    np.testing.assert_allclose(ours(x).numpy(), _np(ref, theirs(x)), rtol=1e-4, atol=1e-5)
    inverse = keras.layers.Normalization(mean=2.0, variance=4.0, invert=True)
    np.testing.assert_allclose(inverse(x).numpy(), x * 2 + 2, rtol=1e-6)


def test_fit_reports_kerass_losses_from_the_same_weights(ref):
    x = _f(32, 4)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)

    def make(k):
        model = k.Sequential([
            k.Input((4,)),
            k.layers.Dense(8, activation="relu", kernel_regularizer=k.regularizers.l2(0.01)),
            k.layers.BatchNormalization(),
            k.layers.Dense(2, activation="softmax")])
        model.compile(optimizer=k.optimizers.SGD(learning_rate=0.1, momentum=0.9),
                      loss="sparse_categorical_crossentropy", metrics=["acc"])
        return model

    theirs, ours = make(ref), make(keras)
    ours.set_weights(theirs.get_weights())
    want = theirs.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0).history
    got = ours.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0).history
    assert sorted(got) == sorted(want) == ["acc", "loss"]
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-4)
    np.testing.assert_allclose(got["acc"], want["acc"])
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0),
                               theirs.evaluate(x, y, verbose=0), rtol=1e-4)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_binary_fit_and_evaluate_over_uneven_batches_equal_kerass(ref):
    x = _f(30, 3)
    y = (x.sum(axis=1) > 0).astype(np.int64)  # (N,) labels for an (N, 1) output

    def make(k):
        model = k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="tanh"),
                              k.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=k.optimizers.RMSprop(0.01), loss="binary_crossentropy",
                      metrics=["acc", "mse"])
        return model

    theirs, ours = make(ref), make(keras)
    ours.set_weights(theirs.get_weights())
    want = theirs.fit(x, y, batch_size=7, epochs=3, shuffle=False, validation_split=0.3,
                      verbose=0).history
    got = ours.fit(x, y, batch_size=7, epochs=3, shuffle=False, validation_split=0.3,
                   verbose=0).history
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(ours.evaluate(x, y, batch_size=4, verbose=0),
                               theirs.evaluate(x, y, batch_size=4, verbose=0), rtol=1e-4)
