"""`tf.random`: samples from gradkit's seeded generators, with TF's seeds.

`tf.random.set_seed(n)` is `gk.manual_seed(n)` (it seeds init, dropout and shuffling too).
An op-level `seed=` gives its own stream, keyed by (global seed, op seed) as in TF: the
same program gives the same numbers, and two calls with one seed give different ones.
The numbers are not TF's (another generator); their distributions are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import random as gkrandom
from .missing import missing_attribute
from .ops import dims, t_
from .tensor import DEVICE, Tensor, from_array, retag, tf_array

__all__ = ["normal", "set_seed", "shuffle", "truncated_normal", "uniform"]

_STREAMS: dict[tuple[int, int], np.random.Generator] = {}
_GLOBAL_SEED = [0]


def set_seed(seed: int) -> None:
    """Seed every random source (TF's global seed; gradkit's `gk.manual_seed`)."""
    gkrandom.manual_seed(int(seed))
    _GLOBAL_SEED[0] = int(seed)
    _STREAMS.clear()


def _generator(seed: int | None) -> Any:
    """The generator a draw uses: the op seed's own stream, or gradkit's (on the tf device)."""
    if seed is None:
        return gkrandom.generator(DEVICE.get())
    key = (_GLOBAL_SEED[0], int(seed))
    gen = _STREAMS.get(key)
    if gen is None:
        gen = _STREAMS[key] = np.random.default_rng(list(key))
    return gen


def _place(arr: Any, dtype: Any) -> Tensor:
    return from_array(tf_array(arr).astype(np.dtype(dtype), copy=False))


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = np.float32,
           seed: int | None = None, name: str | None = None) -> Tensor:
    """Normal samples (float32 unless `dtype`)."""
    z = _generator(seed).standard_normal(dims(shape), dtype=np.float32)
    return _place(z * np.float32(stddev) + np.float32(mean), dtype)


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0,
                     dtype: Any = np.float32, seed: int | None = None,
                     name: str | None = None) -> Tensor:
    """Normal samples, redrawn where they fall more than two standard deviations out."""
    gen = _generator(seed)
    z = gen.standard_normal(dims(shape), dtype=np.float32)
    while True:
        bad = abs(z) > 2
        if not bad.any():
            break
        z[bad] = gen.standard_normal(int(bad.sum()), dtype=np.float32)
    return _place(z * np.float32(stddev) + np.float32(mean), dtype)


def uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = np.float32,
            seed: int | None = None, name: str | None = None) -> Tensor:
    """Uniform samples in [minval, maxval) (maxval 1 for floats; required for ints)."""
    dtype = np.dtype(dtype)
    gen = _generator(seed)
    if dtype.kind in "iu":
        if maxval is None:
            raise ValueError("tf.random.uniform: maxval must be given for an integer dtype")
        return _place(gen.integers(int(minval), int(maxval), size=dims(shape)), dtype)
    hi = 1.0 if maxval is None else float(maxval)
    u = gen.random(dims(shape), dtype=np.float32)
    return _place(u * np.float32(hi - float(minval)) + np.float32(minval), dtype)


def shuffle(value: Any, seed: int | None = None, name: str | None = None) -> Tensor:
    """`value` with its first axis in random order."""
    x = t_(value)
    gen = _generator(seed) if seed is not None else gkrandom.generator("cpu")
    return retag(x[gen.permutation(x.shape[0])])


def __getattr__(name: str) -> Any:
    raise missing_attribute("tf.random", name)
