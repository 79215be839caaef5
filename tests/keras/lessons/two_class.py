"""The course's Keras lesson: a 2-D two-class problem, a sigmoid output with
"binary_crossentropy" and metrics=["acc"], then a softmax output with one-hot targets and
"categorical_crossentropy".

Runs as it is under Keras 3 (record_reference.py); tests/keras/test_lessons.py runs it on
gradkit after changing only the import lines. It leaves RESULT."""

# ruff: noqa: UP031, I001 - the lessons' own style, kept as the course wrote it

import numpy as np
from sklearn.datasets import make_classification

import keras
from keras import layers

keras.utils.set_random_seed(0)

X, y = make_classification(n_samples=400, n_features=2, n_redundant=0, n_informative=2,
                           n_clusters_per_class=1, flip_y=0.05, class_sep=1.0, random_state=3)
X = X.astype("float32")
X_train, y_train, X_test, y_test = X[:300], y[:300], X[300:], y[300:]

model = keras.Sequential([
    layers.Dense(16, activation="relu", input_shape=(2,)),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc"])
history = model.fit(X_train, y_train, epochs=30, batch_size=16, validation_split=0.2,
                    verbose=0)
test_loss, test_acc = model.evaluate(X_test, y_test, verbose=0)
print("sigmoid: train acc %.3f, val acc %.3f, test acc %.3f" % (
    history.history["acc"][-1], history.history["val_acc"][-1], test_acc))

softmax_model = keras.Sequential([
    keras.Input(shape=(2,)),
    layers.Dense(16, activation="tanh"),
    layers.Dense(2, activation="softmax"),
])
softmax_model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                      loss="categorical_crossentropy", metrics=["accuracy"])
h2 = softmax_model.fit(X_train, keras.utils.to_categorical(y_train), epochs=30, batch_size=16,
                       verbose=0)
probs = softmax_model.predict(X_test, verbose=0)
softmax_acc = float(np.mean(np.argmax(probs, axis=1) == y_test))
print("softmax: train acc %.3f, test acc %.3f" % (h2.history["accuracy"][-1], softmax_acc))

RESULT = {"keys": sorted(history.history), "acc": float(history.history["acc"][-1]),
          "val_acc": float(history.history["val_acc"][-1]), "test_acc": float(test_acc),
          "test_loss": float(test_loss), "softmax_acc": softmax_acc,
          "softmax_loss": float(h2.history["loss"][-1]),
          "probs_sum": float(np.abs(probs.sum(axis=1) - 1).max())}
