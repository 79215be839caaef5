"""DataLoader.state_dict / load_state_dict: resuming gives exactly the batches a run would see."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradkit.data import DataLoader, TensorDataset


def _make(seed=0, **kw):
    ds = TensorDataset(np.arange(50))
    return DataLoader(ds, batch_size=8, shuffle=True, seed=seed, **kw)


def _epoch(loader):
    return [b.numpy().tolist() for (b,) in loader]


def test_round_trip_between_epochs_reproduces_the_next_epoch():
    loader = _make()
    _epoch(loader)
    _epoch(loader)
    state = json.loads(json.dumps(loader.state_dict()))  # JSON-able, for checkpoints
    assert state["epoch"] == 2 and state["batches_done"] == 0
    expected = [_epoch(loader), _epoch(loader)]

    fresh = _make(seed=123)  # a different seed: everything comes from the state
    fresh.load_state_dict(state)
    assert fresh.epoch == 2
    assert [_epoch(fresh), _epoch(fresh)] == expected


def test_round_trip_mid_epoch_resumes_at_the_next_batch():
    loader = _make()
    _epoch(loader)
    it = iter(loader)
    seen = [next(it)[0].numpy().tolist() for _ in range(3)]
    state = loader.state_dict()
    assert (state["epoch"], state["batches_done"]) == (1, 3)
    rest = [b.numpy().tolist() for (b,) in it]
    after = _epoch(loader)

    fresh = _make(seed=5)
    fresh.load_state_dict(state)
    assert _epoch(fresh) == rest
    assert _epoch(fresh) == after
    assert sorted(sum(seen + rest, [])) == list(range(50))


def test_state_after_the_last_batch_points_at_the_next_epoch():
    loader = _make()
    for i, _ in enumerate(loader):
        if i == len(loader) - 1:
            state = loader.state_dict()  # inside the loop, after the last batch
    assert (state["epoch"], state["batches_done"]) == (1, 0)
    expected = _epoch(loader)
    fresh = _make(seed=9)
    fresh.load_state_dict(state)
    assert _epoch(fresh) == expected


def test_sequential_loader_state():
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=3)
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    fresh = DataLoader(TensorDataset(np.arange(10)), batch_size=3)
    fresh.load_state_dict(state)
    assert _epoch(fresh) == [[3, 4, 5], [6, 7, 8], [9]]
    assert len(_epoch(fresh)) == 4


def test_custom_sampler_without_state():
    loader = DataLoader(TensorDataset(np.arange(6)), batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert loader.state_dict()["sampler"] is None
    _epoch(loader)
    state = loader.state_dict()
    plain = DataLoader(TensorDataset(np.arange(6)), batch_size=2, sampler=[0, 1])
    plain.load_state_dict(state)
    assert plain.epoch == 1
    with pytest.raises(TypeError, match="no load_state_dict"):
        plain.load_state_dict(_make().state_dict())


def test_state_dict_right_after_load_keeps_the_position():
    import numpy as np

    from gradkit.data import DataLoader, TensorDataset

    ds = TensorDataset(np.arange(20, dtype=np.float32))
    a = DataLoader(ds, batch_size=4, shuffle=True, seed=1)
    it = iter(a)
    next(it), next(it)
    saved = a.state_dict()
    b = DataLoader(ds, batch_size=4, shuffle=True, seed=99)
    b.load_state_dict(saved)
    assert b.state_dict() == saved
    c = DataLoader(ds, batch_size=4, shuffle=True, seed=7)
    c.load_state_dict(b.state_dict())
    rest_a = [x.numpy().tolist() for (x,) in it]
    rest_c = [x.numpy().tolist() for (x,) in c]
    assert rest_a == rest_c
