"""Hostile files (as an attacker or a bit flip would write them): every size, dtype and
counter is refused with a FormatError naming it, before anything is allocated or changed."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.data import DataLoader, TensorDataset
from gradkit.io import ConfigError, FormatError, read_safetensors, write_safetensors
from gradkit.io.safe import MAX_NDIM
from gradkit.io.serialize import MODEL, header
from gradkit.optim.lr_scheduler import StepLR

from .helpers import assert_same_state, randomize

MB = 2**20


def craft(path, entries: dict, body: bytes = b"") -> None:
    raw = json.dumps(entries).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + body)


def peak_bytes(fn) -> tuple[BaseException | None, int]:
    """(what `fn` raised, the most memory it held at once)."""
    tracemalloc.start()
    try:
        fn()
        error = None
    except Exception as exc:
        error = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return error, peak


# ---- safetensors headers ---------------------------------------------------------------------
def entry(shape, dtype="F32", offsets=(0, 0)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


HEADERS = [
    ("an empty tensor too large to describe", {"a": entry([0, 2**70])},
     "larger than any array can be"),
    ("an empty tensor whose size overflows", {"a": entry([0, 2**62, 2**62])},
     "larger than any array can be"),
    ("more dimensions than NumPy holds", {"a": entry([1] * 100, offsets=(0, 4))},
     f"100 dimensions, more than the {MAX_NDIM}"),
    ("empty, with 40 dimensions", {"a": entry([0] * 40)}, "40 dimensions"),
    ("a negative size", {"a": entry([-4, 2], offsets=(0, 4))}, "integers >= 0"),
    ("offsets outside the file", {"a": entry([2**40], offsets=(0, 2**42))}, "runs past the end"),
    ("a dtype outside the list", {"a": entry([1], dtype="V1000000000", offsets=(0, 4))},
     "which gradkit does not read"),
    ("more bytes than the data", {"a": entry([2**30], offsets=(0, 4))}, "needs 4294967296 bytes"),
]


@pytest.mark.parametrize("entries, message", [c[1:] for c in HEADERS],
                         ids=[c[0] for c in HEADERS])
def test_hostile_headers_are_refused_before_any_allocation(tmp_path, entries, message):
    path = tmp_path / "hostile.safetensors"
    craft(path, entries, b"\0" * 4 if any(e["data_offsets"][1] for e in entries.values())
          else b"")
    error, peak = peak_bytes(lambda: read_safetensors(path))
    assert isinstance(error, FormatError), error
    assert message in str(error) and str(path) in str(error)
    assert peak < MB  # nothing the file asked for was allocated
    with pytest.raises(FormatError):
        nn.Linear(1, 4).load_weights(path)


def test_reading_never_holds_much_more_than_the_file(tmp_path):
    path = tmp_path / "big.safetensors"
    write_safetensors(path, {"w": np.ones((256, 256), np.float32),
                             "e": np.zeros((0, 10**6), np.float32)})
    size = path.stat().st_size
    error, peak = peak_bytes(lambda: read_safetensors(path))
    assert error is None and peak < size + MB


# ---- checkpoint fields -------------------------------------------------------------------
X = np.random.default_rng(0).standard_normal((40, 4)).astype(np.float32)
Y = np.random.default_rng(1).integers(0, 3, 40)


def trained(tmp_path):
    """A checkpoint after 7 Adam steps (one epoch of 5 batches, then 2 more), and fresh
    objects to load it into."""
    gk.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = StepLR(opt, step_size=2)
    loader = DataLoader(TensorDataset(X, Y), batch_size=8, shuffle=True)
    steps = 0
    for _ in range(2):
        for xb, yb in loader:
            opt.zero_grad()
            nn.CrossEntropyLoss()(model(xb), yb).backward()
            opt.step()
            steps += 1
            if steps == 7:  # 2 batches into the second epoch
                break
    path = gk.save_checkpoint(tmp_path / "ck.safetensors", model, opt, epoch=1,
                              scheduler=sched, loader=loader)
    fresh = randomize(nn.Linear(4, 3), seed=5)
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.01)
    fresh_loader = DataLoader(TensorDataset(X, Y), batch_size=8, shuffle=True)
    return path, fresh, fresh_opt, StepLR(fresh_opt, step_size=2), fresh_loader


def rewrite(path, change) -> None:
    """Edit the checkpoint's JSON state in place (`change(state)` mutates it)."""
    tensors, metadata = read_safetensors(path)
    state = json.loads(metadata["state"])
    change(state)
    write_safetensors(path, tensors, {**metadata, "state": json.dumps(state)})


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(state):
        node = state
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return change


