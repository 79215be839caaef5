"""MNIST with the high-level API: a 784-512-512-10 MLP with dropout, trained by `fit`.

    python examples/mnist_fit.py [--epochs 20] [--out mnist_curves.png]

The frameworks lesson's lab: layers in sequence, `compile` / `fit` with Adam (lr 1e-3,
batch 128), pixels scaled to [0, 1], one progress line (or bar) per epoch with training and
validation loss/accuracy, the final test accuracy (>= 0.98), and the training vs validation
curves written as a PNG (needs matplotlib). The last 10% of the training set is held out for
validation (`--validation-split`; 0 uses the test set instead, as Keras's mnist_mlp example
does); callbacks cut the learning rate when validation loss plateaus, stop when it no longer
improves and keep the best epoch's weights, so the test set is touched once, at the end.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gradkit as gk
from gradkit import nn


def load() -> tuple:
    (x, y), (xt, yt) = gk.datasets.load_mnist()
    scale = np.float32(1 / 255)
    return (x.reshape(-1, 784) * scale, y), (xt.reshape(-1, 784) * scale, yt)


def build() -> nn.Module:
    return nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(512, 10),
    )


def main(argv=None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--validation-split", type=float, default=0.1)
    ap.add_argument("--out", default="mnist_curves.png", help="curves PNG ('' to skip)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    gk.manual_seed(args.seed)
    (x, y), (x_test, y_test) = load()
    model = build()
    model.summary()
    model.compile(optimizer=gk.optim.Adam(model.parameters(), lr=1e-3),
                  loss="cross_entropy", metrics=["accuracy"])
    validation = {"validation_split": args.validation_split} if args.validation_split else {
        "validation_data": (x_test, y_test)}
    t0 = time.perf_counter()
    callbacks = [
        gk.callbacks.ReduceLROnPlateau(factor=0.2, patience=2, verbose=1),
        gk.callbacks.EarlyStopping(patience=5, restore_best_weights=True, verbose=1),
    ]
    history = model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size,
                        callbacks=callbacks, **validation)
    seconds = time.perf_counter() - t0
    test = model.evaluate(x_test, y_test)
    print(f"trained {len(history.epoch)} epochs in {seconds:.0f} s; test loss "
          f"{test['loss']:.4f}, test accuracy {test['accuracy']:.4f}")
    if args.out:
        history.plot(args.out)
        print(f"curves written to {args.out}")
    return test["accuracy"]


if __name__ == "__main__":
    main()
