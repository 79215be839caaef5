"""A training run for test_io_resume.py: a hand-written loop (shuffling DataLoader, Dropout,
BatchNorm, Adam, StepLR) that checkpoints every few batches and can resume.

    python resume_worker.py WORKDIR [--resume] [--marker-at STEP]

With --marker-at, it creates WORKDIR/marker at that step and then slows down, so that the
test can SIGKILL it at a random later point (possibly in the middle of a checkpoint write).
The final weights go to WORKDIR/final.safetensors.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import gradkit as gk
from gradkit import nn, optim
from gradkit.data import DataLoader, TensorDataset
from gradkit.optim.lr_scheduler import StepLR

EPOCHS, EVERY, BATCH, N = 4, 3, 16, 200
STEPS = EPOCHS * -(-N // BATCH)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--marker-at", type=int, default=0)
    args = parser.parse_args()
    ckpt = os.path.join(args.workdir, "last.safetensors")

    gk.manual_seed(0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(32, 3))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = StepLR(opt, step_size=1, gamma=0.7)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    loss_fn = nn.CrossEntropyLoss()

    start, step = 0, 0
    if args.resume:
        info = gk.load_checkpoint(ckpt, model, opt, scheduler=sched, loader=loader)
        start, step = info["epoch"], info["step"]
    model.train()
    for epoch in range(start, EPOCHS):
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            step += 1
            if step == args.marker_at:
                open(os.path.join(args.workdir, "marker"), "w").close()
            if args.marker_at and step >= args.marker_at:
                time.sleep(0.02)
            if step % EVERY == 0 and loader.state_dict()["batches_done"]:  # inside an epoch
                gk.save_checkpoint(ckpt, model, opt, epoch=epoch, scheduler=sched,
                                   loader=loader, step=step)
        sched.step()
        gk.save_checkpoint(ckpt, model, opt, epoch=epoch + 1, scheduler=sched, loader=loader,
                           step=step)
    model.save_weights(os.path.join(args.workdir, "final.safetensors"))


if __name__ == "__main__":
    main()
