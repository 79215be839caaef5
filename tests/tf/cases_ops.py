"""More conformance cases (tf.nn, tf.math, array functions, tf.data): see cases.py."""

from __future__ import annotations

import numpy as np

from .cases import case, plain

# ---- tf.nn ------------------------------------------------------------------------------------


@case
def nn_activations(tf):
    x = tf.constant([-2.0, -0.5, 0.0, 0.7, 7.0])
    return [plain(f(x)) for f in (tf.nn.relu, tf.nn.sigmoid, tf.nn.tanh, tf.nn.leaky_relu,
                                  tf.nn.elu, tf.nn.selu, tf.nn.relu6, tf.nn.softplus,
                                  tf.nn.silu, tf.nn.softsign, tf.nn.gelu)] + [
        plain(tf.nn.gelu(x, approximate=True)), plain(tf.nn.leaky_relu(x, alpha=0.1))]


@case
def nn_softmax(tf):
    z = tf.constant([[1.0, 2.0, 3.0], [1.0, 1.0, -1.0]])
    return [plain(tf.nn.softmax(z)), plain(tf.nn.softmax(z, axis=0)),
            plain(tf.nn.log_softmax(z)), plain(tf.math.log_sigmoid(z))]


@case
def nn_losses(tf):
    logits = tf.constant([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]])
    onehot = tf.constant([[1.0, 0.0, 0.0], [0.0, 0.3, 0.7]])
    labels = tf.constant([0, 2])
    z, y = tf.constant([2.0, -1.0, 0.0, 30.0]), tf.constant([1.0, 0.0, 1.0, 0.0])
    return [plain(tf.nn.softmax_cross_entropy_with_logits(labels=onehot, logits=logits)),
            plain(tf.nn.softmax_cross_entropy_with_logits(onehot, logits, axis=-1)),
            plain(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                 logits=logits)),
            plain(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z)),
            plain(tf.nn.weighted_cross_entropy_with_logits(y, z, 2.0)),
            plain(tf.nn.l2_loss(logits))]


@case
def nn_loss_gradients(tf):
    logits = tf.Variable([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]])
    z = tf.Variable([2.0, -1.0, 0.0])
    with tf.GradientTape(persistent=True) as tape:
        a = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.constant([0, 2]), logits=logits))
        b = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(
            labels=tf.constant([[0.2, 0.8, 0.0], [0.0, 0.0, 1.0]]), logits=logits))
        c = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.constant([1.0, 0.0, 1.0]), logits=z))
    return [plain(tape.gradient(a, logits)), plain(tape.gradient(b, logits)),
            plain(tape.gradient(c, z))]


@case
def nn_moments_and_normalization(tf):
    x = tf.constant([[1.0, 2.0], [3.0, 6.0]])
    mean, var = tf.nn.moments(x, axes=[0])
    return [plain(mean), plain(var),
            plain(tf.nn.batch_normalization(x, mean, var, 0.5, 2.0, 1e-3)),
            plain(tf.nn.l2_normalize(x, axis=1)), plain(tf.math.l2_normalize(x))]


# ---- tf.math --------------------------------------------------------------------------------


@case
def math_functions(tf):
    x = tf.constant([0.25, 1.0, 4.0])
    y = tf.constant([2.0, 0.0, -1.0])
    return [plain(f(x)) for f in (tf.exp, tf.math.log, tf.sqrt, tf.square, tf.math.log1p,
                                  tf.math.rsqrt, tf.math.reciprocal, tf.math.expm1,
                                  tf.abs, tf.sign, tf.negative, tf.floor, tf.math.ceil)] + [
        plain(tf.math.squared_difference(x, y)), plain(tf.math.divide_no_nan(x, y)),
        plain(tf.maximum(x, y)), plain(tf.minimum(x, 1.0)), plain(tf.pow(x, 0.5)),
        plain(tf.add(x, 1)), plain(tf.subtract(x, y)), plain(tf.multiply(x, y)),
        plain(tf.divide(x, 2.0)), plain(tf.add_n([x, y, x])),
        plain(tf.math.is_nan(tf.constant([1.0, np.nan]))), plain(tf.norm(x)),
        plain(tf.math.floormod(tf.constant([7, -7]), 3))]


# ---- array functions ------------------------------------------------------------------------


@case
def creation(tf):
    return [plain(tf.zeros((2, 3))), tf.zeros([2]).dtype.name, plain(tf.ones([2], tf.int32)),
            plain(tf.fill([2, 2], 7)), tf.fill([1], 7).dtype.name, plain(tf.eye(2)),
            plain(tf.range(5)), tf.range(5).dtype.name, plain(tf.range(1, 2, 0.25)),
            tf.range(0.0, 1.0, 0.5).dtype.name, plain(tf.linspace(0.0, 1.0, 5)),
            plain(tf.zeros_like(tf.constant([1, 2]))), plain(tf.ones_like([1.5, 2.0])),
            plain(tf.constant(2.0, shape=(2, 2))), plain(tf.constant([1, 2, 3, 4], shape=[2, 2]))]


@case
def shapes(tf):
    x = tf.reshape(tf.range(24), (2, 3, 4))
    return [plain(tf.shape(x)), tf.shape(x).dtype.name, plain(tf.rank(x)), plain(tf.size(x)),
            plain(tf.reshape(x, [tf.shape(x)[0], -1]).shape),
            plain(tf.transpose(x, perm=[2, 0, 1]).shape),
            plain(tf.transpose(tf.constant([[1, 2], [3, 4]]))),
            plain(tf.expand_dims(tf.constant([1, 2]), 1)),
            plain(tf.squeeze(tf.zeros((1, 2, 1))).shape),
            plain(tf.squeeze(tf.zeros((1, 2, 1)), axis=[2]).shape), list(x.shape),
            x.shape.as_list(), x.shape.rank]


