"""DistributedSampler without MPI: every rank's shard, computed for each rank in turn."""

import numpy as np
import pytest

from gradkit.data import DataLoader, TensorDataset
from gradkit.distributed import DistributedSampler, launched_by_mpi


def shards(n, p, epoch=0, **kw):
    out = []
    for r in range(p):
        s = DistributedSampler(n, rank=r, world_size=p, **kw)
        s.set_epoch(epoch)
        out.append(s.indices())
    return out


@pytest.mark.parametrize("n,p", [(20, 2), (20, 3), (7, 4), (3, 5), (1, 1), (64, 4)])
def test_padded_shards_cover_everything_with_equal_counts(n, p):
    parts = shards(n, p, seed=1)
    assert len({len(s) for s in parts}) == 1  # equal counts: every step is a collective
    assert len(parts[0]) == -(-n // p)
    assert len(parts[0]) == len(DistributedSampler(n, rank=0, world_size=p))
    flat = np.concatenate(parts)
    assert set(flat.tolist()) == set(range(n))  # coverage
    assert len(flat) - n == (-n) % p  # only the padding repeats
    assert all(s.dtype == np.int64 for s in parts)


@pytest.mark.parametrize("n,p", [(20, 3), (10, 4), (64, 4)])
def test_drop_last_gives_disjoint_equal_shards(n, p):
    parts = shards(n, p, seed=2, drop_last=True)
    assert {len(s) for s in parts} == {n // p}
    flat = np.concatenate(parts)
    assert len(set(flat.tolist())) == len(flat) == n - n % p  # disjoint


def test_without_padding_shards_are_disjoint_and_uneven():
    parts = shards(10, 4, shuffle=False, pad=False)
    assert [len(s) for s in parts] == [3, 3, 2, 2]
    assert [len(DistributedSampler(10, rank=r, world_size=4, pad=False)) for r in range(4)] \
        == [3, 3, 2, 2]
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))


def test_local_batches_together_are_the_global_batch():
    """Rank-strided shards: local batch j of every rank = global batch j of one process."""
    n, p, global_batch = 48, 4, 12
    ref = DistributedSampler(n, seed=3, rank=0, world_size=1).indices()
    parts = shards(n, p, seed=3)
    local = global_batch // p
    for j in range(n // global_batch):
        together = np.concatenate([s[j * local:(j + 1) * local] for s in parts])
        assert sorted(together.tolist()) == sorted(ref[j * global_batch:(j + 1) *
                                                       global_batch].tolist())


def test_epochs_reshuffle_and_seed_determines_the_order():
    a0, a1 = shards(30, 2, epoch=0, seed=0)[0], shards(30, 2, epoch=1, seed=0)[0]
    assert not np.array_equal(a0, a1)
    assert np.array_equal(a0, shards(30, 2, epoch=0, seed=0)[0])  # deterministic
    assert not np.array_equal(a0, shards(30, 2, epoch=0, seed=1)[0])
    assert np.array_equal(shards(30, 2, shuffle=False)[1], np.arange(1, 30, 2))


def test_the_order_does_not_depend_on_the_number_of_ranks():
    g1 = DistributedSampler(24, seed=9, rank=0, world_size=1).global_indices()
    g3 = DistributedSampler(24, seed=9, rank=2, world_size=3).global_indices()
    assert np.array_equal(g1, g3)


def test_state_dict_round_trip():
    s = DistributedSampler(50, seed=4, rank=1, world_size=2)
    s.set_epoch(3)
    state = s.state_dict()
    assert state == {"seed": 4, "epoch": 3}
    t = DistributedSampler(50, seed=0, rank=0, world_size=5)
    t.load_state_dict(state)
    assert np.array_equal(t.global_indices(), s.global_indices())


def test_with_a_dataloader_the_loader_sets_the_epoch():
    ds = TensorDataset(np.arange(12, dtype=np.float32))
    s = DistributedSampler(ds, seed=0, rank=1, world_size=2)
    loader = DataLoader(ds, batch_size=3, sampler=s)
    assert len(loader) == 2
    e0 = np.concatenate([b.numpy() for (b,) in loader])
    e1 = np.concatenate([b.numpy() for (b,) in loader])
    assert s.epoch == 1 and not np.array_equal(e0, e1)
    assert np.array_equal(e0, shards(12, 2, epoch=0, seed=0)[1])


def test_bad_arguments():
    with pytest.raises(ValueError, match="rank"):
        DistributedSampler(10, rank=2, world_size=2)
    with pytest.raises(TypeError, match="seed"):
        DistributedSampler(10, seed=1.5, rank=0, world_size=1)
    with pytest.raises(ValueError, match="empty"):
        DistributedSampler(2, drop_last=True, rank=0, world_size=3)


@pytest.mark.skipif(launched_by_mpi(), reason="pytest itself runs under an MPI launcher")
def test_defaults_to_this_process_without_mpi():
    s = DistributedSampler(10)
    assert (s.rank, s.world_size) == (0, 1)
