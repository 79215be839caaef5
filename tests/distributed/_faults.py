"""Jobs in which one rank misbehaves, run by tests/distributed/test_faults.py under mpiexec.

    python tests/distributed/_faults.py <name> <out> [args]

Each must END (the tests give it a hard timeout) with the message the test looks for.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import numpy as np

import gradkit as gk
from gradkit import distributed as dist
from gradkit import nn
from gradkit.callbacks import Callback

FEATURES, CLASSES = 8, 3


def data(n: int = 64):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, FEATURES)).astype(np.float32),
            rng.integers(0, CLASSES, n))


def model_of(hidden: int = 64):
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(FEATURES, hidden), nn.Tanh(), nn.Linear(hidden, CLASSES))
    model.compile(optimizer="sgd", loss="cross_entropy")
    return model


def _exit(code: str):
    sys.exit(None if code == "none" else int(code))


def steps(dp, fault=None, at: int = 1, count: int = 20) -> None:
    """A hand-written loop; `fault()` runs on rank 1 at step `at`."""
    x, y = data()
    xb, yb = gk.tensor(x[:8]), gk.tensor(y[:8])
    for step in range(count):
        if fault is not None and dist.rank() == 1 and step == at:
            fault()
        nn.CrossEntropyLoss()(dp(xb), yb).backward()
        dp.sync_gradients()


def exit_in_loop(out: str, code: str) -> None:
    """Rank 1 calls sys.exit(code) in the middle of a loop; rank 0 waits in an Allreduce."""
    dist.init()
    steps(dist.DataParallel(model_of()), lambda: _exit(code))


def exit_before_fit(out: str) -> None:
    """Rank 1 exits (code 0) right after init; rank 0 goes on into fit."""
    dist.init()
    if dist.rank() == 1:
        sys.exit(0)
    x, y = data()
    model_of().fit(x, y, epochs=2, batch_size=16, distributed=True, verbose=0)


class ExitOnRank1(Callback):
    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def on_batch_end(self, batch, logs=None):
        if dist.rank() == 1 and batch == 1:
            _exit(self.code)


def exit_in_fit(out: str, code: str) -> None:
    """A callback calls sys.exit(code) on rank 1 inside fit."""
    dist.init()
    x, y = data()
    model_of().fit(x, y, epochs=3, batch_size=16, distributed=True, verbose=0,
                   callbacks=[ExitOnRank1(code)])


def caught(out: str) -> None:
    """Rank 1's loop catches its own exception and leaves the loop; its script then ends
    normally while rank 0 waits for it."""
    dist.init()
    dp = dist.DataParallel(model_of())

    def bad():
        raise ValueError("bad sample on rank 1")

    try:
        steps(dp, bad)
    except ValueError as exc:
        print(f"rank 1 caught {exc}; leaving the loop", flush=True)


def killed(out: str, name: str) -> None:
    """Rank 1 dies from a signal in the middle of the loop."""
    dist.init()
    steps(dist.DataParallel(model_of()), lambda: os.kill(os.getpid(), getattr(signal, name)))


def stuck(out: str) -> None:
    """Rank 1 hangs (not in a collective); rank 0's Allreduce must time out."""
    dist.init()
    steps(dist.DataParallel(model_of()), lambda: time.sleep(600))


def _sizes(rank: int, pair: str) -> int:
    a, b = (int(v) for v in pair.split("/"))
    return a if rank == 0 else b


def mismatch(out: str) -> None:
    """Every check on every rank: the model 64 vs 65 wide (DataParallel, fit), the data 2000
    vs 1500 and 2000 vs 1990 samples (fit, DistributedSampler). Each rank writes what it
    caught; then the job goes on (a correct fit) and ends normally."""
    rank, _ = dist.init()
    caught: dict[str, str] = {}

    def attempt(name, fn):
        try:
            fn()
            caught[name] = "no error"
        except dist.RankMismatchError as exc:
            caught[name] = str(exc)

    x, y = data(2000)
    wide = _sizes(rank, "64/65")
    attempt("dataparallel", lambda: dist.DataParallel(model_of(wide)))
    attempt("fit_model", lambda: model_of(wide).fit(x, y, batch_size=200, distributed=True,
                                                    verbose=0))
    for pair in ("2000/1500", "2000/1990"):
        n = _sizes(rank, pair)
        attempt(f"fit_{pair}", lambda n=n: model_of().fit(
            x[:n], y[:n], batch_size=200, distributed=True, verbose=0))
        attempt(f"sampler_{pair}", lambda n=n: dist.DistributedSampler(n, seed=0))
    history = model_of().fit(x[:200], y[:200], batch_size=100, distributed=True, verbose=0)
    caught["fit_ok"] = f"{len(history.history['loss'])} epoch(s)"
    with open(f"{out}.{rank}.json", "w") as f:
        json.dump(caught, f)


def mismatch_uncaught(out: str) -> None:
    """The model is 64 wide on rank 0 and 65 on rank 1, nobody catches the error."""
    rank, _ = dist.init()
    x, y = data()
    model_of(64 + rank).fit(x, y, batch_size=16, distributed=True, verbose=0)


def late_work(out: str) -> None:
    """A healthy job: rank 0 does 2 s of its own work after the last collective while rank
    1 is already gone. It must end normally."""
    rank, _ = dist.init()
    x, y = data()
    model_of().fit(x, y, epochs=1, batch_size=16, distributed=True, verbose=0)
    if rank == 0:
        time.sleep(2)
        with open(out, "w") as f:
            f.write("rank 0 finished its own work")


if __name__ == "__main__":
    name, out, *args = sys.argv[1:]
    jobs = {f.__name__: f for f in (exit_in_loop, exit_before_fit, exit_in_fit, caught, killed,
                                    stuck, mismatch, mismatch_uncaught, late_work)}
    jobs[name](out, *args)
