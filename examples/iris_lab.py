"""Lesson 2's lab on Iris: from a single layer to large networks, with the high-level API.

Each network is a `Sequential` trained with `compile`/`fit` on 80% of the flowers (features
standardised with the training statistics) and validated on the other 20% every epoch.
The single-layer 4-3 network is already good; the large network learns the training set
perfectly and its validation loss turns up after a while — overfitting, which `fit`
reports. Curves go to `--out` when matplotlib is installed.

    python examples/iris_lab.py [--epochs 150] [--out runs/iris]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import gradkit as gk
from gradkit import nn
from gradkit.datasets import load_iris

NETS = {
    "single layer 4-3": lambda: nn.Sequential(nn.Linear(4, 3)),
    "small 4-8-3": lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)),
    "medium 4-64-3": lambda: nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 3)),
    "large 4-256-256-256-3": lambda: nn.Sequential(
        nn.Linear(4, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 3)),
}


def iris_split(seed: int = 0, test_fraction: float = 0.2):
    """Shuffled, stratification-free 80/20 split, standardised with training statistics."""
    x, y = load_iris()
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    n_test = int(len(x) * test_fraction)
    x_tr, y_tr, x_te, y_te = x[n_test:], y[n_test:], x[:n_test], y[:n_test]
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0)
    return ((x_tr - mean) / std, y_tr), ((x_te - mean) / std, y_te)


def main(argv=None, log=print) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=150)
    p.add_argument("--out", default=None, help="folder for the curves (PNG)")
    p.add_argument("--verbose", type=int, default=0)
    args = p.parse_args(argv)
    (x, y), (x_te, y_te) = iris_split()
    results = {}
    for name, make in NETS.items():
        gk.manual_seed(0)
        model = make()
        model.compile(optimizer=gk.optim.Adam(model.parameters(), lr=0.01),
                      loss="cross_entropy", metrics=["accuracy"])
        hist = model.fit(x, y, epochs=args.epochs, batch_size=16, validation_data=(x_te, y_te),
                         verbose=args.verbose)
        h = hist.history
        best = int(np.argmin(h["val_loss"]))
        results[name] = {"train_acc": h["accuracy"][-1], "val_acc": h["val_accuracy"][-1],
                         "best_val_epoch": best + 1, "final_val_loss": h["val_loss"][-1],
                         "best_val_loss": h["val_loss"][best],
                         "overfit_epoch": getattr(hist, "overfit_epoch", None)}
        r = results[name]
        log(f"{name:<24} {model.num_parameters():>7,} params  train acc {r['train_acc']:.3f}  "
            f"test acc {r['val_acc']:.3f}  val loss best {r['best_val_loss']:.3f} "
            f"(epoch {r['best_val_epoch']}) -> last {r['final_val_loss']:.3f}")
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            try:
                hist.plot(Path(args.out) / f"{name.split()[0]}.png")
            except ImportError as exc:
                log(f"  (no curves: {exc})")
    return results


if __name__ == "__main__":
    main()
