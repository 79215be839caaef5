"""The datasets `gradkit train` / `evaluate` know, split and preprocessed the same way each
time, and the preprocessing recorded in run.json so that `gradkit predict` can repeat it.

    mnist, fashion-mnist  28x28 uint8 images -> 784 floats in [0, 1] (x / 255)
    digits                8x8 images with values 0..16 -> 64 floats in [0, 1] (x / 16)
    iris                  4 features, standardised with the training split's mean and std
    moons                 make_moons(1000, noise=0.2), standardised the same way

Images go to an MLP as flat rows and to a CNN (`layout="image"`) as (N, 1, H, W) arrays
(`"flatten": false` and the `"input_shape"` in run.json).

MNIST and Fashion-MNIST keep their standard test sets. The small sets are shuffled with the
run's seed and 20% become the test set. Validation is the last `val_split` of the training
samples (before shuffling), as in Keras's `validation_split`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import datasets as ds
from ..datasets.small import IRIS_FEATURE_NAMES, IRIS_TARGET_NAMES
from .common import CLIError

DATASETS = ("mnist", "fashion-mnist", "digits", "iris", "moons")

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]

# Per-dataset defaults for the options whose good value depends on the data's size.
DEFAULTS = {
    "mnist": {"epochs": 10, "batch_size": 128},
    "fashion-mnist": {"epochs": 10, "batch_size": 128},
    "digits": {"epochs": 30, "batch_size": 32},
    "iris": {"epochs": 100, "batch_size": 16},
    "moons": {"epochs": 50, "batch_size": 32},
}


def dataset_name(text: str) -> str:
    """Normalise a --dataset value ('Fashion_MNIST' -> 'fashion-mnist') or refuse it."""
    import argparse

    name = text.strip().lower().replace("_", "-")
    if name == "fashion":
        name = "fashion-mnist"
    if name not in DATASETS:
        raise argparse.ArgumentTypeError(
            f"unknown dataset {text!r}; choose from {', '.join(DATASETS)}")
    return name


@dataclass
class RunData:
    """One dataset, split and preprocessed: float32 inputs, int64 labels."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    preprocessing: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        """The number of input values of one sample (784 for MNIST, in either layout)."""
        return math.prod(self.x_train.shape[1:])

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One sample's shape: (784,) as rows, (1, 28, 28) as images."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def image_shape(self) -> tuple | None:
        shape = self.preprocessing.get("image_shape")
        return tuple(shape) if shape else None


def _image_preprocessing(side: int, raw_max: float, frame: str | None) -> dict:
    return {"type": "image", "image_shape": [side, side], "raw_max": raw_max,
            "scale": 1.0 / raw_max, "flatten": True, "ink": "light on dark",
            "frame": frame}


def _split_small(x, y, seed: int, test_fraction: float = 0.2):
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    n_test = int(round(len(x) * test_fraction))
    return (x[n_test:], y[n_test:]), (x[:n_test], y[:n_test])


def _standardise(x_train, x_test):
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scale = lambda a: ((a - mean) / std).astype(np.float32)  # noqa: E731
    return scale(x_train), scale(x_test), mean, std


def _load_raw(name: str, seed: int):
    """((x_train, y_train), (x_test, y_test), classes, preprocessing), x as float32 rows."""
    if name in ("mnist", "fashion-mnist"):
        loader = ds.load_mnist if name == "mnist" else ds.load_fashion_mnist
        (x, y), (xt, yt) = loader()
        x = x.reshape(len(x), -1).astype(np.float32) / np.float32(255)
        xt = xt.reshape(len(xt), -1).astype(np.float32) / np.float32(255)
        classes = [str(i) for i in range(10)] if name == "mnist" else list(FASHION_CLASSES)
        pre = _image_preprocessing(28, 255.0, "mnist" if name == "mnist" else None)
        return (x, y), (xt, yt), classes, pre
    if name == "digits":
        x, y = ds.load_digits()
        (x, y), (xt, yt) = _split_small(np.asarray(x, np.float32) / np.float32(16), y, seed)
        pre = _image_preprocessing(8, 16.0, None)
        return (x, y), (xt, yt), [str(i) for i in range(10)], pre
    if name == "iris":
        x, y = ds.load_iris()
        classes, features = list(IRIS_TARGET_NAMES), list(IRIS_FEATURE_NAMES)
    else:  # moons
        x, y = ds.make_moons(1000, noise=0.2, random_state=seed)
        classes, features = ["0", "1"], ["x0", "x1"]
    (x, y), (xt, yt) = _split_small(np.asarray(x, np.float32), y, seed)
    x, xt, mean, std = _standardise(x, xt)
    pre = {"type": "features", "feature_names": features, "mean": mean.tolist(),
           "std": std.tolist()}
    return (x, y), (xt, yt), classes, pre


IMAGE_DATASETS = ("mnist", "fashion-mnist", "digits")
LAYOUTS = ("flat", "image")


def as_images(x: np.ndarray, image_shape) -> np.ndarray:
    """Rows (N, H*W) as one-channel images (N, 1, H, W) (a view)."""
    return x.reshape(len(x), 1, *image_shape)


def load_run_data(name: str, seed: int = 0, val_split: float = 0.1,
                  train_size: int | None = None, layout: str = "flat") -> RunData:
    """The dataset `name` split into training / validation / test (see the module doc).

    `train_size` keeps only the first samples of the training part (quick runs, tests).
    `layout="image"` gives an image dataset's inputs as (N, 1, H, W) (a CNN's), "flat" as
    rows. Raises `gradkit.datasets.DatasetUnavailable` when MNIST's files cannot be found.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"load_run_data: layout must be one of {LAYOUTS}, got {layout!r}")
    if layout == "image" and name not in IMAGE_DATASETS:
        raise CLIError(f"{name} is not an image dataset: a CNN (--model cnn) needs one of "
                       f"{', '.join(IMAGE_DATASETS)}")
    (x, y), (xt, yt), classes, pre = _load_raw(name, seed)
    if layout == "image":
        shape = pre["image_shape"]
        x, xt = as_images(x, shape), as_images(xt, shape)
        pre = dict(pre, flatten=False, input_shape=[1, *shape])
    y, yt = np.asarray(y, np.int64), np.asarray(yt, np.int64)
    x_val = y_val = None
    if val_split > 0:
        cut = int(np.ceil(len(x) * (1 - val_split)))
        if cut >= len(x) or cut == 0:
            raise CLIError(f"--val-split {val_split} leaves no training or no validation "
                           f"samples out of {len(x)}")
        x, x_val, y, y_val = x[:cut], x[cut:], y[:cut], y[cut:]
    if train_size is not None:
        x, y = x[:train_size], y[:train_size]
    return RunData(name, np.ascontiguousarray(x), y, x_val, y_val, np.ascontiguousarray(xt),
                   yt, classes, pre)
