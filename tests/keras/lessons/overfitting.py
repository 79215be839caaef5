"""The course's overfitting lesson in Keras: a wide network on few noisy samples overfits
(training loss falls while validation loss rises); Dropout and an L2 penalty narrow the gap,
and EarlyStopping stops near the best validation epoch.

Runs as it is under Keras 3 (record_reference.py); tests/keras/test_lessons.py runs it on
gradkit after changing only the import lines. It leaves RESULT."""

# ruff: noqa: UP031, I001 - the lessons' own style, kept as the course wrote it

import numpy as np

import keras
from keras import layers, regularizers

keras.utils.set_random_seed(2)
rng = np.random.default_rng(2)
X = rng.normal(size=(120, 20)).astype("float32")
y = ((X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=1.0, size=120)) > 0).astype("int64")
X_train, y_train, X_val, y_val = X[:60], y[:60], X[60:], y[60:]


def build(dropout=0.0, l2=0.0):
    model = keras.Sequential([keras.Input(shape=(20,))])
    for _ in range(2):
        model.add(layers.Dense(128, activation="relu",
                               kernel_regularizer=regularizers.l2(l2) if l2 else None))
        if dropout:
            model.add(layers.Dropout(dropout))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


plain = build()
h_plain = plain.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=60, batch_size=16,
                    verbose=0).history
regular = build(dropout=0.5, l2=1e-3)
h_reg = regular.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=60,
                    batch_size=16, verbose=0).history
stopper = build()
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5)
h_stop = stopper.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=60,
                     batch_size=16, callbacks=[stop], verbose=0).history


def gap(h):
    return h["accuracy"][-1] - h["val_accuracy"][-1]


best = int(np.argmin(h_plain["val_loss"]))
print("plain: train %.2f val %.2f; regularised: train %.2f val %.2f; stopped after %d" % (
    h_plain["accuracy"][-1], h_plain["val_accuracy"][-1], h_reg["accuracy"][-1],
    h_reg["val_accuracy"][-1], len(h_stop["loss"])))

RESULT = {"plain_train_acc": float(h_plain["accuracy"][-1]),
          "plain_val_acc": float(h_plain["val_accuracy"][-1]),
          "plain_gap": float(gap(h_plain)), "reg_gap": float(gap(h_reg)),
          "reg_val_acc": float(h_reg["val_accuracy"][-1]),
          "plain_final_val_loss_over_best": float(h_plain["val_loss"][-1] /
                                                  h_plain["val_loss"][best]),
          "plain_train_loss": float(h_plain["loss"][-1]), "stopped_epochs": len(h_stop["loss"]),
          "stopped_val_acc": float(h_stop["val_accuracy"][-1])}
