"""`gradkit evaluate` and `gradkit predict`: use a model written by `gradkit train` (or gk.save).

predict repeats the run's preprocessing from the run.json beside the model: an image is read
(Pillow), converted to grayscale, inverted when it is dark ink on a light background (MNIST
digits are white on black), framed like MNIST's digits (the ink's bounding box scaled to
20x20 and centred by its centre of mass in 28x28) for MNIST models, resized to the model's
image size and scaled like the training pixels. Tabular models (iris, moons) take the feature
values as comma-separated numbers instead of an image.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from ..errors import ShapeError
from ..nn import Conv1d, Conv2d, Linear
from .common import (
    RUN_FILE,
    CLIError,
    check_model_path,
    device_name,
    first_line,
    load_model,
    non_negative_int,
    note,
    positive_int,
    read_run_info,
    say,
)
from .data import DATASETS, dataset_name, load_run_data
from .guards import cache_notes
from .images import check_preprocessing, read_gray


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="loss and accuracy of a saved model on a dataset's test set",
        description="Load MODEL (gk.load) and print its loss and accuracy on the test set of "
                    "--dataset (by default the dataset it was trained on, from the run.json "
                    "beside it), split and preprocessed as `gradkit train` does.",
        epilog="example:\n  gradkit evaluate runs/mnist/model.safetensors --dataset mnist")
    p.add_argument("model", metavar="MODEL", help="a model file (or a run folder)")
    p.add_argument("--dataset", type=dataset_name, metavar="NAME",
                   help=f"one of {', '.join(DATASETS)}")
    p.add_argument("--batch-size", type=positive_int, default=1024, metavar="N")
    p.add_argument("--seed", type=non_negative_int, metavar="N",
                   help="the seed of the train/test split of the small sets (default: the "
                        "run's, else 0)")
    p.add_argument("--device", type=device_name, default="cpu", metavar="DEV")
    p.set_defaults(run=run_evaluate)

    p = sub.add_parser(
        "predict", help="classify images (or feature vectors) with a saved model",
        description="Load MODEL and print the predicted class and the probability of every "
                    "class for each INPUT: an image file (PNG, JPEG, ...; any size, colour or "
                    "grayscale; needs Pillow) for image models, or comma-separated feature "
                    "values (e.g. 5.1,3.5,1.4,0.2) for iris/moons models. Images are "
                    "preprocessed like the training data (see run.json beside the model). "
                    "MNIST digits are white on black: dark-on-light images are inverted "
                    "automatically (--invert).",
        epilog="examples:\n  gradkit predict runs/mnist/model.safetensors digit.png\n"
               "  gradkit predict runs/iris/model.safetensors 5.1,3.5,1.4,0.2")
    p.add_argument("model", metavar="MODEL", help="a model file (or a run folder)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or feature values")
    p.add_argument("--invert", choices=("auto", "yes", "no"), default="auto",
                   help="invert the image's brightness: auto (default) when its border is "
                        "lighter than its centre")
    p.add_argument("--no-frame", action="store_true",
                   help="do not re-frame digits the MNIST way (just resize)")
    p.add_argument("--top", type=positive_int, metavar="K",
                   help="print only the K most probable classes")
    p.set_defaults(run=run_predict)


# ---- evaluate ---------------------------------------------------------------------------------
def _model_inputs(model) -> int | None:
    """The input width of a model that starts with a Linear layer (None for a CNN)."""
    for m in model.modules():
        if isinstance(m, (Conv1d, Conv2d)):
            return None
        if isinstance(m, Linear):
            return int(m.in_features)
    return None


def wants_images(model) -> bool:
    """True when the model's first layer with weights is a Conv2d (it takes (N, C, H, W))."""
    for m in model.modules():
        if isinstance(m, (Conv2d, Linear, Conv1d)):
            return isinstance(m, Conv2d)
    return False


def run_evaluate(args: argparse.Namespace) -> int:
    path = check_model_path(args.model)
    info = read_run_info(path) or {}
    settings = info.get("settings", {})
    name = args.dataset or info.get("dataset")
    if name is None:
        raise CLIError(f"--dataset is needed: {path} has no run.json beside it naming its "
                       f"dataset (choose from {', '.join(DATASETS)})")
    same = name == info.get("dataset")
    seed = args.seed if args.seed is not None else (settings.get("seed", 0) if same else 0)
    model = load_model(path, args.device)
    with cache_notes():
        data = load_run_data(name, seed, val_split=0.0,
                             layout="image" if wants_images(model) else "flat")
    n_in = _model_inputs(model)
    if n_in is not None and n_in != data.n_features:
        raise CLIError(f"the model takes {n_in} input features but {name} has "
                       f"{data.n_features}; evaluate it on the dataset it was trained on")
    try:
        outputs = np.asarray(model.predict(data.x_test[:1]))
    except (ShapeError, ValueError) as exc:
        raise CLIError(f"the model cannot take {name}'s inputs of shape "
                       f"{data.input_shape}: {first_line(exc)}; evaluate it on the dataset "
                       "it was trained on") from None
    if outputs.ndim != 2 or outputs.shape[1] < len(data.classes):
        raise CLIError(f"the model gives outputs of shape {outputs.shape[1:]} but {name} has "
                       f"{len(data.classes)} classes")
    model.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])
    logs = model.evaluate(data.x_test, data.y_test, batch_size=args.batch_size)
    say(f"{name} test set ({len(data.y_test):,} samples): loss {logs['loss']:.4f}, "
        f"accuracy {logs['accuracy']:.4f}")
    return 0


