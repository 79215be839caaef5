"""The course's TensorFlow lesson: a two-class problem in 2-D, tf.data batching with
shuffle, a logistic regression trained with a GradientTape inside @tf.function.

Runs as it is under TensorFlow; tests/tf/test_lessons.py runs it on gradkit after changing
only the import line. It leaves RESULT."""

# ruff: noqa: UP031, B007 - the lessons' own style, kept as the course wrote it

import numpy as np
import tensorflow as tf

np.random.seed(0)
tf.random.set_seed(0)

n = 200
centers = np.array([[-1.0, -1.0], [1.2, 1.0]])
Y = np.random.randint(0, 2, size=n)
X = (centers[Y] + np.random.randn(n, 2) * 0.8).astype(np.float32)
Y = Y.astype(np.int32)

split = [70 * n // 100, (15 + 70) * n // 100]
train_x, valid_x, test_x = np.split(X, split)
train_labels, valid_labels, test_labels = np.split(Y, split)

W = tf.Variable(tf.random.normal(shape=(2, 1)), dtype=tf.float32)
b = tf.Variable(tf.zeros(shape=(1,), dtype=tf.float32))
learning_rate = 0.1


@tf.function
def train_on_batch(x, y):
    with tf.GradientTape() as tape:
        z = tf.matmul(x, W) + b
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(y, z))
    dloss_dw, dloss_db = tape.gradient(loss, [W, b])
    W.assign_sub(learning_rate * dloss_dw)
    b.assign_sub(learning_rate * dloss_db)
    return loss


dataset = tf.data.Dataset.from_tensor_slices((train_x, train_labels.astype(np.float32)))
dataset = dataset.shuffle(128).batch(8).prefetch(tf.data.AUTOTUNE)

batches = 0
for epoch in range(10):
    for step, (x, y) in enumerate(dataset):
        loss = train_on_batch(x, tf.expand_dims(y, 1))
        batches += 1
    print("Epoch %d: last batch loss = %.4f" % (epoch, float(loss)))


def accuracy(features, labels):
    pred = tf.sigmoid(tf.matmul(features, W) + b)
    hits = tf.equal(tf.cast(tf.round(pred[:, 0]), tf.int32), labels)
    return float(tf.reduce_mean(tf.cast(hits, tf.float32)))


RESULT = {"train_acc": accuracy(train_x, train_labels),
          "test_acc": accuracy(test_x, test_labels),
          "batches": batches, "cardinality": int(dataset.cardinality())}
print(RESULT)
