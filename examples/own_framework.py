"""Lesson 1, "our own framework": a softmax classifier and a one-hidden-layer network.

The lesson builds Linear, Tanh, Softmax and cross-entropy by hand and trains a `Net` with
minibatch SGD on 2-D data that is not perfectly separable (20% of the labels flipped).
Here the same pieces come from gradkit: `nn.Linear`, `nn.Tanh`, `nn.CrossEntropyLoss`
(softmax and cross-entropy fused into one numerically stable node), `optim.SGD` and a
`DataLoader` with batch size 4.

    python examples/own_framework.py [--epochs 30] [--lr 0.1]

Expect about 0.80-0.85 training and about 0.85 test accuracy: the flipped labels cap it.
"""

from __future__ import annotations

import argparse

import gradkit as gk
from gradkit import data, nn, optim
from gradkit.datasets import make_classification


def lesson_data(seed: int = 0):
    """The lesson's set: 100 points, 2 informative features, 20% flipped labels; 80/20 split."""
    x, y = make_classification(n_samples=100, n_features=2, n_redundant=0, n_informative=2,
                               flip_y=0.2, random_state=seed)
    return (x[:80], y[:80]), (x[80:], y[80:])


@gk.no_grad()
def evaluate(model: nn.Module, x, y) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of `model` on (x, y)."""
    model.eval()
    logits = model(gk.tensor(x))
    loss = nn.functional.cross_entropy(logits, gk.tensor(y)).item()
    acc = float((logits.argmax(axis=1).numpy() == y).mean())
    return loss, acc


def train(model: nn.Module, train_set, test_set, epochs: int = 30, lr: float = 0.1,
          batch_size: int = 4, seed: int = 0, log=print) -> dict:
    """Minibatch SGD; logs train/test loss and accuracy every epoch; returns the last ones."""
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=lr)
    loader = data.DataLoader(data.TensorDataset(*train_set), batch_size=batch_size,
                             shuffle=True, seed=seed)
    for epoch in range(1, epochs + 1):
        model.train()
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        (tr_loss, tr_acc), (te_loss, te_acc) = evaluate(model, *train_set), evaluate(model,
                                                                                    *test_set)
        log(f"epoch {epoch:2d}  train loss {tr_loss:.3f} acc {tr_acc:.3f}   "
            f"test loss {te_loss:.3f} acc {te_acc:.3f}")
    return {"train_loss": tr_loss, "train_acc": tr_acc, "test_loss": te_loss, "test_acc": te_acc}


def main(argv=None, log=print) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=0.1)
    args = p.parse_args(argv)
    gk.manual_seed(0)
    train_set, test_set = lesson_data()
    models = {
        "softmax classifier Linear(2,2)": nn.Linear(2, 2),
        "network Linear(2,10)-Tanh-Linear(10,2)": nn.Sequential(
            nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 2)),
    }
    results = {}
    for name, model in models.items():
        log(f"\n== {name}: {model.num_parameters()} parameters")
        results[name] = train(model, train_set, test_set, args.epochs, args.lr, log=log)
    log("\nfinal accuracy (train / test):")
    for name, r in results.items():
        log(f"  {name:<42} {r['train_acc']:.3f} / {r['test_acc']:.3f}")
    return results


if __name__ == "__main__":
    main()