def _step(value):
    def change(state):
        pairs = state["optimizer"]["state"]["state"]["__dict__"]
        pairs[0][1]["step"] = value

    return change


FIELDS = [
    ("epoch three", _set("epoch", "three"), "field epoch must be an integer >= 0"),
    ("epoch -1", _set("epoch", -1), "field epoch must be an integer >= 0, got -1"),
    ("epoch True", _set("epoch", True), "field epoch must be an integer"),
    ("optimizer step -3", _step(-3), "optimizer.state.0.step must be an integer >= 0, got -3"),
    ("optimizer step 2.5", _step(2.5), "optimizer.state.0.step must be an integer"),
    ("batches_done 1e9", _set("loader", "batches_done", 1e9),
     "loader.batches_done must be an integer"),
    ("batches_done 10**9", _set("loader", "batches_done", 10**9),
     "loader.batches_done is 1000000000, but the DataLoader given has 5 batches"),
    ("batches_done -1", _set("loader", "batches_done", -1), "loader.batches_done must be"),
    ("loader epoch", _set("loader", "epoch", "x"), "loader.epoch must be an integer"),
    ("scheduler last_epoch", _set("scheduler", "state", "last_epoch", -5),
     "scheduler.last_epoch must be an integer >= -1"),
]


@pytest.mark.parametrize("change, message", [c[1:] for c in FIELDS], ids=[c[0] for c in FIELDS])
def test_checkpoint_fields_no_run_could_write_are_refused(tmp_path, change, message):
    path, model, opt, sched, loader = trained(tmp_path)
    rewrite(path, change)
    before = model.state_dict()
    with pytest.raises(FormatError, match=message) as info:
        gk.load_checkpoint(path, model, opt, scheduler=sched, loader=loader)
    assert str(path) in str(info.value)
    for k, v in model.state_dict().items():  # nothing was changed
        np.testing.assert_array_equal(v, before[k])
    assert opt.state == {} and loader.state_dict()["batches_done"] == 0


def test_a_sound_checkpoint_still_loads(tmp_path):
    path, model, opt, sched, loader = trained(tmp_path)
    info = gk.load_checkpoint(path, model, opt, scheduler=sched, loader=loader)
    assert info["epoch"] == 1 and loader.state_dict()["batches_done"] == 2
    assert [s["step"] for s in opt.state.values()] == [7, 7]
    again = nn.Linear(4, 3)
    gk.load_checkpoint(path, again)
    assert_same_state(model, again)


@pytest.mark.parametrize("value, message", [
    ({"__scalar__": "V1000000000", "value": 1}, "invalid scalar"),
    ({"__scalar__": "<f8", "value": [1.0] * 1000}, "invalid scalar"),
    ({"__scalar__": "(1000,1000)f8", "value": 1.0}, "invalid scalar"),
    ({"__scalar__": ["f8"], "value": 1.0}, "invalid scalar"),
    (json.loads("[" * 600 + "]" * 600), "nested too deeply"),
])
def test_hostile_values_in_the_state_are_refused(tmp_path, value, message):
    path, model, *_ = trained(tmp_path)
    rewrite(path, _set("extra", {"v": value}))
    with pytest.raises(FormatError, match=message):
        gk.load_checkpoint(path, model)


# ---- architecture sizes (gradkit/io/config.py: its guard counts signed values) -------------
def _linear(i, o, **kw):
    return {"class": "Linear", "config": {"in_features": i, "out_features": o, "bias": False,
                                          **kw}}


ARCHITECTURES = [
    ("a negative size cancels a large one",
     {"class": "Sequential", "children": [["0", _linear(1000, 3000)],
                                          ["1", _linear(-1, 3_000_000 - 1)]]}),
    ("a dtype of 10 MB per value", {"class": "Sequential",
                                    "children": [["0", _linear(1, 1, dtype="V10000000")]]}),
]


@pytest.mark.parametrize("arch", [c[1] for c in ARCHITECTURES], ids=[c[0] for c in ARCHITECTURES])
def test_an_architecture_cannot_ask_for_more_than_the_file_holds(tmp_path, arch):
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {"0.weight": np.zeros((1, 1), np.float32)},
                      header(MODEL, architecture=json.dumps({"model": arch,
                                                             "training": False})))
    error, peak = peak_bytes(lambda: gk.load(path))
    assert isinstance(error, ConfigError), error
    assert peak < MB, f"{peak / MB:.0f} MB allocated for a {path.stat().st_size}-byte file"
