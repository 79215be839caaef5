"""backend/blocks.py: element-wise chains block by block give the whole-array results bit
for bit, on one thread and split between threads, and the optimizer kernels built on it."""

from __future__ import annotations

import os

import numpy as np
import pytest

from gradkit.backend import blocks
from gradkit.backend.updates import sgd_update_


@pytest.fixture(autouse=True)
def _blocks_from_two(monkeypatch):
    """Every test here takes the blocked path from two blocks on, whatever the CPU."""
    monkeypatch.setattr(blocks, "_block_min", [0])


def test_amd_cpus_block_from_the_thread_minimum(monkeypatch):
    for vendor, want in (("AuthenticAMD", blocks.THREAD_MIN), ("GenuineIntel", 0), ("", 0)):
        monkeypatch.setattr(blocks, "_block_min", [None])
        monkeypatch.setattr(blocks.cpuinfo, "field",
                            lambda name, v=vendor: v if name == "vendor_id" else "")
        assert blocks.block_min() == want
    monkeypatch.setattr(blocks, "_block_min", [blocks.THREAD_MIN])
    calls = []
    n = 3 * (blocks.BLOCK_BYTES // 4)  # three blocks, below THREAD_MIN: one whole call
    blocks.blockwise(lambda *a: calls.append(a[0].size), _arrays(n), scratch=1)
    assert calls == [n]


def _chain(w, g, b, tmp):
    b *= 0.9
    b += g
    np.multiply(b, 0.1, out=tmp)
    w -= tmp


def _arrays(n, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(n).astype(dtype) for _ in range(3)]


@pytest.mark.parametrize("n", [7, 3 * (blocks.BLOCK_BYTES // 4) + 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blockwise_equals_whole_arrays(n, dtype):
    w, g, b = _arrays(n, dtype)
    w2, b2 = w.copy(), b.copy()
    blocks.blockwise(_chain, (w, g, b), scratch=1)
    _chain(w2, g, b2, np.empty_like(w2))
    assert np.array_equal(w, w2) and np.array_equal(b, b2)


def test_blockwise_threads_cover_every_element(monkeypatch):
    monkeypatch.setattr(blocks, "THREAD_MIN", 1)
    n = 5 * (blocks.BLOCK_BYTES // 4) + 3  # an uneven last part
    w, g, b = _arrays(n)
    w2, b2 = w.copy(), b.copy()
    blocks.blockwise(_chain, (w, g, b), scratch=1)
    _chain(w2, g, b2, np.empty_like(w2))
    assert np.array_equal(w, w2) and np.array_equal(b, b2)


def test_blockwise_whole_call_for_views_and_shapes():
    seen = []

    def record(*arrays):
        seen.append([a.shape for a in arrays])

    big = np.zeros((512, 1024), np.float32)
    blocks.blockwise(record, (big[:, ::2], big[:, 1::2]), scratch=1)  # not contiguous
    blocks.blockwise(record, (big, big.reshape(-1)))  # shapes differ
    assert seen == [[(512, 512)] * 3, [(512, 1024), (512 * 1024,)]]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_blockwise_threads_after_fork(monkeypatch):
    monkeypatch.setattr(blocks, "THREAD_MIN", 1)
    n = 4 * (blocks.BLOCK_BYTES // 4)
    w, g, b = _arrays(n)
    blocks.blockwise(_chain, (w, g, b), scratch=1)  # the pool starts in the parent
    pid = os.fork()
    if pid == 0:  # the child: a pool of its own, no wait on the parent's threads
        try:
            blocks.blockwise(_chain, (w, g, b), scratch=1)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


@pytest.mark.parametrize("momentum,dampening,nesterov",
                         [(0.0, 0.0, False), (0.9, 0.0, False), (0.9, 0.25, False),
                          (0.9, 0.0, True)])
@pytest.mark.parametrize("first", [False, True])
@pytest.mark.parametrize("n", [20, 3 * (blocks.BLOCK_BYTES // 4) + 11])  # at once, blocks
def test_sgd_update_is_the_whole_array_rule(momentum, dampening, nesterov, first, n):
    w, d, buf = _arrays(n, seed=1)
    if first:
        buf = d.copy()
    w2, b2 = w.copy(), buf.copy()
    d_before = d.copy()
    sgd_update_(w, d, buf if momentum else None, lr=0.05, momentum=momentum,
                   dampening=dampening, nesterov=nesterov, first=first)
    if momentum:  # PyTorch's foreach=False order, op by op
        if not first:
            b2 *= momentum
            b2 += d * (1 - dampening) if dampening else d
        step = (b2 * momentum + d) if nesterov else b2
    else:
        step = d
    w2 -= step * 0.05
    assert np.array_equal(w, w2) and np.array_equal(d, d_before)
    if momentum:
        assert np.array_equal(buf, b2)
