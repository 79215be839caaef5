"""`torchvision.datasets.MNIST` and `FashionMNIST` over gradkit's verified loaders.

`MNIST(root, train=True, transform=None, target_transform=None, download=False)`: items are
`(image, int label)`, the image a PIL image ("L" mode, 28 x 28; a uint8 array when Pillow is
not installed) passed through `transform`. `root` is looked in first (also torchvision's
`root/MNIST/raw/`); then gradkit's cache, system copies and, unless `GRADKIT_OFFLINE=1`, the
network (so `download` changes nothing; every file is checked against its pinned SHA-256).

With tensor transforms that work on whole batches (`ToTensor`, `Normalize` and a `Compose`
of them) a DataLoader gets each batch with one index, not one transform call per image.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import mnist as _mnist
from ..torch.tensor import Tensor, from_array
from ..torch.utils.data import Dataset

__all__ = ["MNIST", "FashionMNIST"]

_LOADED: dict[tuple, tuple] = {}  # (loader, root) -> ((x, y), (x_test, y_test))


def _arrays(loader_name: str, folder: str, root: Any) -> tuple:
    loader = getattr(_mnist, loader_name)
    base = None if root is None else Path(os.path.expanduser(os.fspath(root)))
    where = base
    if base is not None and (base / folder / "raw").is_dir():
        where = base / folder / "raw"  # torchvision's layout
    key = (loader, None if where is None else str(where))
    if key not in _LOADED:
        _LOADED[key] = loader(where)
    return _LOADED[key]


class MNIST(Dataset):
    """The MNIST digits: 60,000 training or 10,000 test images of 28 x 28 pixels."""

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    _LOADER, _FOLDER = "load_mnist", "MNIST"

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Any = None, target_transform: Any = None,
                 download: bool = False) -> None:
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        (x, y), (xt, yt) = _arrays(self._LOADER, self._FOLDER, root)
        self._images, self._labels = (x, y) if train else (xt, yt)

    @property
    def data(self) -> Tensor:
        """The images, a uint8 tensor (N, 28, 28)."""
        return from_array(self._images)

    @property
    def targets(self) -> Tensor:
        """The labels, an int64 tensor (N,)."""
        return from_array(self._labels)

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img: Any = self._images[index]
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover - Pillow is in gradkit's "images" extra
            pass
        else:
            img = Image.fromarray(img)  # uint8 (28, 28): mode "L"
        target: Any = int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    @property
    def __getitems__(self) -> Any:
        """A whole batch at once, when the transform works on batches (see the module)."""
        t = self.transform
        batch = getattr(t, "batch", None)
        if self.target_transform is not None or not callable(batch) \
                or not getattr(t, "batchable", True):
            raise AttributeError("__getitems__")

        def items(indices: Any) -> tuple[np.ndarray, np.ndarray]:
            idx = np.asarray(indices) if not isinstance(indices, slice) else indices
            return batch(self._images[idx]), self._labels[idx]
        return items

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}",
                 f"    Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append(f"    StandardTransform\nTransform: {self.transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): the same shapes and split as MNIST, ten kinds of clothing."""

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    _LOADER, _FOLDER = "load_fashion_mnist", "FashionMNIST"


def __getattr__(name: str) -> object:
    if name.startswith("__"):
        raise AttributeError(f"module 'gradkit.torchvision.datasets' has no attribute {name!r}")
    raise AttributeError(f"module 'gradkit.torchvision.datasets' has no attribute {name!r}: "
                         "gradkit's torchvision has MNIST and FashionMNIST; for other data "
                         "load NumPy arrays (gk.datasets has load_digits, load_iris and "
                         "synthetic sets) into a torch.utils.data.TensorDataset")
