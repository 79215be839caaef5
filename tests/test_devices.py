"""gradkit on each device (tests/devices.py): moves, modules, optimizers, fit, saving, loaders,
random state, device errors, and that importing gradkit never needs CuPy.

Every test taking `device` runs on "cpu" here and again on "cuda" where CuPy sees a GPU
(`pytest tests -k cuda` there); those needing two devices are GPU-only.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import textwrap
import types
import warnings

import gradkit.random as gkrandom
import numpy as np
import pytest

import gradkit as gk
import gradkit.backend.devices as backend
from gradkit import nn, optim
from gradkit.data import DataLoader, TensorDataset
from gradkit.errors import DeviceError

from .devices import CUDA, NO_CUDA, needs_cuda

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 6)).astype(np.float32)
Y = ((X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)).astype(np.int64)

OPTIMIZERS = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 1e-3}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.1}),
]


def _mlp(dropout: float = 0.0) -> nn.Module:
    gk.manual_seed(0)
    layers = [nn.Linear(6, 16), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(16, 3))


def _twin(model: nn.Module, device: str) -> nn.Module:
    """A copy of `model` (same weights) on `device`."""
    other = _mlp()
    other.load_state_dict(model.state_dict())
    return other.to(device)


def _kind(t) -> str:
    return t.device.split(":")[0]


def _train(model, opt, steps: int, device: str):
    xb, yb = gk.tensor(X, device=device), gk.tensor(Y, device=device)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


# ---- importing, availability ------------------------------------------------------------------


def test_importing_and_using_gradkit_on_the_cpu_never_imports_cupy():
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import gradkit as gk
        import gradkit.backend.devices as backend
        import gradkit.random as gkrandom
        m = gk.nn.Sequential(gk.nn.Linear(3, 4), gk.nn.ReLU(), gk.nn.Dropout(0.2),
                             gk.nn.Linear(4, 2))
        m.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
        m.fit(np.ones((8, 3), np.float32), np.zeros(8, np.int64), epochs=1, verbose=0)
        m.predict(np.ones((2, 3), np.float32))
        gkrandom.set_rng_state(gkrandom.get_rng_state())
        gk.tensor([1.0]).to("cpu").numpy()
        assert backend.xp_of(3.0) is np and backend.device_name([1]) == "cpu"
        backend.to_numpy([1, 2])
        gk.cuda.synchronize() if not gk.cuda.is_available() else None
        loaded = [name for name in sys.modules if name.split(".")[0] in ("cupy", "cupyx")]
        print(loaded)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    # without a GPU nothing may have imported CuPy; with one, only gk.cuda.is_available() may
    assert out.stdout.strip() == "[]" or CUDA, out.stdout


@pytest.mark.skipif(CUDA, reason="checks the behaviour without a GPU")
def test_without_a_gpu_cuda_queries_answer_and_cuda_devices_are_refused():
    assert gk.cuda.is_available() is False
    assert gk.cuda.device_count() == 0
    gk.cuda.synchronize()  # a no-op
    assert gk.cuda.fits_in_memory(1) is False
    for make in (lambda: gk.zeros(2, device="cuda"), lambda: gk.tensor([1.0], device="cuda:0"),
                 lambda: gk.tensor([1.0]).to("cuda")):
        with pytest.raises(DeviceError, match="cuda"):
            make()
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        gk.cuda.current_device()


@needs_cuda
def test_cuda_queries_on_a_gpu():  # pragma: no cover - needs a GPU
    assert gk.cuda.is_available() is True and gk.cuda.device_count() >= 1
    assert gk.cuda.current_device() == 0
    free, total = gk.cuda.memory_info()
    assert 0 < free <= total
    assert gk.cuda.fits_in_memory(1024) and not gk.cuda.fits_in_memory(total)
    with gk.cuda.device(0):
        gk.cuda.synchronize()
    with pytest.raises(DeviceError, match="does not exist"):
        gk.zeros(2, device=f"cuda:{gk.cuda.device_count()}")


def test_host_values_stay_numpy():
    assert backend.xp_of(3.0) is np and backend.xp_of([1, 2]) is np
    assert backend.xp_of(np.float32(1)) is np and backend.xp_of(np.zeros(2)) is np
    assert backend.device_name(np.float32(1)) == "cpu" and backend.device_name(2) == "cpu"
    assert isinstance(backend.to_numpy([1, 2]), np.ndarray)
    assert not backend.is_gpu_array(np.zeros(2)) and not backend.is_gpu_array([1])


# ---- tensors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [X[:3], Y[:5], Y[:5] > 0, 2.5], ids=["f32", "i64", "bool", "s"])
def test_tensor_to_round_trip(device, data):
    t = gk.tensor(data)
    u = t.to(device)
    assert _kind(u) == device and u.dtype == t.dtype and u.shape == t.shape
    np.testing.assert_array_equal(u.numpy(), t.numpy())
    back = u.to("cpu")
    assert back.device == "cpu" and isinstance(back.data, np.ndarray)
    np.testing.assert_array_equal(back.numpy(), t.numpy())
    assert u.to(device) is u  # already there: no move, no copy
    assert _kind(gk.tensor(data, device=device)) == device


def test_gradient_flows_back_through_a_move(device):
    x = gk.tensor(X[:4], requires_grad=True)
    y = (x.to(device) * 3.0).sum()
    assert _kind(y) == device
    y.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), np.full(X[:4].shape, 3.0, np.float32))


def test_creation_and_random_on_device(device):
    for t in (gk.zeros(2, 3, device=device), gk.ones(4, device=device),
              gk.full((2,), 7, device=device), gk.arange(5, device=device),
              gk.eye(3, device=device), gk.randn(3, 4, device=device),
              gk.rand(5, device=device), gk.randint(0, 9, size=(4,), device=device)):
        assert _kind(t) == device
    assert gk.randn(2, device=device).dtype == np.float32
    gk.manual_seed(5)
    a = gk.randn(8, device=device).numpy()
    gk.manual_seed(5)
    np.testing.assert_array_equal(gk.randn(8, device=device).numpy(), a)


@needs_cuda
def test_mixing_devices_raises_an_error_naming_both():  # pragma: no cover - needs a GPU
    a, b = gk.tensor(X[:2]), gk.tensor(X[:2], device="cuda")
    for op in (lambda: a + b, lambda: b * a, lambda: a @ b.T, lambda: gk.maximum(a, b),
               lambda: gk.concatenate([a, b]), lambda: gk.stack([b, a]),
               lambda: gk.where(a > 0, b, b), lambda: gk.einsum("ij,ij->i", a, b)):
        with pytest.raises(DeviceError) as info:
            op()
        assert "cpu" in str(info.value) and "cuda:0" in str(info.value), str(info.value)
    with pytest.raises(DeviceError, match="cuda:0"):
        a[gk.tensor([0, 1], device="cuda")]
    np.testing.assert_array_equal(b[gk.tensor([1, 0])].numpy(), X[[1, 0]])  # CPU index: fine
    layer = nn.Linear(6, 2).to("cuda")
    with pytest.raises(DeviceError, match="Linear") as info:
        layer(a)
    assert "cpu" in str(info.value) and "cuda:0" in str(info.value)


@pytest.mark.skipif(not CUDA or gk.cuda.device_count() < 2, reason=NO_CUDA + " (needs 2 GPUs)")
def test_moves_between_gpus():  # pragma: no cover - needs two GPUs
    a = gk.tensor(X[:3], device="cuda:0")
    b = a.to("cuda:1")
    assert b.device == "cuda:1" and b.data.device.id == 1
    np.testing.assert_array_equal(b.numpy(), X[:3])
    with pytest.raises(DeviceError):
        a + b


# ---- modules and optimizers -------------------------------------------------------------------


def test_module_to_keeps_parameters_and_state_dict_is_host_arrays(device):
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    params = list(model.parameters())
    model(gk.tensor(X)).sum().backward()
    assert model.to(device) is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert all(_kind(t) == device for t in [*model.parameters(), *model.buffers()])
    assert all(_kind(p.grad) == device for p in model.parameters())
    state = model.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    fresh = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    fresh.to(device).load_state_dict(state)
    assert all(_kind(t) == device for t in [*fresh.parameters(), *fresh.buffers()])
    model.eval()
    fresh.eval()
    xb = gk.tensor(X, device=device)
    np.testing.assert_array_equal(fresh(xb).numpy(), model(xb).numpy())
    model.train()
    model(xb)  # BatchNorm's running stats update in place on the device
    assert _kind(model[1].running_mean) == device and int(model[1].num_batches_tracked) == 2


@pytest.mark.parametrize("name, kw", OPTIMIZERS, ids=[f"{n}{i}" for i, (n, _) in
                                                     enumerate(OPTIMIZERS)])
def test_optimizers_train_on_device_like_on_the_cpu(device, name, kw):
    ref = _mlp()
    model = _twin(ref, device)
    ref_opt = getattr(optim, name)(ref.parameters(), **kw)
    opt = getattr(optim, name)(model.parameters(), **kw)
    want = _train(ref, ref_opt, 5, "cpu")
    got = _train(model, opt, 5, device)
    assert got[-1] < got[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    for (n, p), q in zip(model.named_parameters(), ref.parameters()):
        assert _kind(p) == device, n  # (adaptive steps of near-zero gradients: loose atol)
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-3, atol=1e-4, err_msg=n)
    for st in opt.state.values():  # the buffers were made on the parameters' device
        for key, value in st.items():
            if key != "step":
                assert backend.device_name(value).split(":")[0] == device, key
    saved = opt.state_dict()  # host copies, loadable into an optimizer on any device
    assert all(isinstance(v, (np.ndarray, int)) for st in saved["state"].values()
               for v in st.values())
    ref_opt.load_state_dict(saved)
    for st in ref_opt.state.values():
        assert all(isinstance(v, (np.ndarray, int)) for v in st.values())


# ---- fit, saving, loaders ---------------------------------------------------------------------


def test_fit_evaluate_predict_use_the_models_device(device):
    ref = _mlp()
    model = _twin(ref, device)
    for m in (ref, model):
        m.compile(optimizer=optim.Adam(m.parameters(), lr=0.01), loss="cross_entropy",
                  metrics=["accuracy"])
    gk.manual_seed(1)
    want = ref.fit(X, Y, epochs=3, batch_size=16, validation_split=0.25, verbose=0).history
    gk.manual_seed(1)
    got = model.fit(X, Y, epochs=3, batch_size=16, validation_split=0.25, verbose=0).history
    assert got["loss"][-1] < got["loss"][0]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-6, err_msg=key)
    assert all(_kind(p) == device for p in model.parameters())
    pred = model.predict(X, batch_size=32)
    assert isinstance(pred, np.ndarray) and pred.shape == (64, 3)
    np.testing.assert_allclose(pred, ref.predict(X), rtol=1e-4, atol=1e-5)
    logs = model.evaluate(gk.tensor(X, device=device), gk.tensor(Y, device=device))
    assert all(isinstance(v, float) for v in logs.values())
    loader = DataLoader(TensorDataset(X, Y), batch_size=16, device=device)
    assert model.fit(loader, epochs=1, verbose=0).history["loss"]


@needs_cuda
def test_fit_keeps_host_arrays_on_the_gpu_when_they_fit(monkeypatch):  # pragma: no cover
    from gradkit.train import inputs

    loader = inputs._loader((X, Y), 16, True, "cuda:0")
    assert loader.device is None
    assert all(backend.device_name(a) == "cuda:0" for a in loader.dataset.arrays)
    xb, yb = next(iter(loader))
    assert xb.device == yb.device == "cuda:0"
    monkeypatch.setattr(gk.cuda, "fits_in_memory", lambda *a, **k: False)
    loader = inputs._loader((X, Y), 16, True, "cuda:0")
    assert loader.device == "cuda:0" and isinstance(loader.dataset.arrays[0], np.ndarray)
    assert next(iter(loader))[0].device == "cuda:0"


def test_save_on_device_load_on_the_cpu_and_back(device, tmp_path):
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))
    model(gk.tensor(X))  # running stats that differ from the initial ones
    model.to(device).eval()
    want = model(gk.tensor(X, device=device)).numpy()
    path = gk.save(model, tmp_path / "m.gk")
    loaded = gk.load(path)
    assert all(p.device == "cpu" for p in loaded.parameters())
    np.testing.assert_allclose(loaded(gk.tensor(X)).numpy(), want, rtol=1e-5, atol=1e-6)
    loaded.to(device)
    np.testing.assert_allclose(loaded(gk.tensor(X, device=device)).numpy(), want, rtol=1e-5,
                               atol=1e-6)
    again = gk.load(path, device=device)
    assert all(_kind(p) == device for p in again.parameters())
    model.save_weights(tmp_path / "w.safetensors")
    cpu_twin = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))
    cpu_twin.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_allclose(cpu_twin.eval()(gk.tensor(X)).numpy(), want, rtol=1e-5,
                               atol=1e-6)


def test_checkpoint_resume_on_device_is_exact(device, tmp_path):
    """Adam state, dropout masks (the device's generator) and weights resume exactly."""

    def setup():
        model = _mlp(dropout=0.3).to(device)
        return model, optim.Adam(model.parameters(), lr=0.01)

    model, opt = setup()
    _train(model, opt, 3, device)
    path = gk.save_checkpoint(tmp_path / "c.ckpt", model, opt, epoch=0)
    _train(model, opt, 3, device)
    straight = model.state_dict()

    model, opt = setup()
    gk.manual_seed(123)  # a different random state, which the checkpoint replaces
    gk.load_checkpoint(path, model, opt)
    assert all(_kind(p) == device for p in model.parameters())
    assert all(backend.device_name(v).split(":")[0] == device
               for st in opt.state.values() for k, v in st.items() if k != "step")
    _train(model, opt, 3, device)
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(value, straight[name], rtol=1e-6, atol=1e-7, err_msg=name)


def test_dataloader_moves_each_batch_to_its_device(device):
    loader = DataLoader(TensorDataset(X, Y), batch_size=24, device=device)
    batches = list(loader)
    assert [len(xb) for xb, _ in batches] == [24, 24, 16]
    for i, (xb, yb) in enumerate(batches):
        assert _kind(xb) == _kind(yb) == device
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.numpy(), X[24 * i:24 * (i + 1)])
    resident = DataLoader(TensorDataset(gk.tensor(X, device=device), Y), batch_size=32,
                          shuffle=True, seed=0)
    xb, yb = next(iter(resident))  # device data stays where it is, host data too
    assert _kind(xb) == device and yb.device == "cpu"


