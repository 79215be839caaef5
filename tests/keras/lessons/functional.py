"""The course's functional-API Keras code: keras.Input, layers called on tensors, a skip
connection (layers.Add), Dropout, a softmax over three classes that no line separates,
"sparse_categorical_crossentropy", EarlyStopping keeping the best weights.

Runs as it is under Keras 3 (record_reference.py); tests/keras/test_lessons.py runs it on
gradkit after changing only the import lines. It leaves RESULT."""

# ruff: noqa: UP031, I001 - the lessons' own style, kept as the course wrote it

import numpy as np

import keras
from keras import layers

keras.utils.set_random_seed(1)
rng = np.random.default_rng(1)

# Three interleaved spirals in 2-D.
n_per, classes = 120, 3
radius = np.tile(np.linspace(0.05, 1.0, n_per), classes)
angle = np.concatenate([np.linspace(c * 4, (c + 1) * 4, n_per) for c in range(classes)])
angle = angle + rng.normal(size=n_per * classes) * 0.2
X = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1).astype("float32")
y = np.repeat(np.arange(classes), n_per)
order = rng.permutation(len(X))
X, y = X[order], y[order]
X_train, y_train, X_val, y_val = X[:280], y[:280], X[280:], y[280:]

inputs = keras.Input(shape=(2,), name="point")
h = layers.Dense(64, activation="relu")(inputs)
skip = layers.Dense(64, activation="relu")(h)
h = layers.Add()([h, skip])
h = layers.Dropout(0.1)(h)
outputs = layers.Dense(classes, activation="softmax", name="class")(h)
model = keras.Model(inputs=inputs, outputs=outputs, name="spirals")
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=15, restore_best_weights=True)
history = model.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=150,
                    batch_size=32, callbacks=[stop], verbose=0)
val_loss, val_acc = model.evaluate(X_val, y_val, verbose=0)
pred = np.argmax(model.predict(X, verbose=0), axis=1)
print("epochs run %d, val accuracy %.3f" % (len(history.history["loss"]), val_acc))

RESULT = {"val_acc": float(val_acc), "val_loss": float(val_loss),
          "train_acc": float(np.mean(pred[:280] == y_train)),
          "params": int(model.count_params()), "layers": len(model.layers),
          "keys": sorted(history.history)}
