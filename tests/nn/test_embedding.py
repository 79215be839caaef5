"""Embedding against PyTorch: lookup, scattered gradients (repeats add up), padding_idx,
initialisation, from_pretrained, errors naming the layer, and devices."""

import numpy as np
import pytest

import gradkit as gk
from gradkit.nn.embedding import Embedding
from gradkit.nn.functional_seq import embedding

from .helpers import close, load_from_torch


@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_matches_pytorch_with_padding_idx(torch, rng, padding_idx):
    m, tm = Embedding(6, 4, padding_idx=padding_idx), torch.nn.Embedding(6, 4, padding_idx)
    load_from_torch(m, tm)
    idx = rng.integers(0, 6, size=(3, 7))
    idx[0, :3] = 5  # repeats, and the padding row when it is -1
    got, want = m(gk.tensor(idx)), tm(torch.tensor(idx))
    close(got.numpy(), want.detach().numpy(), rtol=0, atol=0)
    v = rng.standard_normal(got.shape).astype(np.float32)
    got.backward(gk.tensor(v))
    want.backward(torch.tensor(v))
    close(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-6, atol=1e-6)
    if padding_idx is not None:
        assert not m.weight.grad.numpy()[padding_idx].any()


def test_init_is_standard_normal_with_a_zero_padding_row():
    gk.manual_seed(0)
    w = Embedding(2000, 16, padding_idx=7).weight.numpy()
    assert w.dtype == np.float32 and not w[7].any()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02


def test_functional_form_and_from_pretrained(torch, rng):
    w = rng.standard_normal((5, 3)).astype(np.float32)
    idx = np.array([4, 0, 4])
    close(embedding(gk.tensor(idx), gk.tensor(w)).numpy(),
          torch.nn.functional.embedding(torch.tensor(idx), torch.tensor(w)).numpy())
    m = Embedding.from_pretrained(w)
    assert not m.weight.requires_grad and m(gk.tensor(idx)).shape == (3, 3)
    assert Embedding.from_pretrained(w, freeze=False).weight.requires_grad


def test_errors_name_the_layer_and_the_range():
    m = Embedding(10, 3)
    with pytest.raises(TypeError, match=r"Embedding\(10, 3\).*integers.*float32"):
        m(gk.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"Embedding\(10, 3\).*\[0, 10\).*from 0 to 10"):
        m(gk.tensor([0, 10]))
    with pytest.raises(ValueError, match=r"\[0, 10\).*from -1"):
        m(gk.tensor([-1, 2]))
    with pytest.raises(ValueError, match="padding_idx"):
        Embedding(10, 3, padding_idx=10)


def test_on_device(device, rng):
    m = Embedding(8, 4, padding_idx=1)
    idx = rng.integers(0, 8, size=(2, 5))
    want = m(gk.tensor(idx)).numpy()
    m.to(device)
    got = m(gk.tensor(idx, device=device))
    assert got.device.split(":")[0] == device
    close(got.numpy(), want, rtol=0, atol=0)
    got.sum().backward()
    assert m.weight.grad.device == m.weight.device
    assert not m.weight.grad.numpy()[1].any()