def test_shuffled_gpu_batches_are_the_host_order_and_never_wait(device):
    data = TensorDataset(gk.tensor(X, device=device), gk.tensor(Y, device=device))
    loader = DataLoader(data, batch_size=8, shuffle=True, seed=3)
    order = np.concatenate([idx for idx in _orders(loader)])
    it = iter(DataLoader(data, batch_size=8, shuffle=True, seed=3))
    first = [next(it)]  # the epoch's order goes to the device here, once
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cupyx's detector warns that it is experimental
        with _no_sync(device):
            rest = list(it)
    xs = np.concatenate([xb.numpy() for xb, _ in first + rest])
    np.testing.assert_array_equal(xs, X[order])


def _orders(loader):
    """The index batches a loader would gather (from its sampler, on the host)."""
    order = loader._epoch_indices()
    return [order[i:i + loader.batch_size] for i in range(0, len(order), loader.batch_size)]


def _no_sync(device):
    """A context that fails on any host synchronisation with the GPU (nothing on the CPU)."""
    if device == "cpu":
        return contextlib.nullcontext()
    import cupyx  # pragma: no cover - needs a GPU

    return cupyx.allow_synchronize(False)  # pragma: no cover


# ---- random state -----------------------------------------------------------------------------


def test_cpu_random_state_keeps_its_format():
    gk.manual_seed(7)
    gk.randn(3)
    state = gkrandom.get_rng_state()
    assert set(state) == {"seed", "cpu"}
    gkrandom.set_rng_state(state)
    assert gkrandom.get_rng_state() == state


