"""gradkit.torchvision: transforms (ToTensor, Normalize, Compose, Lambda, Resize) with
torchvision's numbers, and datasets.MNIST over gradkit's loader, usable with DataLoader
(batch-at-once transforms give the numbers one image at a time gives)."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit.torch as gt
from gradkit.torchvision import datasets, transforms

PIL = pytest.importorskip("PIL.Image", reason="Pillow is not installed (pip install pillow)")
RNG = np.random.default_rng(5)
IMAGES = RNG.integers(0, 256, (12, 28, 28), dtype=np.uint8)
LABELS = RNG.integers(0, 10, 12).astype(np.int64)


@pytest.fixture
def fake_mnist(monkeypatch):
    """load_mnist replaced by 12 random images (train) and their first 4 (test)."""
    calls = []

    def load(root=None, *, shape=None):
        calls.append(root)
        return (IMAGES, LABELS), (IMAGES[:4], LABELS[:4])

    monkeypatch.setattr("gradkit.datasets.mnist.load_mnist", load)
    monkeypatch.setattr("gradkit.torchvision.datasets._LOADED", {})
    return calls


def test_to_tensor_matches_torchvisions_formula():
    img = PIL.fromarray(IMAGES[0])
    t = transforms.ToTensor()(img)
    assert type(t) is gt.Tensor and t.shape == (1, 28, 28) and t.dtype == gt.float32
    np.testing.assert_array_equal(t.numpy()[0], IMAGES[0].astype(np.float32) / np.float32(255))
    rgb = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    out = transforms.ToTensor()(rgb)
    assert out.shape == (3, 5, 7)
    np.testing.assert_array_equal(out.numpy(), rgb.transpose(2, 0, 1) / np.float32(255))
    floats = np.ones((2, 2), np.float64) * 3
    assert transforms.ToTensor()(floats).numpy().max() == 3.0  # other dtypes keep values
    with pytest.raises(TypeError, match="PIL Image or an ndarray"):
        transforms.ToTensor()([1, 2])


def test_normalize_and_compose(torch):
    x = RNG.random((3, 4, 4)).astype(np.float32)
    norm = transforms.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.5))
    mean = torch.tensor([0.5, 0.4, 0.3]).reshape(3, 1, 1)
    std = torch.tensor([0.2, 0.25, 0.5]).reshape(3, 1, 1)
    want = ((torch.tensor(x) - mean) / std).numpy()  # torchvision's sub_ then div_
    np.testing.assert_array_equal(norm(gt.tensor(x)).numpy(), want)
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,),
                                                                               (0.3081,)),
                                   transforms.Lambda(lambda t: t.flatten())])
    flat = pipeline(PIL.fromarray(IMAGES[1]))
    assert flat.shape == (784,)
    assert "Normalize(mean=[0.1307], std=[0.3081])" in repr(pipeline)
    with pytest.raises(ValueError, match="division by zero"):
        transforms.Normalize((0.0,), (0.0,))
    with pytest.raises(TypeError, match="float tensor"):
        norm(gt.zeros(3, 2, 2, dtype=gt.uint8))


def test_resize_pil_images():
    img = PIL.fromarray(IMAGES[0])
    assert transforms.Resize((14, 20))(img).size == (20, 14)
    assert transforms.Resize(14)(PIL.fromarray(np.zeros((28, 56), np.uint8))).size == (28, 14)
    with pytest.raises(TypeError, match="PIL images only"):
        transforms.Resize(14)(gt.zeros(1, 28, 28))
    with pytest.raises(AttributeError, match="Lambda"):
        transforms.RandomRotation  # noqa: B018


def test_mnist_items_are_pil_images_and_int_labels(fake_mnist, tmp_path):
    train = datasets.MNIST(tmp_path, train=True, download=True)
    test = datasets.MNIST(tmp_path, train=False)
    assert len(train) == 12 and len(test) == 4 and fake_mnist == [tmp_path]  # loaded once
    img, label = train[3]
    assert img.size == (28, 28) and img.mode == "L" and label == int(LABELS[3])
    assert type(label) is int
    np.testing.assert_array_equal(np.asarray(img), IMAGES[3])
    assert train.data.dtype == gt.uint8 and train.data.shape == (12, 28, 28)
    assert train.targets.dtype == gt.int64 and train.classes[0] == "0 - zero"
    assert "Number of datapoints: 12" in repr(train)
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    datasets.MNIST(tmp_path)
    assert fake_mnist[-1] == tmp_path / "MNIST" / "raw"  # torchvision's layout


def test_mnist_through_a_dataloader_batched_at_once_gives_per_image_numbers(fake_mnist):
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    ds = datasets.MNIST("data", transform=tf, target_transform=None)
    assert hasattr(ds, "__getitems__")
    xb, yb = next(iter(gt.utils.data.DataLoader(ds, batch_size=5)))
    assert xb.shape == (5, 1, 28, 28) and xb.dtype == gt.float32 and yb.dtype == gt.int64
    one_by_one = np.stack([ds[i][0].numpy() for i in range(5)])
    np.testing.assert_array_equal(xb.numpy(), one_by_one)
    assert yb.tolist() == LABELS[:5].tolist()
    lam = datasets.MNIST("data", transform=transforms.Compose([transforms.ToTensor(),
                                                               transforms.Lambda(lambda t: t)]))
    assert not hasattr(lam, "__getitems__")  # per image: Lambda works on one image
    xb2, yb2 = next(iter(gt.utils.data.DataLoader(lam, batch_size=5)))
    assert xb2.shape == (5, 1, 28, 28) and yb2.tolist() == LABELS[:5].tolist()
    shuffled = gt.utils.data.DataLoader(ds, batch_size=4, shuffle=True)
    assert sorted(int(v) for _, y in shuffled for v in y) == sorted(LABELS.tolist())
    fashion = datasets.FashionMNIST  # same class over load_fashion_mnist
    assert fashion.classes[-1] == "Ankle boot"


def test_missing_names_say_what_to_use():
    with pytest.raises(AttributeError, match="CIFAR10.*TensorDataset"):
        datasets.CIFAR10  # noqa: B018
    with pytest.raises(AttributeError, match="DistributedSampler.*gk.distributed"):
        gt.utils.data.DistributedSampler  # noqa: B018
