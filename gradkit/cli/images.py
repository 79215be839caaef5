"""Reading `gradkit predict`'s inputs without trusting them.

Sizes are checked from a file's header before its data is decoded: an image may have at
most `MAX_IMAGE_PIXELS` pixels (a 20000x20000 PNG is refused before a byte of it is
decompressed), a `.npy` array must be 2-D (or 2-D with 1, 3 or 4 channels), non-empty, of a
numeric dtype, no larger than that, hold the bytes its header promises and no NaN or
infinity. The preprocessing in run.json (which the model's inputs are built from) must
describe a plausible image or feature vector that matches the model.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from .common import CLIError, first_line

#: The most pixels `gradkit predict` reads from one image (a 50-megapixel photo).
MAX_IMAGE_PIXELS = 50_000_000
#: The longest side of the image size a run.json may ask for.
MAX_SIDE = 4096


def _refuse(path: str, why: str) -> CLIError:
    return CLIError(f"cannot read image '{path}': {why}")


def _check_pixels(path: str, h: int, w: int) -> None:
    if h * w == 0:
        raise _refuse(path, f"it is empty ({h}x{w} pixels)")
    if h * w > MAX_IMAGE_PIXELS:
        raise _refuse(path, f"it is {w}x{h} pixels ({w * h:,}), more than the "
                            f"{MAX_IMAGE_PIXELS:,} gradkit predict reads; shrink it first")


def read_npy(path: str) -> np.ndarray:
    """A .npy image as a 2-D float64 array, after checking its header and values."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                    else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read(f)
            offset = f.tell()
    except (OSError, ValueError, EOFError) as exc:
        raise _refuse(path, f"not a .npy array ({first_line(exc)})") from None
    if dtype.hasobject or dtype.kind not in "biuf":
        raise _refuse(path, f"expected numbers, got an array of {dtype}")
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (1, 3, 4)):
        raise _refuse(path, f"expected a 2-D (height, width) array, or one with 1, 3 or 4 "
                            f"channels last, got shape {tuple(shape)}")
    _check_pixels(path, shape[0], shape[1])
    need = math.prod(shape) * dtype.itemsize
    if p.stat().st_size - offset < need:
        raise _refuse(path, f"truncated: shape {tuple(shape)} of {dtype} needs {need:,} bytes "
                            f"of data, the file holds {p.stat().st_size - offset:,}")
    try:
        arr = np.load(p, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise _refuse(path, first_line(exc)) from None
    if arr.ndim == 3:
        arr = arr[..., :3].mean(axis=-1)
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise _refuse(path, "it holds NaN or infinite values")
    return arr / 255.0 if arr.max() > 1.0 else arr


def read_gray(path: str) -> np.ndarray:
    """An image file as a float64 array in [0, 1], (H, W), grayscale (alpha composited on
    white). `.npy` files holding a 2-D array of 0..255 (or 0..1) values are read without
    Pillow."""
    p = Path(path)
    if not p.is_file():
        raise _refuse(path, "no such file")
    if p.suffix.lower() == ".npy":
        return read_npy(path)
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise CLIError("gradkit predict needs Pillow to read images: pip install pillow "
                       "(or pip install 'gradkit[all]')") from None
    try:
        limit = Image.MAX_IMAGE_PIXELS  # ours is lower, checked below with the real size
        try:
            Image.MAX_IMAGE_PIXELS = None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img_file = Image.open(p)  # reads the header only
        finally:
            Image.MAX_IMAGE_PIXELS = limit
        with img_file as img:
            _check_pixels(path, img.size[1], img.size[0])
            img.load()
            if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(white, rgba)
            gray = np.asarray(img.convert("L"), dtype=np.float64) / 255.0
    except Image.DecompressionBombError as exc:
        raise _refuse(path, f"{first_line(exc)}; shrink it first") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _refuse(path, first_line(exc)) from None
    if gray.ndim != 2 or gray.size == 0:
        raise _refuse(path, "empty image")
    return gray


# ---- run.json's preprocessing ---------------------------------------------------------------
def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _image_problem(pre: dict, n_in: int | None) -> str | None:
    shape = pre.get("image_shape")
    if (not isinstance(shape, list) or len(shape) != 2
            or not all(_whole(d) and 1 <= d <= MAX_SIDE for d in shape)):
        return f"image_shape {shape!r} (expected [height, width], each 1..{MAX_SIDE})"
    for key in ("raw_max", "scale"):
        if key in pre and not (_number(pre[key]) and pre[key] > 0):
            return f"{key} {pre[key]!r} (expected a finite number > 0)"
    if pre.get("frame") not in (None, "mnist"):
        return f"frame {pre.get('frame')!r} (expected null or \"mnist\")"
    size = shape[0] * shape[1]
    dims = pre.get("input_shape")
    if not pre.get("flatten", True) and dims is not None and (
            not isinstance(dims, list) or not all(_whole(d) and d > 0 for d in dims)
            or math.prod(dims) != size):
        return f"input_shape {dims!r} (expected the {size} values of image_shape)"
    if pre.get("flatten", True) and n_in is not None and size != n_in:
        return f"image_shape {shape} ({size} values) but the model takes {n_in} inputs"
    return None


def _features_problem(pre: dict, n_in: int | None) -> str | None:
    names, mean, std = pre.get("feature_names"), pre.get("mean"), pre.get("std")
    if not isinstance(names, list) or not 0 < len(names) <= 10_000:
        return f"feature_names {names!r} (expected a list of names)"
    for key, values in (("mean", mean), ("std", std)):
        if not isinstance(values, list) or len(values) != len(names) or not all(
                map(_number, values)):
            return f"{key} (expected {len(names)} finite numbers, one per feature)"
    if not all(s > 0 for s in std):  # type: ignore[union-attr]
        return "std (every feature's standard deviation must be > 0)"
    if n_in is not None and len(names) != n_in:
        return f"{len(names)} features but the model takes {n_in} inputs"
    return None


def check_preprocessing(pre: object, n_in: int | None, info: Path) -> dict:
    """`pre` (run.json's "preprocessing") when it is one predict can follow for a model
    taking `n_in` inputs (None: not known), else a one-line CLIError."""
    problem: str | None
    if not isinstance(pre, dict):
        problem = f"a preprocessing of {type(pre).__name__}"
    elif pre.get("type") == "features":
        problem = _features_problem(pre, n_in)
    elif pre.get("type", "image") == "image":
        problem = _image_problem(pre, n_in)
    else:
        problem = f"type {pre.get('type')!r} (expected \"image\" or \"features\")"
    if problem is not None:
        raise CLIError(f"{info}: its preprocessing has {problem}; it does not describe this "
                       "model's inputs (restore the run.json 'gradkit train' wrote beside the "
                       "model, or remove it)")
    return pre  # type: ignore[return-value]
