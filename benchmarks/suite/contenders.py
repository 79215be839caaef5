"""The contenders: one MLP trainer per framework, all doing the same work.

gradkit's two (the low-level loop and `fit`) are here; PyTorch's loop and the hand-written
NumPy floor are in `reference.py`. Each trainer builds `sizes[0]-...-sizes[-1]` with ReLU (or
Tanh) between the Linear layers, softmax cross-entropy and SGD with momentum, and offers:

- `epoch(batch_size)`: one shuffled pass over the training set given to `set_data`;
- `steps(n, batch_size)`: `n` training steps on the first `batch_size` samples (one fixed
  batch: for tiny networks this times the per-step overhead; also used to warm up);
- `infer(batch_size)`: the outputs on the inference set, in batches, without gradients;
- `infer1(row)`: the outputs for one sample (a (1, features) NumPy array), as a NumPy array.

`GradkitJit` is the loop with its step compiled (`gk.compile`: traced once, replayed into
the same buffers), the peer of `jax.jit`. The peers (`jax.jit`, Keras 3 on JAX) are in
`peers.py`.
"""

from __future__ import annotations

import numpy as np

import gradkit as gk
from gradkit import nn, optim
from gradkit.data import DataLoader, TensorDataset

from .peers import JaxJit, KerasJax
from .reference import LR, MOMENTUM, NumpyMLP, TorchLoop


class GradkitLoop:
    """gradkit's low-level API: zero_grad, forward, loss, backward, step."""

    name = "gradkit"

    def __init__(self, sizes, act="relu", lr=LR, momentum=MOMENTUM, seed=0) -> None:
        gk.manual_seed(seed)
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU() if act == "relu" else nn.Tanh())
        self.model = nn.Sequential(*layers)
        self.opt = optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)
        self.loss_fn = nn.CrossEntropyLoss()
        self.loaders: dict[int, DataLoader] = {}

    def set_data(self, x, y, x_infer=None) -> None:
        self.x, self.y, self.x_infer = x, y, x_infer
        self.loaders.clear()
        self.fixed = {}

    def step(self, xb, yb) -> None:
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(xb), yb)
        loss.backward()
        self.opt.step()

    def epoch(self, batch_size: int) -> None:
        loader = self.loaders.get(batch_size)
        if loader is None:
            loader = self.loaders[batch_size] = DataLoader(
                TensorDataset(self.x, self.y), batch_size=batch_size, shuffle=True, seed=0)
        self.model.train()
        for xb, yb in loader:
            self.step(xb, yb)

    def steps(self, n: int, batch_size: int) -> None:
        batch = self.fixed.get(batch_size)
        if batch is None:
            batch = self.fixed[batch_size] = (gk.tensor(self.x[:batch_size]),
                                              gk.tensor(self.y[:batch_size]))
        xb, yb = batch
        self.model.train()
        for _ in range(n):
            self.step(xb, yb)

    def infer(self, batch_size: int):
        self.model.eval()
        x, outs = self.x_infer, []
        with gk.no_grad():
            for i in range(0, len(x), batch_size):
                xb = gk.from_numpy(x[i:i + batch_size])  # a view, like torch's x[i:j]
                outs.append(self.model(xb).data)
        return np.concatenate(outs)

    def infer1(self, row):
        """One sample's outputs: the call a served model makes (`model(x)` under no_grad)."""
        with gk.no_grad():
            return self.model(row).data


class GradkitJit(GradkitLoop):
    """The same loop with the step and the forward compiled (`gk.compile`)."""

    name = "gradkit jit"

    def __init__(self, sizes, act="relu", lr=LR, momentum=MOMENTUM, seed=0) -> None:
        super().__init__(sizes, act, lr, momentum, seed)
        self.step = gk.compile(super().step)  # type: ignore[method-assign]
        self._forward = gk.compile(self._no_grad_forward)

    def _no_grad_forward(self, xb):
        with gk.no_grad():
            return self.model(xb)

    def infer(self, batch_size: int):
        self.model.eval()
        x = self.x_infer
        return np.concatenate([self._forward(gk.from_numpy(x[i:i + batch_size])).data
                               for i in range(0, len(x), batch_size)])

    def infer1(self, row):
        return self._forward(row).data


class GradkitFit(GradkitLoop):
    """gradkit's high-level API: compile once, `fit(epochs=1)` per epoch, `predict`."""

    name = "gradkit fit"

    def __init__(self, sizes, act="relu", lr=LR, momentum=MOMENTUM, seed=0) -> None:
        super().__init__(sizes, act, lr, momentum, seed)
        self.model.compile(self.opt, "cross_entropy")

    def epoch(self, batch_size: int) -> None:
        self.model.fit(self.x, self.y, epochs=1, batch_size=batch_size, verbose=0,
                       shuffle=True)

    def infer(self, batch_size: int):
        return self.model.predict(self.x_infer, batch_size=batch_size)

    def infer1(self, row):
        return self.model.predict(row)


def fit_available() -> str | None:
    """None when `Module.fit`/`predict` can run, else why not (the fit rows are pending)."""
    try:
        m = GradkitFit([4, 3, 2])
        m.set_data(np.zeros((8, 4), np.float32), np.zeros(8, np.int64),
                   np.zeros((8, 4), np.float32))
        m.epoch(4)
        m.infer(4)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
        return f"{type(exc).__name__}: {exc}"
    return None


CONTENDERS = {c.name: c for c in (GradkitLoop, GradkitFit, GradkitJit, TorchLoop, JaxJit, KerasJax,
                                   NumpyMLP)}
