"""The CNN lesson's experiment: a fully connected network vs a small convolutional network on
MNIST and Fashion-MNIST, with the parameter count of each and the test accuracy it reaches;
then what the CNN learned: its first layer's filters and the feature maps of one image.

    python examples/cnn_lesson.py                      # 10 epochs each (tens of minutes)
    python examples/cnn_lesson.py --epochs 3 --train-size 20000
    python examples/cnn_lesson.py --quick              # a smoke run (the test suite's)
    python examples/cnn_lesson.py --plots runs/cnn     # also save filters.png, feature_maps.png

The MLP sees each image as 784 unrelated numbers; the CNN sees it as a 1x28x28 image and
slides small 5x5 filters over it, so it needs fewer weights and reaches a higher accuracy.
Adam (lr 1e-3), batch 128; the last 10% of the training images are the validation set.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import gradkit as gk
from gradkit import nn
from gradkit.datasets import DatasetUnavailable, load_fashion_mnist, load_mnist

LOADERS = {"mnist": load_mnist, "fashion": load_fashion_mnist}


def mlp() -> nn.Module:
    """The MLP of `gradkit train`: 784-512-512-10 with dropout."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))


def cnn(c1: int = 16, c2: int = 32) -> nn.Module:
    """LeNet-style (`gradkit train --model cnn`): two blocks of 5x5 convolution, ReLU and
    2x2 max-pooling (28 -> 14 -> 7), then a small fully connected head."""
    return nn.Sequential(
        nn.Conv2d(1, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))


NETS = {"MLP 784-512-512-10": mlp, "CNN conv16-conv32-128-10": cnn}


def image_arrays(name: str, train_size: int | None, test_size: int | None):
    """(train, validation, test): float32 images (N, 1, 28, 28) in [0, 1], int64 labels;
    `test_size` also limits the validation set (quick runs)."""
    (x, y), (xt, yt) = LOADERS[name](shape="image")
    scale = np.float32(1 / 255)
    cut = 54_000
    train = (x[:cut][:train_size].astype(np.float32) * scale, y[:cut][:train_size])
    val = (x[cut:][:test_size].astype(np.float32) * scale, y[cut:][:test_size])
    return train, val, (xt[:test_size].astype(np.float32) * scale, yt[:test_size])


def run(name: str, make, sets, epochs: int, log=print) -> dict:
    (x, y), val, (xt, yt) = sets
    gk.manual_seed(0)
    model = make()
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    hist = model.fit(x, y, epochs=epochs, batch_size=128, validation_data=val, verbose=0)
    seconds = time.perf_counter() - t0
    test = model.evaluate(xt, yt, batch_size=1000)["accuracy"]
    log(f"  {name:26} {model.num_parameters():>9,} parameters  "
        f"val acc {hist.history['val_accuracy'][-1]:.4f}  test acc {test:.4f}  "
        f"({seconds:.0f} s)")
    return {"model": model, "parameters": model.num_parameters(), "test_acc": test,
            "history": hist.history, "seconds": seconds}


def what_the_cnn_learned(model, x0: np.ndarray, log=print, plots: Path | None = None) -> dict:
    """The first layer's filters and the feature maps of one image (pictures with --plots)."""
    weights = model[0].weight.numpy()
    maps = gk.viz.feature_maps(model, x0)
    log(f"  first layer: {weights.shape[0]} filters of {weights.shape[2]}x{weights.shape[3]}; "
        "feature maps of one image: " + ", ".join(
            f"{n} {'x'.join(map(str, m.shape))}" for n, m in maps))
    if plots is not None:
        plots.mkdir(parents=True, exist_ok=True)
        gk.viz.plot_filters(model, plots / "filters.png")
        gk.viz.plot_feature_maps(model, x0, plots / "feature_maps.png")
        log(f"  wrote {plots / 'filters.png'} and {plots / 'feature_maps.png'}")
    return {"filters": weights, "feature_maps": maps}


def main(argv=None, log=print) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--train-size", type=int, default=None, help="first N training images")
    p.add_argument("--datasets", default="mnist,fashion", help="mnist, fashion or both")
    p.add_argument("--quick", action="store_true",
                   help="2,000 training and 500 test images, 1 epoch (a smoke run)")
    p.add_argument("--plots", type=Path, default=None, help="folder for the pictures")
    args = p.parse_args(argv)
    epochs, train_size = (1, 2000) if args.quick else (args.epochs, args.train_size)
    test_size = 500 if args.quick else None
    results: dict = {}
    for name in args.datasets.split(","):
        try:
            sets = image_arrays(name, train_size, test_size)
        except DatasetUnavailable as exc:
            log(f"\n{name}: not available here, skipped ({str(exc).splitlines()[0]})")
            continue
        log(f"\n== {name}: {len(sets[0][1]):,} training images, {epochs} epoch(s)")
        results[name] = {net: run(net, make, sets, epochs, log) for net, make in NETS.items()}
        best = results[name]["CNN conv16-conv32-128-10"]
        best["learned"] = what_the_cnn_learned(
            best["model"], sets[2][0][0], log,
            None if args.plots is None else args.plots / name)
    log("\nsummary (test accuracy, parameters):")
    for name, nets in results.items():
        for net, r in nets.items():
            log(f"  {name:8} {net:26} {r['test_acc']:.4f}  {r['parameters']:>9,}")
    return results


if __name__ == "__main__":
    main()
