"""Lesson 1 again, with the low-level API only: tensors, `backward` and manual updates.

No `nn`, no `optim`: the parameters are tensors that require grad, the network is two lines
of maths, and the SGD update is written out under `gk.no_grad()`. It trains the same
Linear(2,10)-Tanh-Linear(10,2) network on the same data as `own_framework.py`, showing that
the two levels meet: the numbers land in the same place.

    python examples/own_framework_lowlevel.py [--epochs 30] [--lr 0.1]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from own_framework import lesson_data

import gradkit as gk


def init_params(n_in: int, n_hidden: int, n_out: int) -> list[gk.Tensor]:
    """PyTorch's default Linear init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), by hand."""
    def uniform(shape, fan_in):
        bound = 1 / math.sqrt(fan_in)
        return (gk.rand(*shape) * 2 * bound - bound).requires_grad_()

    return [uniform((n_in, n_hidden), n_in), uniform((n_hidden,), n_in),
            uniform((n_hidden, n_out), n_hidden), uniform((n_out,), n_hidden)]


def forward(params: list[gk.Tensor], x: gk.Tensor) -> gk.Tensor:
    w1, b1, w2, b2 = params
    return gk.tanh(x @ w1 + b1) @ w2 + b2


def cross_entropy(logits: gk.Tensor, y: gk.Tensor) -> gk.Tensor:
    """Mean negative log-probability of the true class, from raw maths."""
    log_p = logits - gk.logsumexp(logits, axis=1, keepdims=True)
    return -log_p[gk.arange(len(y)), y].mean()


def main(argv=None, log=print) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=0.1)
    args = p.parse_args(argv)
    gk.manual_seed(0)
    (x_tr, y_tr), (x_te, y_te) = lesson_data()
    params = init_params(2, 10, 2)
    rng = np.random.default_rng(0)
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(x_tr))
        for start in range(0, len(order), 4):  # minibatches of 4
            idx = order[start:start + 4]
            loss = cross_entropy(forward(params, gk.tensor(x_tr[idx])), gk.tensor(y_tr[idx]))
            for w in params:
                w.grad = None
            loss.backward()
            with gk.no_grad():
                for w in params:
                    w -= args.lr * w.grad
        with gk.no_grad():
            out = {}
            for split, (x, y) in {"train": (x_tr, y_tr), "test": (x_te, y_te)}.items():
                logits = forward(params, gk.tensor(x))
                out[f"{split}_loss"] = cross_entropy(logits, gk.tensor(y)).item()
                out[f"{split}_acc"] = float((logits.argmax(axis=1).numpy() == y).mean())
        log(f"epoch {epoch:2d}  train loss {out['train_loss']:.3f} acc {out['train_acc']:.3f}"
            f"   test loss {out['test_loss']:.3f} acc {out['test_acc']:.3f}")
    return out


if __name__ == "__main__":
    main()
