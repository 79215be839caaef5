"""Gradient buckets, DataParallel and the reductions, against fake communicators (no MPI)."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import distributed as dist
from gradkit import nn
from gradkit.distributed import Communicator, DataParallel, make_buckets


class FakeComm(Communicator):
    """Rank `rank` of `size`; the other ranks' buffers come from `peers(call, buf)` (default:
    the same values as this rank). Records every collective."""

    def __init__(self, size=2, rank=0, peers=None, root_values=None):
        self.rank, self.size = rank, size
        self.peers, self.root_values = peers, root_values
        self.calls = []

    def allreduce_(self, buf, op="sum"):
        self.calls.append(("allreduce", buf.size, buf.dtype))
        others = self.peers(len(self.calls) - 1, buf) if self.peers else [buf.copy()] * (
            self.size - 1)
        for o in others:
            buf += o
        return buf

    def broadcast_(self, buf, root=0):
        self.calls.append(("broadcast", buf.size, buf.dtype))
        if self.root_values is not None and self.rank != root:
            buf[...] = self.root_values.pop(0)
        return buf

    def broadcast_object(self, obj, root=0):
        return obj

    def allgather_object(self, obj):
        return [obj] * self.size


class Net(nn.Module):
    def __init__(self, sizes=(6, 32, 32, 3)):
        super().__init__()
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(a, b), nn.Tanh()]
        self.body = nn.Sequential(*layers[:-1])
        self.side = nn.Linear(6, 3)  # used only when asked: its grad may be None

    def forward(self, x, side=False):
        out = self.body(x)
        return out + self.side(x) if side else out


def backward(model, seed=0, side=False):
    rng = np.random.default_rng(seed)
    x = gk.tensor(rng.standard_normal((8, 6)).astype(np.float32))
    y = gk.tensor(rng.integers(0, 3, 8))
    model.zero_grad()
    nn.CrossEntropyLoss()(model(x, side=side), y).backward()


def grads(model):
    return {k: None if p.grad is None else p.grad.numpy().copy()
            for k, p in model.named_parameters()}


def test_one_allreduce_per_step_for_a_small_model():
    model = Net()
    comm = FakeComm()
    dp = DataParallel(model, comm=comm, broadcast=False)
    for step in range(3):
        backward(model, seed=step)
        before = grads(model)
        dp.sync_gradients()
        after = grads(model)
        for k in before:  # identical peers: the mean is this rank's gradient
            if before[k] is None:
                assert after[k] is None
            else:
                np.testing.assert_array_equal(after[k], before[k])
    reduces = [c for c in comm.calls if c[0] == "allreduce"]
    assert len(reduces) == 3  # one call per step, not one per parameter (8 parameters)
    n = sum(p.size for p in model.parameters())
    assert reduces[0][1] == n + len(list(model.parameters()))  # + one presence flag each
    assert reduces[0][2] == np.float32
    assert dp.stats["allreduce_calls"] == 3 and dp.stats["syncs"] == 3


def test_buffers_are_preallocated_and_reused():
    model = Net()
    dp = DataParallel(model, comm=FakeComm(), broadcast=False)
    backward(model)
    dp.sync_gradients()
    first = [id(b.buffer) for b in dp.buckets()]
    backward(model, seed=1)
    dp.sync_gradients()
    assert [id(b.buffer) for b in dp.buckets()] == first


def test_small_buckets_make_a_few_calls():
    model = Net(sizes=(6, 64, 64, 3))
    sizes = [p.size * 4 for p in model.parameters()]
    cap_mb = max(sizes) / 2**20  # each bucket holds at most about the largest parameter
    buckets = make_buckets(model.parameters(), bucket_mb=cap_mb)
    assert 1 < len(buckets) < len(sizes)
    assert sum(len(b.params) for b in buckets) == len(sizes)
    comm = FakeComm()
    dp = DataParallel(model, comm=comm, broadcast=False, bucket_mb=cap_mb)
    backward(model)
    dp.sync_gradients()
    assert len(comm.calls) == len(buckets)


def test_mean_of_two_ranks_and_grads_that_are_none_on_one_rank():
    """This rank's side branch gets no gradient; the peer's does: the mean is peer / 2."""
    gk.manual_seed(0)
    mine, peer = Net(), Net()
    peer.load_state_dict(mine.state_dict())
    backward(peer, seed=1, side=True)
    peer_buckets = make_buckets(p for p in peer.parameters())
    for b in peer_buckets:
        b.pack()
    comm = FakeComm(peers=lambda call, buf: [peer_buckets[call].buffer])
    dp = DataParallel(mine, comm=comm, broadcast=False)
    backward(mine, seed=2, side=False)
    expected_mine, expected_peer = grads(mine), grads(peer)
    assert expected_mine["side.weight"] is None
    dp.sync_gradients()
    got = grads(mine)
    for k, g in got.items():
        want = expected_peer[k] / 2 if expected_mine[k] is None else \
            (expected_mine[k] + expected_peer[k]) / 2
        np.testing.assert_allclose(g, want, rtol=1e-6)


def test_a_grad_none_on_every_rank_stays_none_and_the_optimizer_skips_it():
    model = Net()
    dp = DataParallel(model, comm=FakeComm(), broadcast=False)
    backward(model)
    dp.sync_gradients()
    assert model.side.weight.grad is None and model.body[0].weight.grad is not None


def test_world_size_one_makes_no_calls():
    model = Net()
    dp = DataParallel(model, comm=dist.SelfCommunicator())
    backward(model)
    before = grads(model)
    dp.sync_gradients()
    assert dp.stats["allreduce_calls"] == 0
    np.testing.assert_array_equal(grads(model)["body.0.weight"], before["body.0.weight"])


def test_broadcast_parameters_overwrites_in_place_with_one_call_per_dtype():
    gk.manual_seed(0)
    root, other = Net(), Net()
    ref = {k: v.copy() for k, v in root.state_dict().items()}
    flat = np.concatenate([p.numpy().reshape(-1) for p in root.parameters()])
    objects = [id(p.data) for p in other.parameters()]
    comm = FakeComm(rank=1, root_values=[flat])
    dist.broadcast_parameters(other, comm=comm)
    assert len(comm.calls) == 1
    for k, v in other.state_dict().items():
        np.testing.assert_array_equal(v, ref[k])
    assert [id(p.data) for p in other.parameters()] == objects  # in place


def test_data_parallel_delegates_to_the_model():
    model = Net()
    dp = DataParallel(model, comm=FakeComm(), broadcast=False)
    assert list(dp.parameters()) == list(model.parameters())
    assert dp.state_dict().keys() == model.state_dict().keys()  # no "module." prefix
    dp.eval()
    assert not model.training
    x = gk.tensor(np.ones((2, 6), np.float32))
    np.testing.assert_array_equal(dp(x).numpy(), model(x).numpy())
    assert "rank=0" in repr(dp)


def test_allreduce_mean_of_numbers_arrays_and_dicts():
    comm = FakeComm(peers=lambda call, buf: [np.array([3.0, 5.0, 1.0])])
    # this rank: loss 1.0 over 1 sample; the peer: 3.0 and 5.0 over 1 sample -> weighted means
    out = dist.allreduce_mean({"loss": 1.0, "acc": gk.tensor(0.5)}, weight=1, comm=comm)
    assert out == {"loss": 2.0, "acc": 2.75}
    comm = FakeComm(size=2)
    assert dist.allreduce_mean(4.0, comm=comm) == 4.0
    np.testing.assert_array_equal(dist.allreduce_mean(np.array([1.0, 2.0]), comm=comm),
                                  [1.0, 2.0])
    assert dist.allreduce_sum(3, comm=comm) == 6.0
    assert dist.allreduce_sum({"n": 2}, comm=comm) == {"n": 4.0}
    assert len(comm.calls) == 4  # one call each


def test_weighted_mean_uses_sample_counts():
    # this rank: mean 1.0 over 3 samples; peer: mean 3.0 over 1 sample -> 6/4
    comm = FakeComm(peers=lambda call, buf: [np.array([3.0, 1.0])])
    assert dist.allreduce_mean({"loss": 1.0}, weight=3, comm=comm) == {"loss": 1.5}


def test_parameters_in_sync_compares_checksums():
    model = Net()
    assert dist.parameters_in_sync(model, comm=FakeComm())

    class Differs(FakeComm):
        def allgather_object(self, obj):
            return [obj, "something else"]

    assert not dist.parameters_in_sync(model, comm=Differs())


def test_buckets_rebuild_when_parameters_change():
    model = Net()
    dp = DataParallel(model, comm=FakeComm(), broadcast=False)
    first = dp.buckets()
    assert dp.buckets() is first
    model.extra = nn.Parameter(gk.zeros(3))
    assert dp.buckets() is not first
    assert sum(len(b.params) for b in dp.buckets()) == len(list(model.parameters()))


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_other_float_dtypes_are_reduced(dtype):
    model = Net().to(dtype=dtype)
    comm = FakeComm()
    dp = DataParallel(model, comm=comm, broadcast=False)
    p = model.body[0].weight
    p.grad = gk.tensor(np.ones(p.shape, dtype=dtype), dtype=dtype)
    dp.sync_gradients()
    assert p.grad.dtype == dtype
    assert comm.calls[0][2] == (np.float64 if dtype == "float64" else np.float32)
    np.testing.assert_array_equal(p.grad.numpy(), np.ones(p.shape))
