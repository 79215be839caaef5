"""Data-parallel training over MPI: one model, several processes, the global batch split.

    mpiexec -n 2 python examples/distributed_fit.py [--epochs 10] [--batch 64] [--loop]
    python examples/distributed_fit.py          # the same script on 1 rank

Trains an MLP on the digits set (8x8 images, no download) with `fit(distributed=True)`,
or with `--loop` in a hand-written loop (`DataParallel` + `DistributedSampler` +
`sync_gradients()`). Only rank 0 prints; the final weights are the same on every rank
and, for the same global batch, the same as a single process would get.
"""

from __future__ import annotations

import argparse

import numpy as np

import gradkit as gk
from gradkit import distributed as dist
from gradkit import nn, optim
from gradkit.data import DataLoader, TensorDataset
from gradkit.datasets import load_digits


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def with_fit(x, y, args) -> dict:
    model = make_model()
    model.compile(optimizer=optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                  loss="cross_entropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=args.epochs, batch_size=args.batch, validation_split=0.2,
                        distributed=True, verbose=2)
    return {k: v[-1] for k, v in history.history.items()} | {"model": model}


def with_loop(x, y, args) -> dict:
    model = dist.DataParallel(make_model())  # rank 0's weights on every rank
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    ds = TensorDataset(x, y)
    loader = DataLoader(ds, batch_size=args.batch // dist.world_size(),
                        sampler=dist.DistributedSampler(len(ds), seed=0))
    for epoch in range(args.epochs):
        total, count = 0.0, 0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            model.sync_gradients()  # the mean gradient over all ranks
            opt.step()
            total, count = total + float(loss) * len(yb), count + len(yb)
        mean = dist.allreduce_mean(total / count, weight=count)  # over all samples
        if dist.is_main():
            print(f"epoch {epoch + 1}/{args.epochs} - loss: {mean:.4f}")
    return {"loss": mean, "model": model.module}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=64, help="global batch (split over ranks)")
    ap.add_argument("--loop", action="store_true", help="a hand-written loop instead of fit")
    args = ap.parse_args(argv)
    rank, world = dist.init()
    gk.manual_seed(0)
    x, y = load_digits()
    x = (x / 16.0).astype(np.float32)
    if dist.is_main():
        print(f"{world} rank(s), global batch {args.batch} = {world} x {args.batch // world}")
    result = (with_loop if args.loop else with_fit)(x, y, args)
    model = result.pop("model")
    in_sync = dist.parameters_in_sync(model)
    if dist.is_main():
        print(f"final: {', '.join(f'{k} {v:.4f}' for k, v in result.items())}; "
              f"parameters identical on all ranks: {in_sync}")
    return result | {"in_sync": in_sync}


if __name__ == "__main__":
    main()
