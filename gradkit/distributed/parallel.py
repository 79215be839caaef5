"""Data parallelism: the same model on every rank, gradients averaged after each backward.

`DataParallel(model)` broadcasts rank 0's parameters, then `sync_gradients()` (after
`backward`, before `optimizer.step()`) averages the gradients over all ranks with one
Allreduce per bucket: gradients are copied into a few flat, preallocated buffers (25 MB
each by default; a small model fits in one), reduced in place, and copied back.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..backend.devices import device_name, xp_of
from ..nn import Module
from ..optim import Optimizer
from ..tensor import Tensor
from .agree import check_same_model
from .comm import Communicator
from .runtime import get_communicator, init


def _comm(comm: Communicator | None) -> Communicator:
    return get_communicator() if comm is None else comm


def _reduce_dtype(dtype: np.dtype) -> np.dtype:
    """float16 gradients are summed in float32; float32 and float64 in their own type."""
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


class _Bucket:
    """One flat buffer holding the gradients of some parameters, then one presence flag per
    parameter (1 where this rank has a gradient), so `grad is None` survives the reduction:
    after it, a parameter gets a gradient iff some rank had one."""

    __slots__ = ("params", "offsets", "buffer", "device", "flags_at")

    def __init__(self, params: list, xp, dtype: np.dtype) -> None:
        self.params = params
        self.offsets, at = [], 0
        for p in params:
            self.offsets.append(at)
            at += p.size
        self.flags_at = at
        self.buffer = xp.empty(at + len(params), dtype=dtype)
        self.device = device_name(params[0]._data)

    def pack(self) -> None:
        buf, present = self.buffer, []
        for p, at in zip(self.params, self.offsets):
            g = p.grad
            present.append(g is not None)
            if g is None:
                buf[at:at + p.size] = 0
            else:
                data = g._data
                if data.shape != p.shape:
                    raise ValueError(f"sync_gradients: a gradient of shape {data.shape} for a "
                                     f"parameter of shape {p.shape}")
                buf[at:at + p.size] = data.reshape(-1)
        buf[self.flags_at:] = xp_of(buf).asarray(present, dtype=buf.dtype)

    def unpack(self, size: int) -> None:
        buf, flags = self.buffer, self.flags_at
        xp = xp_of(buf)
        xp.divide(buf, size, out=buf)
        present = (buf[flags:] > 0).tolist()
        for p, at, has in zip(self.params, self.offsets, present):
            if has:
                g = buf[at:at + p.size].reshape(p.shape)
                p.grad = Tensor._wrap(g.astype(p.dtype, copy=True))
            else:
                p.grad = None


def make_buckets(params: Iterable[Tensor], bucket_mb: float = 25.0) -> list[_Bucket]:
    """Group parameters (by device and reduction dtype, in reverse order, like the gradients
    arrive in backward) into buckets of about `bucket_mb` megabytes."""
    groups: dict[tuple, list] = {}
    for p in reversed(list(params)):
        key = (device_name(p._data), _reduce_dtype(p.dtype))
        groups.setdefault(key, []).append(p)
    cap = max(1, int(bucket_mb * 2**20))
    buckets = []
    for (_, dtype), ps in groups.items():
        current: list[Tensor] = []
        nbytes = 0
        for p in ps:
            if current and nbytes + p.size * dtype.itemsize > cap:
                buckets.append(_Bucket(current, xp_of(current[0]._data), dtype))
                current, nbytes = [], 0
            current.append(p)
            nbytes += p.size * dtype.itemsize
        if current:
            buckets.append(_Bucket(current, xp_of(current[0]._data), dtype))
    return buckets


def _flat_groups(tensors: list[Tensor]) -> dict[tuple, list[Tensor]]:
    groups: dict[tuple, list] = {}
    for t in tensors:
        groups.setdefault((device_name(t._data), t._data.dtype), []).append(t)
    return groups


def broadcast_tensors(tensors: Iterable[Tensor], root: int = 0,
                      comm: Communicator | None = None) -> None:
    """Overwrite each tensor's data (in place) with root's, one Bcast per device and dtype."""
    comm = _comm(comm)
    if comm.size == 1:
        return
    for group in _flat_groups([t for t in tensors if t is not None and t.size]).values():
        xp = xp_of(group[0]._data)
        flat = xp.concatenate([t._data.reshape(-1) for t in group])
        comm.broadcast_(flat, root=root)
        at = 0
        for t in group:
            t._data[...] = flat[at:at + t.size].reshape(t.shape)
            at += t.size


def broadcast_parameters(model: Module, root: int = 0, comm: Communicator | None = None,
                         buffers: bool = True) -> None:
    """Give every rank root's parameters (and buffers, e.g. BatchNorm's running statistics),
    in place, so an optimizer built on them keeps working."""
    tensors: list[Tensor] = list(model.parameters())
    if buffers:
        tensors += [b for b in model.buffers() if b is not None]
    broadcast_tensors(tensors, root=root, comm=comm)


def _as_host(value) -> Any:
    if isinstance(value, Tensor):
        value = value._data
    if not isinstance(value, (int, float, np.ndarray, np.generic)):
        value = value.get() if hasattr(value, "get") else value  # a CuPy array
    return np.asarray(value, dtype=np.float64)


def allreduce_sum(value: Any, comm: Communicator | None = None) -> Any:
    """The sum over ranks of a number, array, Tensor or dict of numbers (one Allreduce).
    Returns floats / float64 NumPy arrays (a dict keeps its keys)."""
    comm = _comm(comm)
    if isinstance(value, Mapping):
        keys = list(value)
        packed = np.array([float(_as_host(value[k])) for k in keys], dtype=np.float64)
        comm.allreduce_(packed)
        return {k: float(v) for k, v in zip(keys, packed.tolist())}
    arr = np.array(_as_host(value), dtype=np.float64)
    comm.allreduce_(arr.reshape(-1))
    return float(arr) if arr.ndim == 0 else arr


def allreduce_mean(value: Any, weight: float | None = None,
                   comm: Communicator | None = None) -> Any:
    """The mean over ranks of a number, array, Tensor or dict of numbers (metrics).

    With `weight` (e.g. this rank's sample count) the mean is weighted: a batch-mean loss
    weighted by batch sizes gives the mean over all samples. One Allreduce in float64.
    """
    comm = _comm(comm)
    if isinstance(value, Mapping):
        keys = list(value)
        w = 1.0 if weight is None else float(weight)
        packed = np.array([float(_as_host(value[k])) * w for k in keys] + [w], np.float64)
        comm.allreduce_(packed)
        total = packed[-1]
        return {k: float(v / total) if total else float("nan")
                for k, v in zip(keys, packed[:-1].tolist())}
    arr = _as_host(value)
    w = 1.0 if weight is None else float(weight)
    packed = np.append(arr.reshape(-1) * w, w)
    comm.allreduce_(packed)
    mean = packed[:-1] / packed[-1] if packed[-1] else packed[:-1] * np.nan
    return float(mean[0]) if arr.ndim == 0 else mean.reshape(arr.shape)


def parameters_in_sync(model: Module, comm: Communicator | None = None) -> bool:
    """True when every rank holds bitwise the same parameters and buffers (a checksum of
    their bytes is compared over ranks: a debugging check, not for every step)."""
    import hashlib

    comm = _comm(comm)
    h = hashlib.sha256()
    for t in [*model.parameters(), *(b for b in model.buffers() if b is not None)]:
        data = t._data if isinstance(t._data, np.ndarray) else t._data.get()
        h.update(np.ascontiguousarray(data).tobytes())
    digests = comm.allgather_object(h.hexdigest())
    return len(set(digests)) == 1


class DataParallel:
    """Data-parallel training of `model` over the job's ranks.

        dist.init()
        model = dist.DataParallel(model)          # rank 0's weights everywhere
        for xb, yb in loader:                     # a DistributedSampler shards the data
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            model.sync_gradients()                # average over ranks (few Allreduce calls)
            opt.step()

    Calling the wrapper calls the model; other attributes (`parameters`, `state_dict`, ...)
    are the model's, so checkpoints hold the plain model's keys. `broadcast_buffers=True`
    also sends rank 0's buffers (BatchNorm running statistics) with each sync.
    Wrapping checks first that every rank holds the same model (names, shapes, dtypes of
    the parameters and buffers): otherwise `RankMismatchError` on every rank, naming them.
    `stats` counts Allreduce calls and the seconds spent in them.
    """

    def __init__(self, model: Module, comm: Communicator | None = None, bucket_mb: float = 25.0,
                 broadcast: bool = True, broadcast_buffers: bool = True) -> None:
        if comm is None:
            init()
        object.__setattr__(self, "module", model)
        object.__setattr__(self, "comm", _comm(comm))
        object.__setattr__(self, "bucket_mb", float(bucket_mb))
        object.__setattr__(self, "broadcast_buffers", bool(broadcast_buffers))
        object.__setattr__(self, "stats", {"allreduce_calls": 0, "comm_seconds": 0.0,
                                           "syncs": 0})
        object.__setattr__(self, "_params", [])
        object.__setattr__(self, "_buckets", [])
        check_same_model(model, self.comm)  # before any collective that depends on it
        if broadcast:
            broadcast_parameters(model, comm=self.comm)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name == "module" or name.startswith("__"):  # not set yet (copy, unpickling)
            raise AttributeError(name)
        return getattr(self.module, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.module, name, value)

    @property
    def rank(self) -> int:
        return self.comm.rank

    @property
    def world_size(self) -> int:
        return self.comm.size

    def buckets(self) -> list[_Bucket]:
        """The gradient buckets, rebuilt when the parameters (or their devices) change."""
        params = [p for p in self.module.parameters() if p.requires_grad]
        cached = self._params
        stale = len(params) != len(cached) or any(a is not b for a, b in zip(params, cached))
        if not stale:
            stale = any(b.device != device_name(b.params[0]._data) for b in self._buckets)
        if stale:
            object.__setattr__(self, "_params", params)
            object.__setattr__(self, "_buckets", make_buckets(params, self.bucket_mb))
        return self._buckets

    def sync_gradients(self) -> None:
        """Replace every gradient by its mean over the ranks (call after backward on every
        rank). A parameter whose gradient is None on every rank keeps None."""
        comm = self.comm
        if comm.size == 1:
            return
        buckets = self.buckets()
        for b in buckets:
            b.pack()
        t0 = time.perf_counter()
        comm.allreduce_many_([b.buffer for b in buckets])
        self.stats["comm_seconds"] += time.perf_counter() - t0
        self.stats["allreduce_calls"] += len(buckets)
        self.stats["syncs"] += 1
        for b in buckets:
            b.unpack(comm.size)
        if self.broadcast_buffers:
            buffers = [t for t in self.module.buffers() if t is not None]
            if buffers:
                broadcast_tensors(buffers, comm=comm)

    def step(self, optimizer: Optimizer) -> None:
        """`sync_gradients()` then `optimizer.step()`."""
        self.sync_gradients()
        optimizer.step()

    def __repr__(self) -> str:
        return f"DataParallel({self.module!r}, rank={self.rank}, world_size={self.world_size})"
