"""Fixtures for the dataset tests.

Every test runs with an empty cache in a temporary directory, ``GRADKIT_DATA`` unset and
``GRADKIT_OFFLINE=1``, so nothing touches the real ``~/.cache/gradkit`` or the network.
(The one test that reads the real cache restores the environment it saved in `real_env`.)
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import urllib.error
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gradkit.datasets import sources
from gradkit.datasets.idx import encode_idx
from gradkit.datasets.mnist import KEYS, IdxDataset, IdxFile

_ENV_NAMES = ("GRADKIT_DATA", "XDG_CACHE_HOME", "GRADKIT_OFFLINE", "HOME")
_REAL_ENV = {k: os.environ.get(k) for k in _ENV_NAMES}

BASENAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty XDG cache under tmp_path; no GRADKIT_DATA; offline."""
    xdg = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GRADKIT_DATA", raising=False)
    monkeypatch.setenv("GRADKIT_OFFLINE", "1")
    return xdg / "gradkit"


@pytest.fixture
def real_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo `isolated_env` (for the test that uses the real cache), staying offline."""
    for name, value in _REAL_ENV.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("GRADKIT_OFFLINE", "1")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclasses.dataclass
class Tiny:
    """A small MNIST-like dataset: its spec (hashes pinned to these arrays) and arrays."""

    spec: IdxDataset
    arrays: dict[str, np.ndarray]

    def write(self, directory: Path, gz: bool = True, dotted: bool = False) -> Path:
        """Write the four IDX files into ``directory`` (created)."""
        directory.mkdir(parents=True, exist_ok=True)
        for key in KEYS:
            name = BASENAMES[key].replace("-idx", ".idx") if dotted else BASENAMES[key]
            data = encode_idx(self.arrays[key])
            if gz:
                (directory / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (directory / name).write_bytes(data)
        return directory

    def check(self, result: tuple) -> None:
        (xtr, ytr), (xte, yte) = result
        np.testing.assert_array_equal(xtr, self.arrays["train_images"])
        np.testing.assert_array_equal(ytr, self.arrays["train_labels"])
        np.testing.assert_array_equal(xte, self.arrays["test_images"])
        np.testing.assert_array_equal(yte, self.arrays["test_labels"])
        assert xtr.dtype == xte.dtype == np.uint8
        assert ytr.dtype == yte.dtype == np.int64


@pytest.fixture
def make_tiny(tmp_path: Path) -> Callable[..., Tiny]:
    def factory(name: str = "tiny", n_train: int = 12, n_test: int = 5, seed: int = 0,
                **spec_fields: object) -> Tiny:
        rng = np.random.default_rng(seed)
        arrays = {
            "train_images": rng.integers(0, 256, (n_train, 3, 4), dtype=np.uint8),
            "train_labels": rng.integers(0, 10, n_train).astype(np.uint8),
            "test_images": rng.integers(0, 256, (n_test, 3, 4), dtype=np.uint8),
            "test_labels": rng.integers(0, 10, n_test).astype(np.uint8),
        }
        files = {k: IdxFile(BASENAMES[k], arrays[k].shape, sha256(encode_idx(arrays[k])))
                 for k in KEYS}
        fields = {"system_dirs": (str(tmp_path / "system" / name),), "hints": ("HINT-XYZ",)}
        fields.update(spec_fields)
        spec = IdxDataset(name=name, title="TinyMNIST", files=files, **fields)  # type: ignore[arg-type]
        return Tiny(spec, arrays)

    return factory


class FakeResponse(io.BytesIO):
    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.headers: dict[str, str] = {}


@pytest.fixture
def fake_network(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[str]]:
    """Replace urlopen: ``fake_network({url: body or exception})`` returns the list of URLs
    requested; any other URL fails like an unknown host."""

    def install(routes: dict[str, bytes | Exception]) -> list[str]:
        seen: list[str] = []

        def urlopen(request, timeout=None):  # noqa: ANN001
            assert timeout is not None and 0 < timeout <= 60
            seen.append(request.full_url)
            result = routes.get(request.full_url,
                                urllib.error.URLError("Name or service not known"))
            if isinstance(result, Exception):
                raise result
            return FakeResponse(result)

        monkeypatch.setattr(sources.urllib.request, "urlopen", urlopen)
        return seen

    return install
