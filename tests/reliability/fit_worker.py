"""A `fit` run for test_kills.py, checkpointed the documented way: a callback calls
`gk.save_checkpoint(path, model, model.optimizer, epoch=epoch + 1)` after each epoch, and a
restart calls `gk.load_checkpoint(path, model, model.optimizer)` then
`model.fit(..., initial_epoch=info["epoch"])`. Shuffling, dropout, BatchNorm, Adam and a
validation split: everything that must continue exactly.

    python fit_worker.py WORKDIR [--resume] [--marker-after STEPS]

With --marker-after, it creates WORKDIR/marker after that many training steps of this
process and then slows down, so that the test can SIGKILL it at a random later point
(possibly during a checkpoint write).
The final weights go to WORKDIR/final.safetensors.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import gradkit as gk
from gradkit import nn
from gradkit.callbacks import Callback

EPOCHS, BATCH, N, VAL = 6, 16, 200, 0.2
STEPS = EPOCHS * -(-int(N * (1 - VAL)) // BATCH)


class Save(Callback):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        gk.save_checkpoint(self.path, self.model, self.model.optimizer, epoch=epoch + 1)


class Marker(Callback):
    """Counts this process's training steps; from `at` on, marks the moment and slows
    down."""

    def __init__(self, workdir: str, at: int) -> None:
        super().__init__()
        self.workdir, self.at, self.step = workdir, at, 0

    def on_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step == self.at:
            open(os.path.join(self.workdir, "marker"), "w").close()
        if self.at and self.step >= self.at:
            time.sleep(0.02)


def data():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    return x, y


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--marker-after", type=int, default=0)
    args = parser.parse_args()
    ckpt = os.path.join(args.workdir, "last.safetensors")

    gk.manual_seed(0)
    x, y = data()
    model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3),
                          nn.Linear(32, 3))
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    start = 0
    if args.resume and os.path.exists(ckpt):
        start = gk.load_checkpoint(ckpt, model, model.optimizer)["epoch"]
    model.fit(x, y, epochs=EPOCHS, batch_size=BATCH, shuffle=True, validation_split=VAL,
              initial_epoch=start, verbose=0,
              callbacks=[Save(ckpt), Marker(args.workdir, args.marker_after)])
    model.save_weights(os.path.join(args.workdir, "final.safetensors"))


if __name__ == "__main__":
    main()
