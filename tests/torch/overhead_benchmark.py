"""Dialect overhead in time: each op on 4x4 float32 tensors, native gradkit vs gradkit.torch,
timed interleaved (best of 15 rounds, process time). Run: python -m tests.torch.overhead_benchmark
"""

from __future__ import annotations

import time

import numpy as np

import gradkit as gk
import gradkit.torch as torch


def _best(fn, n: int = 20000, rounds: int = 15) -> float:
    found = []
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(n):
            fn()
        found.append((time.process_time() - t) / n * 1e6)
    return min(found)


def main() -> None:
    a = np.random.default_rng(0).random((4, 4), dtype=np.float32)
    gx, gy, tx, ty = gk.tensor(a), gk.tensor(a), torch.tensor(a), torch.tensor(a)
    cases = {
        "x + y": (lambda: gx + gy, lambda: tx + ty),
        "x.add(y)": (lambda: gk.add(gx, gy), lambda: tx.add(ty)),
        "x.sum(dim=1)": (lambda: gx.sum(axis=1), lambda: tx.sum(dim=1)),
        "x.exp()": (lambda: gx.exp(), lambda: tx.exp()),
        "x @ y": (lambda: gx @ gy, lambda: tx @ ty),
        "x.reshape(-1)": (lambda: gx.reshape(-1), lambda: tx.reshape(-1)),
        "x.view(-1)": (lambda: gx.reshape(-1), lambda: tx.view(-1)),
        "x[0]": (lambda: gx[0], lambda: tx[0]),
        "x.max(1) (values, indices)": (lambda: (gx.max(axis=1), gx.argmax(axis=1)),
                                       lambda: tx.max(1)),
    }
    for name, (native, dialect) in cases.items():
        rn = min(_best(native, rounds=1) for _ in range(15))
        rd = min(_best(dialect, rounds=1) for _ in range(15))
        print(f"{name:28s} native {rn:6.2f} us   gradkit.torch {rd:6.2f} us   "
              f"+{rd - rn:5.2f} us")


if __name__ == "__main__":
    main()
