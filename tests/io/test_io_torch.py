"""PyTorch weights: state dicts saved with safetensors.torch load into gradkit models with the
same layer structure (same outputs), and gradkit's files load into PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch)")
st_torch = pytest.importorskip("safetensors.torch",
                               reason="safetensors is not installed (pip install safetensors)")

X = np.random.default_rng(0).standard_normal((16, 2, 5)).astype(np.float32)


def torch_model():
    tnn = torch.nn
    return tnn.Sequential(tnn.Flatten(), tnn.Linear(10, 32), tnn.BatchNorm1d(32), tnn.GELU(),
                          tnn.Dropout(0.2), tnn.Sequential(tnn.Linear(32, 16), tnn.LayerNorm(16),
                                                           tnn.Tanh()),
                          tnn.Linear(16, 4), tnn.LogSoftmax(dim=-1))


def gradkit_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(10, 32), nn.BatchNorm1d(32), nn.GELU(),
                         nn.Dropout(0.2), nn.Sequential(nn.Linear(32, 16), nn.LayerNorm(16),
                                                        nn.Tanh()),
                         nn.Linear(16, 4), nn.LogSoftmax())


def _torch_out(model, x):
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def _gk_out(model, x):
    model.eval()
    with gk.no_grad():
        return model(gk.tensor(x)).numpy()


def _train_torch_a_little(model):
    torch.manual_seed(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(3):
        opt.zero_grad()
        model(torch.from_numpy(X)).sum().backward()
        opt.step()


def test_torch_state_dict_loads_into_gradkit(tmp_path):
    torch.manual_seed(0)
    tm = torch_model()
    _train_torch_a_little(tm)  # non-trivial weights and BatchNorm running stats
    path = tmp_path / "torch.safetensors"
    st_torch.save_file(tm.state_dict(), str(path))

    gm = gradkit_model()
    gm.load_weights(path)
    assert gm[2].num_batches_tracked.item() == 3
    np.testing.assert_array_equal(gm[2].running_var.numpy(),
                                  tm[2].running_var.detach().numpy())
    np.testing.assert_allclose(_gk_out(gm, X), _torch_out(tm, X), rtol=1e-6, atol=1e-6)
    gk.load(path, model=gradkit_model())  # gk.load with a model reads it as well


def test_gradkit_weights_load_into_torch(tmp_path):
    gk.manual_seed(1)
    gm = gradkit_model()
    gm.train()
    with gk.no_grad():
        for i in range(3):
            gm(gk.tensor(X * (i + 1)))
    for path in (gm.save_weights(tmp_path / "w.safetensors"),
                 gk.save(gm, tmp_path / "m.safetensors")):
        tm = torch_model()
        result = tm.load_state_dict(st_torch.load_file(path))  # strict
        assert not result.missing_keys and not result.unexpected_keys
        assert tm[2].num_batches_tracked.item() == 3
        np.testing.assert_allclose(_torch_out(tm, X), _gk_out(gm, X), rtol=1e-6, atol=1e-6)


def test_mismatched_torch_model_is_refused_clearly(tmp_path):
    path = tmp_path / "torch.safetensors"
    st_torch.save_file(torch.nn.Linear(3, 2).state_dict(), str(path))
    with pytest.raises(nn.StateDictError, match=r"shape mismatch for 'weight': the model "
                                                r"expects \(2, 4\), the state dict has \(2, 3\)"):
        nn.Linear(4, 2).load_weights(path)


def test_bfloat16_torch_weights_are_widened(tmp_path):
    lin = torch.nn.Linear(3, 2).to(torch.bfloat16)
    path = tmp_path / "bf16.safetensors"
    st_torch.save_file(lin.state_dict(), str(path))
    g = nn.Linear(3, 2)
    g.load_weights(path)
    np.testing.assert_array_equal(g.weight.numpy(), lin.weight.float().detach().numpy())