@case
def joining_and_splitting(tf):
    a, b = tf.constant([[1, 2]]), tf.constant([[3, 4]])
    x = tf.reshape(tf.range(12), (6, 2))
    return [plain(tf.concat([a, b], 0)), plain(tf.concat([a, b], axis=1)),
            plain(tf.stack([a, b])), plain(tf.stack([a, b], axis=1)),
            plain(tf.unstack(tf.constant([[1, 2], [3, 4]]))),
            plain(tf.unstack(tf.constant([[1, 2], [3, 4]]), axis=1)),
            [plain(s) for s in tf.split(x, [1, 5])], [plain(s) for s in tf.split(x, 3)],
            [plain(s) for s in tf.split(x, [2, -1], axis=0)],
            plain(tf.tile(tf.constant([[1, 2]]), [2, 3]))]


@case
def indexing(tf):
    p = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    c = tf.constant([True, False, True])
    return [plain(tf.gather(p, [1, 0])), plain(tf.gather(p, [2, 2], axis=1)),
            plain(tf.boolean_mask(tf.constant([1, 2, 3]), c)),
            plain(tf.where(c, tf.constant([1, 2, 3]), tf.constant([-1, -2, -3]))),
            plain(tf.where(tf.constant([[True, False], [False, True]]))),
            tf.where(c).dtype.name, plain(p[1]), plain(p[:, 1:]), plain(p[-1, ::2]),
            plain(tf.pad(tf.constant([[1, 2]]), [[1, 0], [0, 2]])),
            plain(tf.clip_by_value(p, 2.0, 5.0))]


@case
def products_and_gradients(tf):
    a = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    b = tf.Variable([[0.5, -1.0], [2.0, 1.0]])
    with tf.GradientTape(persistent=True) as tape:
        m = tf.matmul(a, b, transpose_b=True)
        loss = tf.reduce_sum(m * m)
        g = tf.reduce_sum(tf.gather(a, [1, 1]))
        c = tf.reduce_sum(tf.clip_by_value(a, 1.5, 3.5))
        t = tf.reduce_sum(tf.tile(a, [2, 1]) * tf.constant([[1.0], [2.0], [3.0], [4.0]]))
    return [plain(m), plain(tf.matmul(a, b, transpose_a=True)),
            plain(tf.einsum("ij,jk->ik", a, b)), plain(tape.gradient(loss, [a, b])),
            plain(tf.convert_to_tensor(tape.gradient(g, a))), plain(tape.gradient(c, a)),
            plain(tape.gradient(t, a))]


# ---- tf.data ----------------------------------------------------------------------------------


@case
def dataset_batching(tf):
    x, y = np.arange(10).reshape(5, 2).astype(np.float32), np.arange(5)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    out = [[plain(a), plain(b)] for a, b in ds.batch(2)]
    out.append([plain(b) for _, b in ds.batch(2, drop_remainder=True)])
    out.append([int(ds.batch(2).cardinality()), len(ds.batch(2, drop_remainder=True)),
                int(ds.repeat().cardinality()), int(ds.repeat(3).cardinality()),
                int(ds.take(2).cardinality()), int(ds.skip(4).cardinality()),
                int(ds.filter(lambda a, b: b > 1).cardinality()), len(ds.repeat(2).batch(3))])
    first = next(iter(ds))
    out.append([first[0].dtype.name, first[1].dtype.name, plain(first[0].shape)])
    return out


@case
def dataset_transformations(tf):
    ds = tf.data.Dataset.from_tensor_slices({"a": [1.0, 2.0, 3.0], "b": [[1], [2], [3]]})
    mapped = ds.map(lambda d: {"a": d["a"] * 2, "b": d["b"]}).batch(2)
    pairs = tf.data.Dataset.from_tensor_slices(([1, 2, 3, 4], [10, 20, 30, 40]))
    squares = pairs.map(lambda u, v: (u * u, v)).filter(lambda u, v: u > 1)
    return [[plain(e) for e in mapped], [plain(e) for e in squares],
            [plain(e) for e in pairs.take(2).repeat(2).skip(1)],
            [plain(e) for e in pairs.batch(3).unbatch()],
            [plain(e) for e in tf.data.Dataset.range(3).enumerate(start=5)],
            [plain(e) for e in tf.data.Dataset.zip((tf.data.Dataset.range(3),
                                                    tf.data.Dataset.range(10, 12)))],
            [plain(e) for e in tf.data.Dataset.range(2).concatenate(tf.data.Dataset.range(2))],
            [plain(e) for e in tf.data.Dataset.from_tensors([1, 2]).as_numpy_iterator()],
            ds.map(lambda d: d["a"]).batch(3).as_numpy_iterator().__next__().tolist(),
            next(iter(tf.data.Dataset.from_tensor_slices([1.5, 2.5]))).dtype.name]


@case
def dataset_shuffle_keeps_every_element(tf):
    ds = tf.data.Dataset.from_tensor_slices(np.arange(50)).shuffle(10, seed=3).batch(7)
    seen = sorted(int(v) for b in ds for v in b.numpy())
    epoch1 = [int(v) for b in ds for v in b.numpy()]
    fixed = tf.data.Dataset.range(20).shuffle(20, seed=1, reshuffle_each_iteration=False)
    return [seen == list(range(50)), len(epoch1), [int(v) for v in fixed] ==
            [int(v) for v in fixed], int(ds.cardinality())]
