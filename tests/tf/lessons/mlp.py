"""The course's TensorFlow lesson: a multi-layer perceptron written with Variables, trained
with a GradientTape on three classes that no line separates (tf.data, softmax outputs).

Runs as it is under TensorFlow; tests/tf/test_lessons.py runs it on gradkit after changing
only the import line. It leaves RESULT."""

# ruff: noqa: UP031, B007 - the lessons' own style, kept as the course wrote it

import numpy as np
import tensorflow as tf

np.random.seed(1)
tf.random.set_seed(1)

# Three interleaved spirals in 2-D.
n_per, classes = 100, 3
radius = np.tile(np.linspace(0.05, 1.0, n_per), classes)
angle = np.concatenate([np.linspace(c * 4, (c + 1) * 4, n_per) for c in range(classes)])
angle = angle + np.random.randn(n_per * classes) * 0.2
X = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1).astype(np.float32)
y = np.repeat(np.arange(classes), n_per).astype(np.int64)

hidden = 64
W1 = tf.Variable(tf.random.normal((2, hidden), stddev=0.5))
b1 = tf.Variable(tf.zeros((hidden,)))
W2 = tf.Variable(tf.random.normal((hidden, classes), stddev=0.5))
b2 = tf.Variable(tf.zeros((classes,)))
params = [W1, b1, W2, b2]


def model(x):
    h = tf.nn.relu(tf.matmul(x, W1) + b1)
    return tf.matmul(h, W2) + b2


ds = tf.data.Dataset.from_tensor_slices((X, y)).shuffle(len(X), seed=1).batch(32)
learning_rate = 0.5
for epoch in range(60):
    for xb, yb in ds:
        with tf.GradientTape() as tape:
            logits = model(xb)
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=logits))
        grads = tape.gradient(loss, params)
        for v, g in zip(params, grads):
            v.assign_sub(learning_rate * g)
    if epoch % 20 == 0:
        print("epoch", epoch, "loss", float(loss))

probs = tf.nn.softmax(model(tf.constant(X)))
acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(probs, axis=1), y), tf.float32))
onehot = tf.one_hot(y, depth=classes)
xent = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=onehot,
                                                              logits=model(X)))
RESULT = {"acc": float(acc), "loss": float(xent)}
print(RESULT)
