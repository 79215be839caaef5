"""What `fit(..., distributed=True)` needs, kept here so the fit loop only calls a few hooks.

- the global `batch_size` is split over the ranks: each rank's loader gives
  `batch_size // world_size` samples per step, from a `DistributedSampler` sharing one
  shuffle (seeded by `gk.manual_seed`'s seed, else a seed drawn on rank 0) per epoch;
- gradients are averaged (`DataParallel.sync_gradients`) between backward and the step;
- epoch logs (loss, metrics, validation) are means over all samples of all ranks;
- only rank 0 prints and runs the callbacks that write files (progress bar, ModelCheckpoint,
  CSVLogger, TensorBoard, or any callback with `main_process_only = True`);
- `stop_training` is agreed on by all ranks (any rank asking stops every rank);
- before training, the ranks check that they hold the same model and the same data
  (sample counts, batch size, validation set, initial epoch): `RankMismatchError` otherwise;
- an exception on any rank aborts the job with its traceback.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator

from ..backend.random import get_rng_state, spawn_seed
from ..callbacks.base import Callback
from ..data import DataLoader
from ..data.sampler import RandomSampler, SequentialSampler
from ..nn import Module
from .agree import check_same
from .parallel import DataParallel, allreduce_mean, allreduce_sum
from .runtime import abort_on_error, init
from .sampler import DistributedSampler


def main_process_only(cb: Callback) -> bool:
    """True for a callback that only rank 0 should run (it writes files or prints)."""
    return bool(getattr(cb, "main_process_only", False))


def _length(dataset) -> int | None:
    try:
        return len(dataset)
    except TypeError:
        return None


def _defines_batch_hooks(cb) -> bool:
    return any(getattr(type(cb), h, None) is not getattr(Callback, h, None)
               for h in ("on_batch_begin", "on_batch_end"))


class DistributedFit:
    """The distributed side of one `fit` call (see the module docstring)."""

    def __init__(self, model: Module, distributed: bool | DataParallel, callbacks: list | None,
                 verbose: int, custom_step: bool) -> None:
        if isinstance(distributed, DataParallel):
            if distributed.module is not model:
                raise ValueError("fit(distributed=DataParallel(...)): the wrapper holds a "
                                 "different model than the one being trained")
            self.dp = distributed
        else:
            init()
            self.dp = DataParallel(model)  # rank 0's weights on every rank
        self.comm = self.dp.comm
        self.size, self.main = self.comm.size, self.comm.rank == 0
        user = list(callbacks or [])
        kept = [cb for cb in user if not main_process_only(cb)]
        self.callbacks = user if self.main else kept
        self.verbose = verbose if self.main else 0
        # Decided from what is the same on every rank, so every rank makes the same calls.
        self.batch_consensus = custom_step or any(_defines_batch_hooks(cb) for cb in kept)

    # ---- data -------------------------------------------------------------------------------
    def _seed(self) -> int:
        seed = get_rng_state()["seed"]
        return self.comm.broadcast_object(spawn_seed() if seed is None else seed, root=0)

    def loaders(self, train: DataLoader, val: DataLoader | None, initial_epoch: int) -> tuple:
        """The training loader sharded (global batch split over the ranks, starting at
        `initial_epoch`'s order) and the validation loader sharded without padding.
        Every rank must pass the same data: `RankMismatchError` (on every rank) otherwise."""
        if self.size == 1 and isinstance(train.sampler, SequentialSampler):
            return train, val
        self._agree(train, val, initial_epoch)
        return self._train_loader(train, initial_epoch), self._val_loader(val)

    def _agree(self, train: DataLoader, val: DataLoader | None, initial_epoch: int) -> None:
        """What decides how many collectives each rank makes must be equal on all ranks."""
        values: dict = {"initial_epoch": initial_epoch,
                        "validation samples": None if val is None else _length(val.dataset)}
        if isinstance(train.sampler, DistributedSampler):  # the user's own shard
            values["training batches per epoch"] = len(train)
        else:
            values.update({"training samples": _length(train.dataset),
                           "batch_size": train.batch_size, "drop_last": train.drop_last,
                           "shuffle": isinstance(train.sampler, RandomSampler)})
        check_same(self.comm, "fit(distributed=True)", values,
                   "Every rank must pass the same data to fit (it splits it over the ranks) "
                   "with the same arguments")

    def _train_loader(self, loader: DataLoader, initial_epoch: int) -> DataLoader:
        if isinstance(loader.sampler, DistributedSampler):
            return loader  # made by the user for this rank: used as it is
        if isinstance(loader.sampler, RandomSampler):
            shuffle = True
        elif isinstance(loader.sampler, SequentialSampler):
            shuffle = False
        else:
            raise ValueError(
                f"fit(distributed=True): cannot split a DataLoader whose sampler is a "
                f"{type(loader.sampler).__name__} over the ranks; give it a "
                "gradkit.distributed.DistributedSampler (its batch_size is then per rank)")
        size, batch = self.size, loader.batch_size
        if batch < size:
            raise ValueError(f"fit(distributed=True): batch_size={batch} is smaller than the "
                             f"{size} ranks; the global batch is split over the ranks")
        if batch % size and self.main:
            warnings.warn(f"fit(distributed=True): batch_size={batch} is not a multiple of the "
                          f"{size} ranks; each rank uses {batch // size} samples per step "
                          f"(global batch {batch // size * size})", stacklevel=4)
        seed = self._seed() if shuffle else 0
        sampler = DistributedSampler(loader.dataset, shuffle=shuffle, seed=seed,
                                     drop_last=loader.drop_last, rank=self.comm.rank,
                                     world_size=size)
        sharded = DataLoader(loader.dataset, batch_size=batch // size, sampler=sampler,
                             drop_last=loader.drop_last, collate_fn=loader.collate_fn,
                             device=loader.device)
        sharded.load_state_dict({"epoch": initial_epoch, "batches_done": 0,
                                 "sampler": {"seed": seed, "epoch": initial_epoch}})
        return sharded

    def _val_loader(self, loader: DataLoader | None) -> DataLoader | None:
        if loader is None or isinstance(loader.sampler, DistributedSampler):
            return loader
        if len(loader.dataset) < self.size or not isinstance(loader.sampler,
                                                               SequentialSampler):
            return loader  # every rank evaluates all of it (same result everywhere)
        sampler = DistributedSampler(loader.dataset, shuffle=False, pad=False,
                                     rank=self.comm.rank, world_size=self.size)
        return DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=sampler,
                          collate_fn=loader.collate_fn, device=loader.device)

    # ---- per step / per epoch -------------------------------------------------------------
    def sync(self) -> None:
        """Average the gradients over the ranks (between backward and the optimizer step)."""
        self.dp.sync_gradients()

    def stop(self, model: Module, per_batch: bool = True) -> bool:
        """`model.stop_training`, agreed on by every rank (True if any rank set it)."""
        flag = bool(model.stop_training)
        if self.size == 1 or (per_batch and not self.batch_consensus):
            return flag

        agreed = allreduce_sum(float(flag), comm=self.comm) > 0
        if agreed != flag:
            object.__setattr__(model, "stop_training", agreed)
        return agreed

    def reduce(self, logs: dict, count: int) -> dict:
        """Epoch logs averaged over the ranks, weighted by each rank's sample count."""
        if self.size == 1:
            return logs

        keys = sorted(logs)
        reduced = allreduce_mean({k: logs[k] for k in keys}, weight=count, comm=self.comm)
        return {k: reduced[k] for k in logs}

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Around the training loop: abort on error, silence non-main ranks' stdout, and wait
        for rank 0 (e.g. its last checkpoint) at the end."""
        with abort_on_error():
            if self.main:
                yield
            else:
                with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
                    yield
            self.comm.barrier()
