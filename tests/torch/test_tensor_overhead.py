"""The dialect costs one wrapper call on top of the native op: counted (Python-level calls of
one op, deterministic), not timed. Timings: python -m tests.torch.overhead_benchmark."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gradkit as gk
import gradkit.torch as torch

A = np.arange(16, dtype=np.float32).reshape(4, 4)
GX, GY = gk.tensor(A), gk.tensor(A)
TX, TY = torch.tensor(A), torch.tensor(A)


def calls(fn) -> int:
    """Python function calls that one call of `fn` makes (itself included)."""
    fn()  # warm caches
    n = [0]

    def profile(frame, event, arg):
        if event == "call":
            n[0] += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return n[0]


@pytest.mark.parametrize(("name", "native", "dialect", "extra"), [
    ("x + y", lambda: GX + GY, lambda: TX + TY, 0),
    ("x * y", lambda: GX * GY, lambda: TX * TY, 0),
    ("x.add(y)", lambda: gk.add(GX, GY), lambda: TX.add(TY), 1),
    ("x.sum(dim=1)", lambda: GX.sum(axis=1), lambda: TX.sum(dim=1), 0),
    ("x.mean(1)", lambda: GX.mean(axis=1), lambda: TX.mean(1), 0),
    ("x.exp()", lambda: GX.exp(), lambda: TX.exp(), 1),
    ("x.relu()", lambda: GX.relu(), lambda: TX.relu(), 1),
])
def test_one_wrapper_call_over_the_native_op(name, native, dialect, extra):
    assert calls(dialect) <= calls(native) + extra, name
