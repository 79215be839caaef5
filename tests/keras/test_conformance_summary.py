"""`model.summary()` prints Keras 3's table, character for character, for the same models
(explicit names, since the automatic ones count per session): Sequential, unbuilt, branching
functional models with a shared layer, wrapped long names, a nested model, frozen layers,
the optimizer line after fit. Skipped, with the reason, where Keras is missing."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.keras as keras

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _sequential(k):
    return k.Sequential([k.Input((4,), name="inp"), k.layers.Dense(8, activation="relu",
                                                                   name="hidden"),
                         k.layers.BatchNormalization(name="bn"), k.layers.Dropout(0.3, name="drop"),
                         k.layers.Dense(3, activation="softmax", name="out")], name="clf")


def _unbuilt(k):
    return k.Sequential([k.layers.Dense(8, name="a"), k.layers.Dense(1, name="b")], name="lazy")


def _branching(k):
    a, b = k.Input((3,), name="left"), k.Input((5,), name="right")
    x = k.layers.Concatenate(name="joined")([a, b])
    shared = k.layers.Dense(4, activation="relu", name="shared")
    h = shared(x)
    h2 = shared(k.layers.Dense(8, name="widen")(h))
    o1 = k.layers.Dense(1, activation="sigmoid", name="yes_no")(h2)
    o2 = k.layers.Dense(2, name="scores")(h)
    return k.Model([a, b], [o1, o2], name="two_heads")


def _cnn(k):
    return k.Sequential([
        k.Input((12, 12, 1), name="image"),
        k.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_one"),
        k.layers.MaxPooling2D(name="pool"),
        k.layers.GlobalAveragePooling2D(name="global_average_pooling2d_over_space"),
        k.layers.Dense(10, activation="softmax", name="classes")], name="cnn")


def _nested(k):
    inner = k.Sequential([k.Input((6,)), k.layers.Dense(3, name="inner_dense")], name="block")
    x = k.Input((6,), name="x")
    return k.Model(x, k.layers.Dense(2, name="head")(inner(x)), name="outer")


def _text(model, **kwargs):
    lines: list[str] = []
    model.summary(print_fn=lines.append, **kwargs)
    return "".join(lines)


@pytest.mark.parametrize("make", [_sequential, _unbuilt, _branching, _cnn, _nested])
@pytest.mark.parametrize("options", [{}, {"line_length": 70}, {"show_trainable": True}])
def test_summary_text_is_kerass(ref, make, options):
    want, got = _text(make(ref), **options), _text(make(keras), **options)
    assert got == want


def test_summary_after_fit_counts_the_optimizer_and_frozen_weights_as_keras(ref):
    texts = []
    for k in (ref, keras):
        model = _sequential(k)
        model.get_layer("hidden").trainable = False
        model.compile(optimizer=k.optimizers.Adam(), loss="sparse_categorical_crossentropy")
        model.fit(np.zeros((4, 4), np.float32), np.zeros(4, np.int64), verbose=0)
        texts.append(_text(model, show_trainable=True))
    assert texts[1] == texts[0]
    assert "Optimizer params: 88 " in texts[1] and "│   N   │" in texts[1]
