"""Element-wise chains run block by block on the CPU, so their arrays cross memory once.

    blockwise(fn, arrays, scratch=0)   fn(*blocks, *scratch_blocks) over flat blocks

A chain of NumPy ops over big arrays (an optimizer step: `buf *= m; buf += g; w -= lr * buf`)
reads and writes every array once per op, from main memory when the arrays outgrow the
cache. `blockwise` calls the same chain on consecutive blocks of `BLOCK_BYTES` instead:
each block stays in the L2 cache from the first op to the last, the results are bitwise
the same (element-wise ops, the same order per element), and a very large array is split
between threads (NumPy releases the GIL inside its loops). Measured on a 2-core Xeon
(AVX-512, 2 MiB L2 a core), SGD with momentum and Adam: 1.4x faster on 400k parameters,
1.5-1.6x on 4M, 1.9-2.2x on 8M (two threads) (`python benchmarks/blocks.py`); on an AMD
EPYC whose L3 holds the whole chain, blocks pay only from about 4M (`block_min`). Below `THREAD_MIN`
elements threads lose: each op of a block takes the GIL for its Python part. Anything
else (small, non-contiguous or mixed-shape arrays, CuPy or traced arrays) gets one call on
the whole arrays, with whole scratch arrays.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from . import cpuinfo
from .devices import xp_of

BLOCK_BYTES = 1 << 18  # 256 KiB an array's block: four arrays' blocks stay in a 2 MiB L2
THREAD_MIN = 1 << 22  # elements: from here on the blocks are split between threads
_pool: list[ThreadPoolExecutor | None] = [None]
_block_min: list[int | None] = [None]  # elements; found on first use (`block_min`)
_scratch = threading.local()


def _forget_pool() -> None:
    _pool[0] = None  # a forked child has none of the parent's threads: start a new pool


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _threads() -> int:
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(int(n or 1), 8))


def block_min() -> int:
    """Elements from which a chain runs in blocks (below: on whole arrays). Measured with
    `benchmarks/blocks.py`: on a 2-core Intel Xeon (2 MiB L2 a core) blocks paid from 400k
    elements (1.4x); on a 2-core AMD EPYC (Zen 4, 32 MiB L3 shared by the two cores) they
    lost there (0.71-0.88x), broke even at 4M for SGD and paid for Adam from 4M (1.2-1.3x,
    with threads): that L3 holds the whole chain. So AMD CPUs block from `THREAD_MIN`."""
    found = _block_min[0]
    if found is None:
        found = _block_min[0] = THREAD_MIN if cpuinfo.field("vendor_id") == "AuthenticAMD" else 0
    return found


def _blocks_of(dtype: np.dtype, count: int, block: int) -> list[np.ndarray]:
    """`count` scratch blocks of `dtype` for this thread (kept: no allocation a call)."""
    have = getattr(_scratch, "blocks", None)
    if have is None:
        have = _scratch.blocks = {}
    got = have.get(dtype)
    if got is None or len(got) < count or got[0].size < block:
        got = have[dtype] = [np.empty(block, dtype) for _ in range(count)]
    return got[:count]


def _run(fn: Callable[..., Any], flats: list[np.ndarray], scratch: int, lo: int,
         hi: int, block: int, extra: tuple) -> None:
    tmp = _blocks_of(flats[0].dtype, scratch, block)
    for s in range(lo, hi, block):
        e = min(s + block, hi)
        fn(*[f[s:e] for f in flats], *[t[:e - s] for t in tmp], *extra)


def _plain(arrays: Sequence[Any]) -> bool:
    first = arrays[0]
    return all(type(a) is np.ndarray and a.flags.c_contiguous and a.shape == first.shape
               and a.dtype == first.dtype for a in arrays)


def blockwise(fn: Callable[..., Any], arrays: Sequence[Any], scratch: int = 0,
              extra: tuple = ()) -> None:
    """Call `fn(*arrays, *scratch arrays, *extra)` block by block (see the module
    docstring): `fn` must be element-wise (what it writes at an index depends only on that
    index) and may use its `scratch` arguments as temporaries of the arrays' shape and
    dtype; `extra` is passed on as it is (scalars)."""
    n = arrays[0].size
    block = BLOCK_BYTES // max(arrays[0].itemsize, 1)
    if n < 2 * block or n < block_min() or not _plain(arrays):
        xp = xp_of(arrays[0])
        fn(*arrays, *[xp.empty_like(arrays[0]) for _ in range(scratch)], *extra)
        return
    flats = [a.reshape(-1) for a in arrays]
    parts = _threads() if n >= THREAD_MIN else 1
    if parts == 1:
        _run(fn, flats, scratch, 0, n, block, extra)
        return
    pool = _pool[0]
    if pool is None:
        pool = _pool[0] = ThreadPoolExecutor(parts, thread_name_prefix="gradkit-blocks")
    step = -(-n // (parts * block)) * block  # each part a whole number of blocks
    futures = [pool.submit(_run, fn, flats, scratch, lo, min(lo + step, n), block, extra)
               for lo in range(step, n, step)]
    _run(fn, flats, scratch, 0, min(step, n), block, extra)  # the first part on this thread
    for f in futures:
        f.result()
