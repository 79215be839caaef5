"""gradkit.backend.deferred: GPU range checks that raise at the next read, not stalling a
batch."""

import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.backend import deferred

from .devices import needs_cuda


@pytest.fixture(autouse=True)
def _nothing_pending():
    deferred.clear()
    yield
    deferred.clear()


def test_a_failed_check_raises_at_the_next_read():
    deferred.check_later(np.asarray(0), lambda n: AssertionError("never"))
    deferred.check_later(np.asarray(3), lambda n: ValueError(f"{n} bad labels"))
    assert deferred.pending() == 2
    t = gk.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="^3 bad labels$"):
        t.numpy()
    assert deferred.pending() == 0  # reported once, then forgotten
    assert t.sum().item() == 3.0


@pytest.mark.parametrize("read", ["item", "numpy", "tolist", "array", "synchronize"])
def test_every_read_verifies(read):
    deferred.check_later(np.asarray(1), lambda n: ValueError("late"))
    t = gk.tensor([2.0])
    calls = {"item": t.item, "numpy": t.numpy, "tolist": t.tolist,
             "array": lambda: np.asarray(t), "synchronize": gk.cuda.synchronize}
    if read == "synchronize" and not gk.cuda.is_available():
        calls[read]()  # a no-op without a GPU: the check stays pending
        assert deferred.pending() == 1
        return
    with pytest.raises(ValueError, match="late"):
        calls[read]()


def test_checks_are_verified_every_limit_registrations(monkeypatch):
    monkeypatch.setattr(deferred, "LIMIT", 3)
    deferred.check_later(np.asarray(0), lambda n: ValueError("x"))
    deferred.check_later(np.asarray(0), lambda n: ValueError("x"))
    assert deferred.pending() == 2
    with pytest.raises(ValueError, match="x"):
        deferred.check_later(np.asarray(1), lambda n: ValueError("x"))
    assert deferred.pending() == 0


def test_on_the_cpu_labels_are_checked_at_once():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got values from 0 to 3"):
        nn.functional.cross_entropy(gk.zeros(2, 3), gk.tensor([0, 3]))
    assert deferred.pending() == 0


@needs_cuda
@pytest.mark.parametrize("loss, target", [
    ("cross_entropy", [0, 3, 1, -1]), ("nll_loss", [0, 3, 1, 1]),
    ("binary_cross_entropy", [0.5, 1.5, 0.2, 0.1]),
])
def test_bad_targets_on_a_gpu_raise_at_the_next_read(loss, target):  # pragma: no cover
    fn = getattr(nn.functional, loss)
    if loss == "binary_cross_entropy":  # the probabilities are the checked input here
        out = fn(gk.tensor(target, device="cuda"), gk.zeros(4, device="cuda"))
        match = r"probabilities in \[0, 1\], but 1 of 4 values did not"
    else:
        out = fn(gk.zeros(4, 3, device="cuda"), gk.tensor(target, device="cuda"))
        bad = sum(not 0 <= v < 3 for v in target)
        match = rf"{loss}: labels must lie in \[0, 3\), but {bad} of 4 did not"
    assert deferred.pending() == 1  # no error yet: nothing waited for the GPU
    with pytest.raises(ValueError, match=match):
        out.item()
    assert deferred.pending() == 0


@needs_cuda
def test_host_labels_with_gpu_logits_are_checked_at_once():  # pragma: no cover
    with pytest.raises(ValueError, match="got values from 0 to 3"):
        nn.functional.cross_entropy(gk.zeros(2, 3, device="cuda"), np.array([0, 3]))


def test_batchnorm_cumulative_average_on_each_device(device):
    bn = nn.BatchNorm1d(3, momentum=None).to(device)
    batches = [np.random.default_rng(i).standard_normal((8, 3)).astype(np.float32) + i
               for i in range(3)]
    for b in batches:
        bn(gk.tensor(b, device=device))
    want = np.mean([b.mean(axis=0) for b in batches], axis=0)
    np.testing.assert_allclose(bn.running_mean.numpy(), want, rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked) == 3


@needs_cuda
@pytest.mark.parametrize("act", ["relu", "tanh", "batchnorm"])
def test_a_gpu_training_step_never_waits_for_the_gpu(act):  # pragma: no cover
    import cupyx

    middle = {"relu": [nn.ReLU()], "tanh": [nn.Tanh()],
              "batchnorm": [nn.BatchNorm1d(32, momentum=None), nn.ReLU()]}[act]
    model = nn.Sequential(nn.Linear(20, 32), *middle, nn.Linear(32, 5)).to("cuda")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = gk.randn(16, 20, device="cuda")
    y = gk.randint(0, 5, 16, device="cuda")

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step()  # first use: kernels compile, optimizer state is made
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cupyx warns that the detector is experimental
        with cupyx.allow_synchronize(False):
            for _ in range(3):
                loss = step()
    assert np.isfinite(loss.item())
