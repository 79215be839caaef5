"""Models, data and a training loop run eagerly and compiled, for the gk.compile tests."""

from __future__ import annotations

import numpy as np

import gradkit as gk
from gradkit import nn
from gradkit.jit import compile as jit_compile

OPTIMIZERS = {
    "sgd": lambda ps: gk.optim.SGD(ps, lr=0.1),
    "momentum": lambda ps: gk.optim.SGD(ps, lr=0.05, momentum=0.9),
    "nesterov_wd": lambda ps: gk.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True,
                                           weight_decay=1e-3),
    "adam": lambda ps: gk.optim.Adam(ps, lr=1e-2),
    "adamw": lambda ps: gk.optim.AdamW(ps, lr=1e-2),
    "rmsprop": lambda ps: gk.optim.RMSprop(ps, lr=1e-2, momentum=0.5),
    "adagrad": lambda ps: gk.optim.Adagrad(ps, lr=1e-2, lr_decay=1e-3),
}

MODELS = {  # name: (layers, input width, classes (0: regression with MSE))
    "tanh_2_10_2": (lambda: [nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 2)], 2, 2),
    "relu_4_16_16_3": (lambda: [nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                                nn.Linear(16, 3)], 4, 3),
    "relu_3_8_1_mse": (lambda: [nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1)], 3, 0),
}


def data(width: int, classes: int, n: int = 512, seed: int = 0):
    """Inputs (n, width) float32 and targets: int labels, or (n, 1) floats for regression."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, width)).astype(np.float32)
    if classes == 0:
        return x, (x.sum(axis=1, keepdims=True) ** 2).astype(np.float32)
    return x, (np.abs(x[:, 0] * 3 + x[:, 1]).astype(np.int64) % classes)


def setup(model_name: str, opt_name: str, seed: int = 3):
    """A fresh model, optimizer and loss (the same weights for the same seed)."""
    layers, width, classes = MODELS[model_name]
    gk.manual_seed(seed)
    model = nn.Sequential(*layers())
    opt = OPTIMIZERS[opt_name](model.parameters())
    loss_fn = nn.CrossEntropyLoss() if classes else nn.MSELoss()
    return model, opt, loss_fn, width, classes


def step_fn(model, opt, loss_fn):
    """The training step both ways run: zero_grad, forward, loss, backward, step."""
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def train(model_name: str, opt_name: str, compiled: bool, steps: int = 12, batch: int = 32,
          batches=None, **options):
    """(model, optimizer, losses, the step function) after `steps` steps."""
    model, opt, loss_fn, width, classes = setup(model_name, opt_name)
    x, y = data(width, classes)
    step = step_fn(model, opt, loss_fn)
    f = jit_compile(step, **options) if compiled else step
    sizes = batches or [batch] * steps
    losses, at = [], 0
    for size in sizes:
        xb, yb = gk.tensor(x[at:at + size]), gk.tensor(y[at:at + size])
        at = (at + size) % (len(x) - max(sizes))
        losses.append(f(xb, yb).item())
    return model, opt, losses, f


def same_state(a, b) -> None:
    """Parameters, gradients and optimizer state of two runs are bitwise equal."""
    for p, q in zip(a[0].parameters(), b[0].parameters()):
        assert p.data.tobytes() == q.data.tobytes()
        assert (p.grad is None) == (q.grad is None)
        if p.grad is not None:
            assert p.grad.data.tobytes() == q.grad.data.tobytes()
    for p, q in zip(a[0].parameters(), b[0].parameters()):
        sa, sb = a[1].state.get(p, {}), b[1].state.get(q, {})
        assert sa.keys() == sb.keys()
        for k in sa:
            va, vb = sa[k], sb[k]
            assert (va.tobytes() == vb.tobytes()) if hasattr(va, "tobytes") else va == vb