def test_a_saved_gpu_random_state_waits_for_its_gpu(tmp_path):
    """Restoring a GPU snapshot needs no CuPy until that GPU's generator is used; until then
    it is kept, so a CPU-side save of a GPU checkpoint keeps it."""
    model = _mlp()
    snap = {"bit_generator": "XORWOW", "state": np.arange(16, dtype=np.uint8)}
    state = {**gkrandom.get_rng_state(), "cuda": {"0": snap}}
    gkrandom.set_rng_state(state)
    back = gkrandom.get_rng_state()
    assert back["cuda"]["0"]["bit_generator"] == "XORWOW"
    np.testing.assert_array_equal(back["cuda"]["0"]["state"], snap["state"])
    path = gk.save_checkpoint(tmp_path / "c.ckpt", model)
    gk.manual_seed(1)
    assert "cuda" not in gkrandom.get_rng_state()  # manual_seed drops it
    gk.load_checkpoint(path, model)
    np.testing.assert_array_equal(gkrandom.get_rng_state()["cuda"]["0"]["state"],
                                  snap["state"])
    if not CUDA:
        assert backend._cupy is None
    with pytest.raises(ValueError, match="state"):
        gkrandom.set_rng_state({**state, "cuda": {"0": {"bit_generator": "XORWOW"}}})


