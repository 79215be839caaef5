"""Helpers shared by the nn tests: small models, moving weights between gradkit and PyTorch."""

import numpy as np

import gradkit as gk
from gradkit import nn


def torch_state(torch, module) -> dict:
    """A gradkit module's state dict as torch tensors (to load into a torch module)."""
    return {k: torch.from_numpy(v) for k, v in module.state_dict().items()}


def load_from_torch(module, tmodule) -> None:
    """Copy a torch module's parameters and buffers into a gradkit module (strict keys)."""
    module.load_state_dict({k: v.detach().numpy() for k, v in tmodule.state_dict().items()})


def forward_backward(gk_fn, t_fn, torch, x, seed=1):
    """Run both with the same input and upstream gradient; return gradkit/torch outputs and
    the input gradients."""
    gx = gk.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    got, want = gk_fn(gx), t_fn(tx)
    v = np.random.default_rng(seed).standard_normal(got.shape).astype(x.dtype)
    got.backward(gk.tensor(v, dtype=x.dtype))
    want.backward(torch.tensor(v))
    return got.numpy(), want.detach().numpy(), gx.grad.numpy(), tx.grad.numpy()


def close(a, b, rtol=2e-5, atol=2e-6, msg=""):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, err_msg=msg)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.norm = nn.BatchNorm1d(4)

    def forward(self, x):
        return self.norm(self.fc(x)).relu()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(gk.ones(1))
        self.body = nn.Sequential(Block(), nn.Dropout(0.1))
        self.heads = nn.ModuleList([nn.Linear(4, 2), nn.Linear(4, 1)])

    def forward(self, x):
        h = self.body(x) * self.scale
        return [head(h) for head in self.heads]


NET_PARAMS = ["scale", "body.0.fc.weight", "body.0.fc.bias", "body.0.norm.weight",
              "body.0.norm.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight",
              "heads.1.bias"]


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
