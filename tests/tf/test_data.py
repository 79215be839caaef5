"""tf.data over gradkit: epochs, shuffling, seeds, caching, element types."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.tf as tf


def _order(ds):
    return [int(v) for v in ds]


def test_elements_are_tf_tensors_and_map_receives_them():
    seen = []
    ds = tf.data.Dataset.from_tensor_slices((np.arange(4.0), np.arange(4)))
    ds = ds.map(lambda x, y: seen.append((type(x), type(y))) or (x * 2, y))
    x, y = next(iter(ds.batch(4)))
    assert type(x) is tf.Tensor and x.numpy().tolist() == [0.0, 2.0, 4.0, 6.0]
    assert seen[0] == (tf.Tensor, tf.Tensor) and y.dtype == np.int64


def test_shuffle_reshuffles_each_epoch_and_follows_the_seeds():
    ds = tf.data.Dataset.range(30).shuffle(30)
    first, second = _order(ds), _order(ds)
    assert sorted(first) == list(range(30)) and first != second
    tf.random.set_seed(4)
    a = _order(tf.data.Dataset.range(30).shuffle(30))
    tf.random.set_seed(4)
    assert _order(tf.data.Dataset.range(30).shuffle(30)) == a
    fixed = tf.data.Dataset.range(30).shuffle(30, reshuffle_each_iteration=False)
    assert _order(fixed) == _order(fixed)


def test_a_small_buffer_only_moves_elements_a_little():
    assert _order(tf.data.Dataset.range(20).shuffle(1)) == list(range(20))
    out = _order(tf.data.Dataset.range(200).shuffle(5, seed=0))
    assert sorted(out) == list(range(200)) and out != list(range(200))
    assert all(v <= i + 4 for i, v in enumerate(out))  # element v enters after v - 4 left


def test_cache_replays_the_first_pass():
    calls = []
    ds = tf.data.Dataset.range(3).map(lambda x: calls.append(1) or x + 1).cache()
    assert _order(ds) == [1, 2, 3] and _order(ds) == [1, 2, 3] and len(calls) == 3


def test_lengths_of_infinite_and_unknown_datasets_are_errors():
    with pytest.raises(TypeError, match="infinite"):
        len(tf.data.Dataset.range(3).repeat())
    with pytest.raises(TypeError, match="unknown"):
        len(tf.data.Dataset.range(3).filter(lambda x: x > 0))
    assert len(tf.data.Dataset.range(7).batch(2)) == 4
    assert int(tf.data.experimental.cardinality(tf.data.Dataset.range(7))) == 7


def test_mismatched_slices_are_refused():
    with pytest.raises(ValueError, match="same first dimension"):
        tf.data.Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="at least one axis"):
        tf.data.Dataset.from_tensor_slices(np.float32(1.0))


def test_a_repeated_shuffled_pipeline_feeds_a_training_loop():
    x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    y = (x @ np.array([[2.0], [-1.0]], np.float32)) + 0.5
    w, b = tf.Variable(tf.zeros((2, 1))), tf.Variable(0.0)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64).batch(16).repeat(40)
    for xb, yb in ds:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(xb @ w + b - yb))
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(0.1 * gw)
        b.assign_sub(0.1 * gb)
    np.testing.assert_allclose(w.numpy()[:, 0], [2.0, -1.0], atol=1e-2)
    assert abs(float(b) - 0.5) < 1e-2


def test_the_row_fast_path_and_the_general_path_agree():
    x = np.arange(10)
    rows = tf.data.Dataset.from_tensor_slices(x)  # index-based (rows.py)
    general = rows.map(lambda v: v)  # one element at a time (data.py)
    for make in (lambda d: d.take(7).skip(2).repeat(2).batch(3),
                 lambda d: d.repeat(3).batch(4, drop_remainder=True),
                 lambda d: d.skip(8).repeat(2).take(3)):
        assert [b.numpy().tolist() for b in make(rows)] == \
            [b.numpy().tolist() for b in make(general)]
    endless = _order(rows.repeat().shuffle(7, seed=2).take(30))
    assert len(endless) == 30 and set(endless) <= set(range(10))
    assert sorted(_order(general.shuffle(4, seed=1))) == list(range(10))