class _FakeBitGenerator:
    """Stands in for CuPy's XORWOW: the whole state in one device array (`_state`)."""

    def __init__(self, seed, nbytes=16):
        self._state = np.full(nbytes, (seed or 0) % 128, dtype=np.int8)


class XORWOW(_FakeBitGenerator):
    pass


def _fake_cupy(nbytes=16):
    def default_rng(seed=None):
        return types.SimpleNamespace(bit_generator=XORWOW(seed, nbytes))

    return types.SimpleNamespace(
        ndarray=type("FakeCupyArray", (), {}), asnumpy=np.asarray, asarray=np.asarray,
        random=types.SimpleNamespace(default_rng=default_rng),
        cuda=types.SimpleNamespace(Device=lambda index: contextlib.nullcontext()))


def test_gpu_random_state_snapshot_and_restore_logic(monkeypatch):
    """The snapshot/restore code path against a stand-in for CuPy's generator (the real one
    is checked by test_checkpoint_resume_on_device_is_exact on a GPU)."""
    monkeypatch.setattr(backend, "_cupy", _fake_cupy())
    gk.manual_seed(3)
    gen = gkrandom.generator("cuda")
    assert gkrandom.generator("cuda:0") is gen
    np.testing.assert_array_equal(gen.bit_generator._state, 3)  # seeded with seed + index
    assert (gkrandom.generator("cuda:1").bit_generator._state == 4).all()
    gen.bit_generator._state[:] = np.arange(16)  # as if it had drawn numbers
    state = gkrandom.get_rng_state()
    assert sorted(state["cuda"]) == ["0", "1"]
    assert state["cuda"]["0"]["state"].dtype == np.uint8

    gk.manual_seed(3)
    gkrandom.set_rng_state(state)
    restored = gkrandom.generator("cuda:0")
    assert restored is not gen
    np.testing.assert_array_equal(restored.bit_generator._state, np.arange(16))
    np.testing.assert_array_equal(gkrandom.generator("cuda:1").bit_generator._state, 4)

    monkeypatch.setattr(backend, "_cupy", _fake_cupy(nbytes=8))  # another CuPy's layout
    gkrandom.set_rng_state(state)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        other = gkrandom.generator("cuda:0")
    assert any("does not fit this CuPy" in str(w.message) for w in caught)
    np.testing.assert_array_equal(other.bit_generator._state, 3)  # from the seed instead


# ---- the GPU benchmark's harness ----------------------------------------------------------------


def _gpu_benchmark():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu.py"
    spec = importlib.util.spec_from_file_location("gpu_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(CUDA, reason="checks the message without a GPU")
def test_gpu_benchmark_exits_with_a_message_without_a_gpu(capsys):
    with pytest.raises(SystemExit) as info:
        _gpu_benchmark().main(["--json", ""])
    assert info.value.code == 2 and "no CUDA GPU" in capsys.readouterr().err


def test_gpu_benchmark_harness_runs_on_the_cpu(tmp_path, capsys):
    out = tmp_path / "gpu.json"
    res = _gpu_benchmark().main(["--device", "cpu", "--quick", "--no-torch", "--cases",
                                 "mlp-b128", "--json", str(out)])
    assert set(res["mlp-b128"]) >= {"gradkit", "gradkit-fit", "batch", "hidden"}
    assert res["mlp-b128"]["gradkit"]["median"] > 0
    saved = json.loads(out.read_text())
    assert saved["device"] == "cpu" and saved["quick"] is True and "mlp-b128" in saved["results"]
    assert "samples/s" in capsys.readouterr().out
