"""The loaders' ``shape=`` option: (N, H, W) by default, (N, 1, H, W) for CNNs, (N, H*W) rows
for MLPs; the same uint8 pixels (a view), and a bad value refused before any file is read."""

from __future__ import annotations

import numpy as np
import pytest

from gradkit.datasets import load_fashion_mnist, load_mnist
from gradkit.datasets import mnist as m


@pytest.fixture(params=["load_mnist", "load_fashion_mnist"])
def loader(request, monkeypatch, make_tiny, tmp_path):
    """(the loader, the tiny dataset it reads from root=)."""
    tiny = make_tiny()
    monkeypatch.setattr(m, "MNIST" if request.param == "load_mnist" else "FASHION_MNIST",
                        tiny.spec)
    root = tiny.write(tmp_path / "root")
    fn = {"load_mnist": load_mnist, "load_fashion_mnist": load_fashion_mnist}[request.param]
    return (lambda **kw: fn(root, **kw)), tiny


@pytest.mark.parametrize("shape, want", [(None, (3, 4)), ("image", (1, 3, 4)),
                                         ("flat", (12,))])
def test_shape_option(loader, shape, want):
    load, tiny = loader
    (x, y), (xt, yt) = load(shape=shape)
    assert x.shape == (12, *want) and xt.shape == (5, *want)
    assert x.dtype == xt.dtype == np.uint8 and y.dtype == np.int64
    np.testing.assert_array_equal(x.reshape(12, 3, 4), tiny.arrays["train_images"])
    np.testing.assert_array_equal(xt.reshape(5, 3, 4), tiny.arrays["test_images"])
    np.testing.assert_array_equal(y, tiny.arrays["train_labels"])


def test_image_layout_is_a_view_in_row_major_order(loader):
    load, _ = loader
    (x, _), _ = load()
    (xi, _), _ = load(shape="image")
    (xf, _), _ = load(shape="flat")
    assert np.array_equal(xi[:, 0], x) and np.array_equal(xf[3], x[3].ravel())
    assert xi.flags.c_contiguous and xf.flags.c_contiguous


@pytest.mark.parametrize("bad", ["nchw", "IMAGE", 1, ("image",)])
def test_bad_shape_is_refused_before_reading(bad, monkeypatch):
    def no_reading(*args, **kwargs):
        raise AssertionError("the files were read")

    monkeypatch.setattr(m, "load_idx_dataset", no_reading)
    with pytest.raises(ValueError, match=r"load_mnist: shape must be None, 'image' or 'flat'"):
        load_mnist(shape=bad)
    with pytest.raises(ValueError, match=r"load_fashion_mnist: shape must be"):
        load_fashion_mnist(shape=bad)


def test_reshape_images_on_any_size():
    x = np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8)
    assert m.reshape_images(x, "image").shape == (2, 1, 8, 8)
    assert m.reshape_images(x, "flat").shape == (2, 64)
    assert m.reshape_images(x, None) is x
    with pytest.raises(ValueError, match="reshape_images"):
        m.reshape_images(x, "nhwc")
