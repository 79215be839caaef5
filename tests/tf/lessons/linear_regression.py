"""The course's TensorFlow lesson: linear regression with Variables and a GradientTape.

Runs as it is under TensorFlow; tests/tf/test_lessons.py runs it on gradkit after changing
only the import line. It leaves RESULT (the numbers the lesson prints)."""

# ruff: noqa: UP031, B007 - the lessons' own style, kept as the course wrote it

import numpy as np
import tensorflow as tf

np.random.seed(13)
tf.random.set_seed(13)

train_x = np.linspace(0, 3, 120)
train_labels = 2 * train_x + 0.9 + np.random.randn(*train_x.shape) * 0.5

input_dim = 1
output_dim = 1
learning_rate = 0.1

w = tf.Variable(tf.random.normal(shape=(input_dim, output_dim)), name="w")
b = tf.Variable(tf.zeros(shape=(output_dim,)), name="b")


def f(x):
    return tf.matmul(x, w) + b


def compute_loss(labels, predictions):
    return tf.reduce_mean(tf.square(labels - predictions))


def train_on_batch(x, y):
    with tf.GradientTape() as tape:
        predictions = f(x)
        loss = compute_loss(y, predictions)
        # Note that `tape.gradient` works with a list as well (w, b).
        dloss_dw, dloss_db = tape.gradient(loss, [w, b])
    w.assign_sub(learning_rate * dloss_dw)
    b.assign_sub(learning_rate * dloss_db)
    return loss


# Shuffle the data.
indices = np.random.permutation(len(train_x))
features = tf.constant(train_x[indices], dtype=tf.float32)
labels = tf.constant(train_labels[indices], dtype=tf.float32)

batch_size = 4
losses = []
for epoch in range(10):
    for i in range(0, len(features), batch_size):
        loss = train_on_batch(tf.reshape(features[i:i + batch_size], (-1, 1)),
                              tf.reshape(labels[i:i + batch_size], (-1, 1)))
    print("Epoch %d: last batch loss = %.4f" % (epoch, float(loss)))
    losses.append(float(loss))

full_loss = compute_loss(tf.reshape(labels, (-1, 1)), f(tf.reshape(features, (-1, 1))))
RESULT = {"w": float(w.numpy()[0, 0]), "b": float(b.numpy()[0]),
          "loss": float(full_loss), "first_epoch_loss": losses[0]}
print(RESULT)