# ---- predict ----------------------------------------------------------------------------------
def _default_preprocessing(model, path: Path) -> dict:
    if wants_images(model):
        raise CLIError(f"{path} has no run.json beside it, so the image size and scaling of "
                       "this CNN are unknown; train it with 'gradkit train' or keep run.json "
                       "next to the model")
    n_in = _model_inputs(model)
    side = math.isqrt(n_in) if n_in else 0
    if not n_in or side * side != n_in:
        raise CLIError(f"{path} has no run.json beside it, so its preprocessing is unknown "
                       f"(and its {n_in} inputs are not a square image); train it with "
                       "'gradkit train' or keep run.json next to the model")
    note(f"no run.json beside {path}: assuming {side}x{side} grayscale images scaled to [0, 1]")
    return {"type": "image", "image_shape": [side, side], "raw_max": 1.0, "scale": 1.0,
            "flatten": True, "frame": None}


def run_predict(args: argparse.Namespace) -> int:
    path = check_model_path(args.model)
    info = read_run_info(path) or {}
    model = load_model(path)
    if info.get("preprocessing") is not None:
        pre = check_preprocessing(info["preprocessing"], _model_inputs(model),
                                  path.with_name(RUN_FILE))
    else:
        pre = _default_preprocessing(model, path)
    classes = info.get("classes")
    for item in args.inputs:
        if pre.get("type") == "features":
            x = _features(item, pre)
            label = item
        else:
            x = image_input(item, pre, invert=args.invert, frame=not args.no_frame)
            label = item
        scores = np.asarray(model.predict(x[None, :]))[0]
        prob = _softmax(scores)
        names = classes if classes and len(classes) == len(prob) else [
            str(i) for i in range(len(prob))]
        best = int(prob.argmax())
        say(f"{label}: {names[best]} (probability {prob[best]:.4f})")
        order = np.argsort(-prob)[: args.top or len(prob)]
        width = max(len(n) for n in names)
        for i in order:
            bar = "#" * int(round(prob[i] * 40))
            say(f"  {names[i]:>{width}}  {prob[i]:.4f}  {bar}")
    return 0


def _softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 1:
        z = z.reshape(-1)
    e = np.exp(z - z.max())
    return e / e.sum()


def _features(text: str, pre: dict) -> np.ndarray:
    names = pre.get("feature_names", [])
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != len(names) or not all(map(math.isfinite, values)):
        raise CLIError(f"this model takes {len(names)} comma-separated feature values "
                       f"({', '.join(names)}), got {text!r}")
    mean, std = np.asarray(pre["mean"]), np.asarray(pre["std"])
    return ((np.asarray(values) - mean) / std).astype(np.float32)


def _resize(gray: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Area-averaging resize of a [0, 1] image to (H, W) (Pillow when present)."""
    try:
        from PIL import Image
    except ImportError:
        return _resize_numpy(gray, shape)
    img = Image.fromarray(np.clip(gray * 255.0, 0, 255).astype(np.float32), mode="F")
    out = img.resize((shape[1], shape[0]), Image.Resampling.BOX if
                     min(gray.shape) >= max(shape) else Image.Resampling.BILINEAR)
    return np.asarray(out, dtype=np.float64) / 255.0


def _resize_numpy(gray: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    h, w = gray.shape
    ys = (np.arange(shape[0]) + 0.5) * h / shape[0] - 0.5
    xs = (np.arange(shape[1]) + 0.5) * w / shape[1] - 0.5
    yi = np.clip(np.round(ys).astype(int), 0, h - 1)
    xi = np.clip(np.round(xs).astype(int), 0, w - 1)
    return gray[np.ix_(yi, xi)]


def _needs_inverting(gray: np.ndarray) -> bool:
    """Dark ink on a light background: the border is brighter than the image's middle."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(np.median(border)) > 0.5


def frame_like_mnist(gray: np.ndarray, side: int = 28, box: int = 20) -> np.ndarray:
    """MNIST's framing: the ink's bounding box scaled so its longer side is `box` pixels,
    placed in a `side` x `side` image with its centre of mass in the middle."""
    ink = gray > 0.1 * gray.max() if gray.max() > 0 else gray > 0
    if not ink.any():
        return _resize(gray, (side, side))
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = gray[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = box / max(crop.shape)
    h = max(1, int(round(crop.shape[0] * scale)))
    w = max(1, int(round(crop.shape[1] * scale)))
    small = np.clip(_resize(crop, (h, w)), 0, 1)
    canvas = np.zeros((side, side))
    total = small.sum()
    cy = (small.sum(axis=1) @ np.arange(h)) / total if total else h / 2
    cx = (small.sum(axis=0) @ np.arange(w)) / total if total else w / 2
    top = int(np.clip(round(side / 2 - cy - 0.5), 0, side - h))
    left = int(np.clip(round(side / 2 - cx - 0.5), 0, side - w))
    canvas[top:top + h, left:left + w] = small
    return canvas


def image_input(path: str, pre: dict, invert: str = "auto", frame: bool = True) -> np.ndarray:
    """One image file as the model's input, preprocessed as in `pre` (run.json): a row, or
    a (1, H, W) image for a CNN (`"flatten": false`)."""
    shape = tuple(pre["image_shape"])
    gray = read_gray(path)
    if invert == "yes" or (invert == "auto" and _needs_inverting(gray)):
        if invert == "auto":
            note(f"{path} is dark on light; inverted to white on black like the training "
                 "images (--invert no keeps it)")
        gray = 1.0 - gray
    if frame and pre.get("frame") == "mnist":
        img = frame_like_mnist(gray, side=shape[0])
    else:
        img = _resize(gray, shape)
    raw = np.clip(img, 0.0, 1.0) * float(pre.get("raw_max", 1.0))
    x = raw * float(pre.get("scale", 1.0))
    if pre.get("flatten", True):
        return x.reshape(-1).astype(np.float32)
    return x.reshape(pre.get("input_shape") or (1, *shape)).astype(np.float32)
