"""tf.random over gradkit's generators: TF's seeds, distributions, shapes and dtypes."""

from __future__ import annotations

import numpy as np

import gradkit as gk
import gradkit.tf as tf


def test_set_seed_makes_every_draw_repeat_and_seeds_gradkit_too():
    tf.random.set_seed(7)
    a = (tf.random.normal((3,)), tf.random.uniform((2,)), gk.randn(2))
    tf.random.set_seed(7)
    b = (tf.random.normal((3,)), tf.random.uniform((2,)), gk.randn(2))
    for x, y in zip(a, b):
        assert x.numpy().tolist() == y.numpy().tolist()


def test_an_op_seed_is_its_own_stream():
    tf.random.set_seed(1)
    first = tf.random.normal([4], seed=5).numpy()
    second = tf.random.normal([4], seed=5).numpy()
    tf.random.set_seed(1)
    assert tf.random.normal([4], seed=5).numpy().tolist() == first.tolist()
    assert first.tolist() != second.tolist()


def test_distributions_shapes_and_dtypes():
    n = tf.random.normal((20000,), mean=3.0, stddev=2.0)
    assert n.dtype == tf.float32 and abs(float(tf.reduce_mean(n)) - 3.0) < 0.1
    assert abs(float(tf.math.reduce_std(n)) - 2.0) < 0.1
    u = tf.random.uniform((2, 5000), minval=-1.0, maxval=3.0)
    assert u.shape == (2, 5000) and float(tf.reduce_min(u)) >= -1.0
    assert float(tf.reduce_max(u)) < 3.0 and abs(float(tf.reduce_mean(u)) - 1.0) < 0.1
    k = tf.random.uniform((1000,), 0, 4, dtype=tf.int32)
    assert k.dtype == np.int32 and sorted(set(k.numpy().tolist())) == [0, 1, 2, 3]
    t = tf.random.truncated_normal((5000,), stddev=0.5)
    assert float(tf.reduce_max(tf.abs(t))) <= 1.0
    assert tf.random.normal((2,), dtype=tf.float64).dtype == np.float64
    s = tf.random.shuffle(tf.range(10))
    assert sorted(s.numpy().tolist()) == list(range(10))
