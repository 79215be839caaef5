"""Lesson 1's other problems: regression, and classes that no straight line separates.

1. Regression: y = 2x + 0.9 + noise, a single `nn.Linear(1, 1)` trained with squared error
   (the lesson also shows absolute error); the learned w and b land near 2 and 0.9.
2. Classes that no straight line separates: on two concentric circles a linear classifier
   stays at chance level (about 0.5), and on two interleaving moons it is stuck with a
   straight cut, while an MLP with one hidden layer separates both almost perfectly.

    python examples/regression_and_nonlinear.py [--epochs 200]
"""

from __future__ import annotations

import argparse

import numpy as np

import gradkit as gk
from gradkit import data, nn, optim
from gradkit.datasets import make_circles, make_moons


def fit(model, x, y, loss_fn, epochs, lr, batch_size=16, seed=0):
    """Minibatch SGD with momentum; returns the model."""
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=batch_size, shuffle=True,
                             seed=seed)
    for _ in range(epochs):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def regression(epochs: int, log=print) -> dict:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (100, 1)).astype(np.float32)
    y = (2 * x + 0.9 + rng.normal(0, 0.1, x.shape)).astype(np.float32)
    out = {}
    for name, loss in {"squared error": nn.MSELoss(), "absolute error": nn.L1Loss()}.items():
        gk.manual_seed(0)
        model = fit(nn.Linear(1, 1), x, y, loss, epochs, lr=0.05)
        w, b = model.weight.item(), model.bias.item()
        log(f"regression with {name:<15}: w = {w:.3f} (true 2.0), b = {b:.3f} (true 0.9)")
        out[name] = (w, b)
    return out


@gk.no_grad()
def accuracy(model, x, y) -> float:
    return float((model(gk.tensor(x)).argmax(axis=1).numpy() == y).mean())


def nonlinear(epochs: int, log=print) -> dict:
    sets = {
        "circles": lambda seed, n: make_circles(n, noise=0.05, factor=0.5, random_state=seed),
        "moons": lambda seed, n: make_moons(n, noise=0.1, random_state=seed),
    }
    out = {}
    for set_name, make in sets.items():
        (x, y), (x_te, y_te) = make(0, 400), make(1, 200)
        models = {
            "linear Linear(2,2)": nn.Linear(2, 2),
            "MLP Linear(2,32)-ReLU-Linear(32,2)": nn.Sequential(
                nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2)),
        }
        for name, model in models.items():
            gk.manual_seed(0)
            fit(model, x, y, nn.CrossEntropyLoss(), epochs, lr=0.05)
            acc = out[(set_name, name)] = (accuracy(model, x, y), accuracy(model, x_te, y_te))
            log(f"{set_name:<8} {name:<36}: train acc {acc[0]:.3f}, test acc {acc[1]:.3f}")
    return out


def main(argv=None, log=print) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=200)
    args = p.parse_args(argv)
    return {"regression": regression(args.epochs, log), "moons": nonlinear(args.epochs, log)}


if __name__ == "__main__":
    main()
