"""Lesson 1's lab: classify MNIST digits with 1, 2 and 3 layer networks.

For each network it prints, every epoch, the training and validation accuracy (the gap
between them is how overfitting shows) and the largest |weight| of every Linear layer
(weights grow as training goes on; regularisation keeps them in check). Validation is the
last 10,000 training images; the test set is used once, at the end.

    python examples/mnist_lab.py [--epochs 10] [--nets all] [--train-size 50000]

Pixels are scaled to [0, 1]. Minibatch SGD with momentum, batch 128.
"""

from __future__ import annotations

import argparse

import numpy as np

import gradkit as gk
from gradkit import data, nn, optim
from gradkit.datasets import load_mnist

NETS = {
    "1 layer (softmax regression)": lambda: nn.Sequential(nn.Linear(784, 10)),
    "2 layers, tanh": lambda: nn.Sequential(nn.Linear(784, 256), nn.Tanh(), nn.Linear(256, 10)),
    "2 layers, relu": lambda: nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)),
    "3 layers, relu": lambda: nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)),
}


def mnist_arrays(train_size: int = 50_000):
    """(train, validation, test) pairs: float32 pixels in [0, 1] (flattened), int64 labels."""
    (x, y), (x_test, y_test) = load_mnist()
    x = x.reshape(len(x), -1).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255
    return (x[:train_size], y[:train_size]), (x[50_000:], y[50_000:]), (x_test, y_test)


@gk.no_grad()
def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    hits = sum(int((model(gk.tensor(x[i:i + 2000])).argmax(axis=1).numpy() == y[i:i + 2000])
                   .sum()) for i in range(0, len(x), 2000))
    return hits / len(x)


def max_weights(model: nn.Module) -> list[float]:
    """Largest |W| of each Linear layer."""
    return [float(np.abs(m.weight.numpy()).max()) for m in model.modules()
            if isinstance(m, nn.Linear)]


def run(name: str, model: nn.Module, sets, epochs: int, lr: float, log=print) -> dict:
    (x, y), (x_val, y_val), (x_test, y_test) = sets
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=128, shuffle=True, seed=0)
    log(f"\n== {name}: {model.num_parameters():,} parameters")
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        row = {"train_acc": accuracy(model, x, y), "val_acc": accuracy(model, x_val, y_val),
               "max_w": max_weights(model)}
        history.append(row)
        log(f"epoch {epoch:2d}  train acc {row['train_acc']:.4f}  val acc {row['val_acc']:.4f}"
            f"  max|W| per layer " + " ".join(f"{w:.3f}" for w in row["max_w"]))
    test = accuracy(model, x_test, y_test)
    log(f"test accuracy {test:.4f}")
    return {"history": history, "test_acc": test}


def main(argv=None, log=print) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--nets", default="all", help="comma-separated indices into the list, or all")
    p.add_argument("--train-size", type=int, default=50_000)
    p.add_argument("--lr", type=float, default=0.05)
    args = p.parse_args(argv)
    sets = mnist_arrays(args.train_size)
    names = list(NETS) if args.nets == "all" else [list(NETS)[int(i)] for i in
                                                   args.nets.split(",")]
    results = {}
    for name in names:
        gk.manual_seed(0)
        results[name] = run(name, NETS[name](), sets, args.epochs, args.lr, log)
    log("\nsummary (test accuracy):")
    for name, r in results.items():
        log(f"  {name:<30} {r['test_acc']:.4f}")
    return results


if __name__ == "__main__":
    main()
