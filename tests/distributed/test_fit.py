"""fit(distributed=...) in one process, with a fake 2-rank communicator (no MPI): which
callbacks run, what is printed, how batches are split, when ranks must agree."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import distributed as dist
from gradkit import nn
from gradkit.callbacks import Callback, CSVLogger
from gradkit.data import DataLoader, TensorDataset

from .test_parallel import FakeComm


@pytest.fixture(autouse=True)
def _fresh():
    dist.reset()
    yield
    dist.reset()


def make(n=40):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    y = rng.integers(0, 3, n)
    gk.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    model.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])
    return model, x, y


class Sizes(Callback):
    def __init__(self):
        super().__init__()
        self.sizes = []

    def on_batch_end(self, batch, logs=None):
        self.sizes.append(logs["size"])


def run(rank, tmp_path, capsys, callbacks=(), **kw):
    model, x, y = make()
    comm = FakeComm(size=2, rank=rank)
    dp = dist.DataParallel(model, comm=comm, broadcast=False)
    csv = tmp_path / f"log{rank}.csv"
    history = model.fit(x, y, epochs=2, batch_size=8, distributed=dp, verbose=2,
                        callbacks=[CSVLogger(str(csv)), *callbacks], **kw)
    return history, comm, csv, capsys.readouterr().out


def test_rank_0_prints_and_writes(tmp_path, capsys):
    history, comm, csv, out = run(0, tmp_path, capsys)
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert csv.exists()
    assert len(history.history["loss"]) == 2


def test_other_ranks_are_silent_and_write_nothing(tmp_path, capsys):
    sizes = Sizes()
    history, comm, csv, out = run(1, tmp_path, capsys, callbacks=[sizes])
    assert out == "" and not csv.exists()
    assert len(history.history["loss"]) == 2  # History still runs everywhere
    assert set(sizes.sizes) == {4}  # the global batch 8 split over 2 ranks
    assert len(sizes.sizes) == 2 * 5  # 40 samples / 2 ranks / 4 per step, 2 epochs


def test_collectives_per_step(tmp_path, capsys):
    _, comm, _, _ = run(1, tmp_path, capsys)
    grads = [c for c in comm.calls if c[0] == "allreduce" and c[1] > 4]
    assert len(grads) == 10  # one gradient Allreduce per step
    small = [c for c in comm.calls if c[0] == "allreduce" and c[1] <= 4]
    assert len(small) == 2 * 2  # per epoch: the logs' means and the stop agreement


def test_batch_callbacks_make_ranks_agree_on_stopping(tmp_path, capsys):
    class StopAtBatch2(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    sizes = Sizes()
    _, comm, _, _ = run(1, tmp_path, capsys, callbacks=[StopAtBatch2(), sizes])
    assert len(sizes.sizes) == 3  # stopped after the third step of the first epoch
    flags = [c for c in comm.calls if c[0] == "allreduce" and c[1] == 1]
    assert len(flags) == 3 + 1  # one agreement per step, one at the epoch's end


def test_validation_is_split_without_padding(tmp_path, capsys):
    history, _, _, _ = run(1, tmp_path, capsys, validation_split=0.25)
    assert len(history.history["val_loss"]) == 2


def test_a_loader_with_a_custom_sampler_is_refused():
    model, x, y = make()

    class Custom:
        def __iter__(self):
            return iter(range(0, 40, 2))

        def __len__(self):
            return 20

    loader = DataLoader(TensorDataset(x, y), batch_size=8, sampler=Custom())
    dp = dist.DataParallel(model, comm=FakeComm(), broadcast=False)
    with pytest.raises(ValueError, match="DistributedSampler"):
        model.fit(loader, distributed=dp, verbose=0)


def test_a_batch_smaller_than_the_ranks_is_refused():
    model, x, y = make()
    dp = dist.DataParallel(model, comm=FakeComm(size=4), broadcast=False)
    with pytest.raises(ValueError, match="smaller than the 4 ranks"):
        model.fit(x, y, batch_size=2, distributed=dp, verbose=0)


def test_a_wrapper_of_another_model_is_refused():
    model, x, y = make()
    other, _, _ = make()
    dp = dist.DataParallel(other, comm=FakeComm(), broadcast=False)
    with pytest.raises(ValueError, match="different model"):
        model.fit(x, y, distributed=dp, verbose=0)


def test_uneven_global_batch_warns(tmp_path):
    model, x, y = make()
    dp = dist.DataParallel(model, comm=FakeComm(size=2), broadcast=False)
    with pytest.warns(UserWarning, match="not a multiple"):
        model.fit(x, y, batch_size=9, distributed=dp, verbose=0)


def test_world_of_one_follows_the_sharded_order():
    """distributed with 1 rank = a plain fit over DistributedSampler(world_size=1)'s order."""
    model, x, y = make()
    gk.manual_seed(3)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              distributed=dist.DataParallel(model, comm=dist.SelfCommunicator()))
    ref, _, _ = make()
    gk.manual_seed(3)
    loader = DataLoader(TensorDataset(x, y), batch_size=8,
                        sampler=dist.DistributedSampler(40, seed=3, rank=0, world_size=1))
    ref.fit(loader, epochs=2, verbose=0)
    for a, b in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
