"""GradientTape over gradkit's graph: what is gradkit's own (watching, Parameters, nesting)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
import gradkit.tf as tf


def test_a_watched_constant_is_a_constant_again_after_the_tape():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        assert x.requires_grad
        y = tf.reduce_sum(x * x)
    assert not x.requires_grad
    assert tape.gradient(y, x).numpy().tolist() == [2.0, 4.0]
    assert not x.requires_grad and not (x * 2).requires_grad


def test_nested_tapes_watching_one_constant_release_it_once_both_end():
    x = tf.constant(2.0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        assert x.requires_grad  # the outer tape still records it
        dy = inner.gradient(y, x)
    assert not x.requires_grad
    assert float(dy) == 12.0 and float(outer.gradient(dy, x)) == 12.0


def test_gradients_reach_gradkit_parameters_and_modules():
    layer = gk.nn.Linear(3, 2)
    x = tf.constant(np.ones((4, 3), np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(layer(x)))
    gw, gb = tape.gradient(loss, [layer.weight, layer.bias])
    assert type(gw) is tf.Tensor and gw.shape == (2, 3) and gb.shape == (2,)
    assert layer.weight.grad is None  # the tape never writes .grad
    expected = gk.grad(lambda w: (gk.nn.functional.linear(x, w, layer.bias) ** 2).mean())(
        layer.weight)
    np.testing.assert_allclose(gw.numpy(), expected.numpy(), rtol=1e-6)


def test_gradient_inside_the_block_of_a_non_persistent_tape_is_first_order():
    w = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = w * w
        g = tape.gradient(y, w)
    assert float(g) == 6.0 and not g.requires_grad


def test_sources_must_be_tensors_and_targets_may_be_unconnected():
    w = tf.Variable(1.0)
    with tf.GradientTape(persistent=True) as tape:
        y = w * 2
        c = tf.constant(5.0) * 3
    with pytest.raises(TypeError, match="sources must be tensors"):
        tape.gradient(y, [w, 1.0])
    assert tape.gradient(c, w) is None
    assert tape.gradient(c, [w], unconnected_gradients="zero")[0].numpy() == 0.0


def test_reset_lets_a_non_persistent_tape_compute_again():
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    tape.reset()
    with tape:
        z = x * x * x
    assert float(tape.gradient(z, x)) == 12.0


def test_stop_recording_needs_a_recording_tape():
    tape = tf.GradientTape()
    with pytest.raises(RuntimeError, match="not recording"), tape.stop_recording():
        pass
