"""`DistributedSampler`: each rank's share of every epoch, from one shared shuffle."""

from __future__ import annotations

from collections.abc import Sized

import numpy as np

from ..data.sampler import Sampler, sample_count
from .agree import check_same
from .runtime import get_communicator


def _count(data: Sized | int) -> int:
    return sample_count(data, "DistributedSampler")


class DistributedSampler(Sampler):
    """The indices rank `rank` of `world_size` visits in each epoch (give it to a DataLoader).

        sampler = DistributedSampler(len(dataset), seed=0)
        loader = DataLoader(dataset, batch_size=global_batch // world_size(), sampler=sampler)

    Every rank draws the same permutation of `0..n-1` from `(seed, epoch)` (the loader calls
    `set_epoch` before each epoch) and keeps every `world_size`-th index starting at its rank:
    `perm[rank::world_size]`. So local batch j of all ranks together is exactly global batch
    j, `perm[j*B:(j+1)*B]` with `B = local batch * world_size`, whatever the number of ranks.

    Ranks must see the same number of batches (each training step is a collective):
    `drop_last=False` pads the permutation by repeating its first indices up to a multiple of
    `world_size`, `drop_last=True` drops its last `n % world_size` indices. `pad=False`
    (with drop_last=False) keeps uneven shards, for evaluation, where counts may differ.
    `rank`/`world_size` default to this process's (`gradkit.distributed.rank()`...); then
    building the sampler is a collective (every rank builds it) that checks that all ranks
    have the same number of samples and options: `RankMismatchError` on every rank if not
    (ranks with 2000 and 1990 samples would silently train on overlapping shards).
    The state (`state_dict`) is `{seed, epoch}`: it does not depend on the number of ranks,
    so a run resumes on a different number of ranks in the same global order.
    """

    def __init__(self, dataset_len: Sized | int, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False, rank: int | None = None,
                 world_size: int | None = None, pad: bool = True) -> None:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"DistributedSampler: seed must be an int, got {seed!r}")
        comm = None
        if rank is None or world_size is None:
            comm = get_communicator()
            rank = comm.rank if rank is None else rank
            world_size = comm.size if world_size is None else world_size
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"DistributedSampler: need 0 <= rank < world_size, got rank={rank}, "
                             f"world_size={world_size}")
        self.data_source = dataset_len
        self.shuffle, self.drop_last, self.pad = bool(shuffle), bool(drop_last), bool(pad)
        self.seed, self.epoch = int(seed), 0
        self.rank, self.world_size = int(rank), int(world_size)
        if self.drop_last and _count(dataset_len) < self.world_size:
            raise ValueError(f"DistributedSampler: drop_last=True with {_count(dataset_len)} "
                             f"samples and {self.world_size} ranks leaves every rank empty")
        if comm is not None and comm.size > 1 and self.world_size == comm.size:
            check_same(comm, "DistributedSampler", {
                "samples": _count(dataset_len), "shuffle": self.shuffle, "seed": self.seed,
                "drop_last": self.drop_last, "pad": self.pad},
                "Every rank must build it over the same dataset with the same arguments")

    @property
    def total_size(self) -> int:
        """Indices over all ranks per epoch, after padding or dropping."""
        n, p = _count(self.data_source), self.world_size
        if self.drop_last:
            return n - n % p
        return -(-n // p) * p if self.pad else n

    def __len__(self) -> int:
        n, p = self.total_size, self.world_size
        return n // p + (1 if self.rank < n % p else 0)

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose permutation `indices()` returns (same on every rank)."""
        self.epoch = int(epoch)

    def global_indices(self) -> np.ndarray:
        """The whole epoch's order over all ranks (padded or cut to `total_size`)."""
        n = _count(self.data_source)
        if self.shuffle:
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch]))
            order = rng.permutation(n).astype(np.int64, copy=False)
        else:
            order = np.arange(n, dtype=np.int64)
        total = self.total_size
        if total > n:  # pad by repeating the start (several times when n < world_size)
            order = np.resize(order, total)
        return order[:total]

    def indices(self) -> np.ndarray:
        return self.global_indices()[self.rank::self.world_size]

    def state_dict(self) -> dict:
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.seed = int(state.get("seed", self.seed))
        self.epoch = int(state.get("epoch", self.epoch))

    def __repr__(self) -> str:
        return (f"DistributedSampler(n={_count(self.data_source)}, rank={self.rank}, "
                f"world_size={self.world_size}, shuffle={self.shuffle}, seed={self.seed}, "
                f"epoch={self.epoch})")
