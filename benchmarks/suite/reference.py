"""The reference contenders: PyTorch's usual loop, and a hand-written NumPy MLP (the floor).

This module imports only NumPy (and PyTorch inside `TorchLoop`), so that the peak-memory
probe of each reference runs in a process that has not imported gradkit.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

LR, MOMENTUM = 0.01, 0.9


class TorchLoop:
    """PyTorch's usual loop on CPU tensors; batches gathered with one index per batch (the
    fastest in-memory way, faster than torch.utils.data.DataLoader's per-sample path)."""

    name = "torch"

    def __init__(self, sizes, act="relu", lr=LR, momentum=MOMENTUM, seed=0) -> None:
        import torch

        self.torch = torch
        torch.manual_seed(seed)
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU() if act == "relu" else torch.nn.Tanh())
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.gen = torch.Generator().manual_seed(seed)

    def set_data(self, x, y, x_infer=None) -> None:
        t = self.torch
        self.x, self.y = t.from_numpy(x), t.from_numpy(y)
        self.x_infer = None if x_infer is None else t.from_numpy(x_infer)

    def step(self, xb, yb) -> None:
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(xb), yb)
        loss.backward()
        self.opt.step()

    def epoch(self, batch_size: int) -> None:
        n = len(self.x)
        perm = self.torch.randperm(n, generator=self.gen)
        self.model.train()
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            self.step(self.x[idx], self.y[idx])

    def steps(self, n: int, batch_size: int) -> None:
        xb, yb = self.x[:batch_size], self.y[:batch_size]
        self.model.train()
        for _ in range(n):
            self.step(xb, yb)

    def infer(self, batch_size: int):
        self.model.eval()
        x, outs = self.x_infer, []
        with self.torch.no_grad():
            for i in range(0, len(x), batch_size):
                outs.append(self.model(x[i:i + batch_size]))
        return self.torch.cat(outs).numpy()

    def infer1(self, row):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(row)).numpy()


class NumpyMLP:
    """Hand-written NumPy: forward, manual backward and the momentum update; no framework.

    The floor for a NumPy framework: the usual NumPy care (float32, bias and ReLU in place on
    the fresh matmul result, the ReLU gradient applied in place), no graph, no checks. It runs
    NumPy's BLAS at its own default, every usable core: where gradkit's GEMM seam uses another
    library it limits NumPy's BLAS to one thread, which would handicap the floor.
    """

    name = "numpy"

    def __init__(self, sizes, act="relu", lr=LR, momentum=MOMENTUM, seed=0) -> None:
        rng = np.random.default_rng(seed)
        self.W, self.b = [], []
        for a, b in zip(sizes[:-1], sizes[1:]):
            k = 1 / np.sqrt(a)  # PyTorch's default bound for Linear
            self.W.append(rng.uniform(-k, k, (b, a)).astype(np.float32))
            self.b.append(rng.uniform(-k, k, b).astype(np.float32))
        self.vW = [None] * len(self.W)
        self.vb = [None] * len(self.b)
        self.relu, self.lr, self.momentum = act == "relu", lr, momentum
        self.rng = rng

    def set_data(self, x, y, x_infer=None) -> None:
        self.x, self.y, self.x_infer = x, y, x_infer

    def forward(self, h, keep=None):
        last = len(self.W) - 1
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            z = h @ W.T
            z += b
            if i < last:
                if self.relu:
                    np.maximum(z, 0, out=z)
                else:
                    np.tanh(z, out=z)
            if keep is not None:
                keep.append(z)
            h = z
        return h

    def step(self, x, y) -> None:
        acts = [x]
        z = self.forward(x, acts)
        n = len(x)
        z -= z.max(axis=1, keepdims=True)  # softmax, then (p - onehot) / n in place
        rows = np.arange(n)
        zy = z[rows, y]
        np.exp(z, out=z)
        total = z.sum(axis=1)
        z /= total[:, None]
        self.loss = (np.log(total) - zy).mean()  # log-sum-exp: finite where p underflows
        z[rows, y] -= 1
        z /= n
        d = z
        for i in reversed(range(len(self.W))):
            h = acts[i]
            gW, gb = d.T @ h, d.sum(axis=0)
            if i > 0:
                d = d @ self.W[i]
                if self.relu:
                    d *= h > 0
                else:
                    d *= 1 - h * h
            self._update(self.W, self.vW, i, gW)
            self._update(self.b, self.vb, i, gb)

    def _update(self, params, bufs, i, g) -> None:
        buf = bufs[i]
        if buf is None:
            buf = bufs[i] = g
        else:
            buf *= self.momentum
            buf += g
        params[i] -= self.lr * buf

    def epoch(self, batch_size: int) -> None:
        n = len(self.x)
        perm = self.rng.permutation(n)
        with default_blas_threads():
            for i in range(0, n, batch_size):
                idx = perm[i:i + batch_size]
                self.step(self.x[idx], self.y[idx])

    def steps(self, n: int, batch_size: int) -> None:
        xb, yb = self.x[:batch_size], self.y[:batch_size]
        with default_blas_threads():
            for _ in range(n):
                self.step(xb, yb)

    def infer(self, batch_size: int):
        x = self.x_infer
        with default_blas_threads():
            return np.concatenate([self.forward(x[i:i + batch_size])
                                   for i in range(0, len(x), batch_size)])

    def infer1(self, row):
        return self.forward(row)


def default_blas_threads() -> contextlib.AbstractContextManager:
    """Every BLAS in the process at the usable cores' threads (OpenBLAS's default) while the
    context lasts, then as before (threadpoolctl, in the benchmark extra; without it nothing
    was limited either)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return threadpool_limits(limits=cores or 1, user_api="blas")


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True
