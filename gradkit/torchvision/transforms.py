"""`torchvision.transforms`: ToTensor, Normalize, Compose, Lambda, Resize (PIL images).

ToTensor and Normalize also transform a whole batch of images at once (`batch(array)`),
which is how `datasets.MNIST` hands the DataLoader a batch without a Python loop per image
(the same numbers as one image at a time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor as _Native
from ..torch.tensor import Tensor, from_array, retag

__all__ = ["ToTensor", "Normalize", "Compose", "Lambda", "Resize"]


def _is_pil(pic: Any) -> bool:
    return type(pic).__module__.startswith("PIL.")


def _to_array(pic: Any) -> np.ndarray:
    """A PIL image or an ndarray as an (H, W, C) array."""
    if _is_pil(pic):
        arr = np.asarray(pic)
        if pic.mode == "1":
            arr = arr.astype(np.uint8) * 255
    elif isinstance(pic, np.ndarray):
        arr = pic
    else:
        raise TypeError(f"ToTensor: pic should be a PIL Image or an ndarray, got "
                        f"{type(pic).__name__}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional, got {arr.ndim} "
                         "dimensions")
    return arr


def _scaled(arr: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [0, 1] (torchvision divides by 255); other dtypes unchanged."""
    return arr.astype(np.float32) / np.float32(255) if arr.dtype == np.uint8 else arr


class ToTensor:
    """An (H, W, C) uint8 PIL image or ndarray -> a (C, H, W) float32 tensor in [0, 1]
    (other dtypes keep their values)."""

    def __call__(self, pic: Any) -> Tensor:
        arr = _to_array(pic)
        return from_array(np.ascontiguousarray(_scaled(arr).transpose(2, 0, 1)))

    def batch(self, images: np.ndarray) -> np.ndarray:
        """(N, H, W) or (N, H, W, C) images -> (N, C, H, W), scaled as one image is."""
        arr = images[..., None] if images.ndim == 3 else images
        return np.ascontiguousarray(_scaled(arr).transpose(0, 3, 1, 2))

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(tensor - mean) / std per channel of a (C, H, W) (or (N, C, H, W)) float tensor."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        self.mean, self.std, self.inplace = list(mean), list(std), inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to float, "
                             f"leading to division by zero ({self.std})")

    def _stats(self, c: int, dtype: np.dtype, ndim: int) -> tuple[np.ndarray, np.ndarray]:
        shape: tuple[int, ...] = (-1,) + (1,) * (ndim - 1)
        mean = np.asarray(self.mean, dtype=dtype).reshape(shape)
        std = np.asarray(self.std, dtype=dtype).reshape(shape)
        if mean.size not in (1, c) or std.size not in (1, c):
            raise ValueError(f"Normalize: {len(self.mean)} means and {len(self.std)} stds for "
                             f"{c} channels")
        return mean, std

    def __call__(self, tensor: Any) -> Tensor:
        if not isinstance(tensor, _Native):
            raise TypeError(f"Normalize: input tensor should be a torch tensor, got "
                            f"{type(tensor).__name__}")
        if tensor.dtype.kind != "f":
            raise TypeError(f"Normalize: input tensor should be a float tensor, got "
                            f"{tensor.dtype}")
        if tensor.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor image of shape (C, H, W), got "
                             f"{tuple(tensor.shape)}")
        mean, std = self._stats(tensor.shape[-3], tensor.dtype, 3)
        out = (tensor - from_array(mean)) / from_array(std)
        return retag(out)

    def batch(self, images: np.ndarray) -> np.ndarray:
        """The same normalisation of an (N, C, H, W) float array."""
        mean, std = self._stats(images.shape[1], images.dtype, 3)
        return (images - mean) / std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Compose:
    """Transforms applied in order."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    @property
    def batchable(self) -> bool:
        """Whether every transform can work on a whole batch (`batch`)."""
        return all(callable(getattr(t, "batch", None)) for t in self.transforms)

    def batch(self, images: np.ndarray) -> np.ndarray:
        """Every transform's `batch`, in order."""
        for t in self.transforms:
            images = getattr(t, "batch")(images)  # noqa: B009 - checked by `batchable`
        return images

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"Compose({lines}\n)"


class Lambda:
    """A user function as a transform."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return "Lambda()"


class Resize:
    """Resize a PIL image (bilinear by default): an int sets the smaller edge (keeping the
    aspect ratio), (h, w) sets both. Tensors and arrays: convert to PIL first."""

    def __init__(self, size: int | Sequence[int], interpolation: Any = None,
                 max_size: int | None = None, antialias: bool = True) -> None:
        self.size, self.interpolation, self.max_size = size, interpolation, max_size

    def _target(self, w: int, h: int) -> tuple[int, int]:
        if not isinstance(self.size, int):
            th, tw = self.size
            return int(tw), int(th)
        short, long_ = (w, h) if w <= h else (h, w)
        new_short, new_long = self.size, int(self.size * long_ / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_short, new_long) if w <= h else (new_long, new_short)

    def __call__(self, img: Any) -> Any:
        if not _is_pil(img):
            raise TypeError("Resize: gradkit resizes PIL images only; resize before ToTensor "
                            "(transforms.Compose([transforms.Resize(...), "
                            "transforms.ToTensor()]))")
        from PIL import Image

        resample = self.interpolation
        if resample is None:
            resample = Image.Resampling.BILINEAR
        return img.resize(self._target(*img.size), resample=getattr(resample, "value",
                                                                    resample))

    def __repr__(self) -> str:
        return f"Resize(size={self.size})"


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(f"module 'gradkit.torchvision.transforms' has no attribute "
                             f"{name!r}")
    raise AttributeError(f"module 'gradkit.torchvision.transforms' has no attribute {name!r}: "
                         "gradkit's torchvision has ToTensor, Normalize, Compose, Lambda and "
                         "Resize; write another transform as a function and wrap it in "
                         "transforms.Lambda")

