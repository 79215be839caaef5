"""`torch.autocast` and `torch.amp.GradScaler` in the dialect: a lesson-style AMP loop written
for PyTorch runs with only its import changed, and scales, skips and updates as PyTorch does."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit.torch as gtorch

AMP_LOOP = '''
import torch

torch.manual_seed(0)
w = torch.nn.Parameter(torch.ones(3, 2))
opt = torch.optim.SGD([w], lr=0.01)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 14, growth_interval=3)
x = torch.linspace(-1, 1, 12).reshape(4, 3)
scales, dtypes = [], []
for step in range(10):
    opt.zero_grad()
    with torch.autocast("cpu", dtype=torch.float16):
        out = x @ w
        dtypes.append(str(out.dtype))
        loss = (out.float() * (1e30 if step in (2, 5) else 1.0)).sum()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    scales.append(scaler.get_scale())
RESULT = {"scales": scales, "dtypes": dtypes, "w": w.detach().numpy().tolist(),
          "state": {k: float(v) for k, v in scaler.state_dict().items()}}
'''


def _run(code: str, module) -> dict:
    ns: dict = {}
    import sys
    saved = sys.modules.get("torch")
    sys.modules["torch"] = module
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the overflow is the point
            exec(code, ns)
    finally:
        if saved is not None:
            sys.modules["torch"] = saved
        else:
            del sys.modules["torch"]
    return ns["RESULT"]


def test_the_amp_loop_runs_as_in_pytorch(torch):
    ours = _run(AMP_LOOP, gtorch)
    theirs = _run(AMP_LOOP, torch)
    assert ours["scales"] == theirs["scales"]  # the same backoffs (steps 2, 5) and growths
    assert ours["dtypes"] == theirs["dtypes"] == ["torch.float16"] * 10
    assert ours["state"] == theirs["state"]
    np.testing.assert_allclose(ours["w"], theirs["w"], rtol=2e-3)


def test_cuda_without_a_gpu_warns_and_disables_as_pytorch():
    if gtorch.cuda.is_available():  # pragma: no cover - needs no GPU
        pytest.skip("a GPU is present")
    with pytest.warns(UserWarning, match="CUDA is not available. Disabling"):
        scaler = gtorch.amp.GradScaler("cuda")
    assert not scaler.is_enabled()
    with pytest.warns(UserWarning, match="device_type of 'cuda'"):
        ctx = gtorch.autocast("cuda")
    with ctx:
        assert gtorch.nn.Linear(2, 2)(gtorch.ones(1, 2)).dtype == gtorch.float32


def test_bad_device_types_and_the_cpu_default_dtype():
    with pytest.raises(RuntimeError, match="device_type must be 'cpu' or 'cuda'"):
        gtorch.autocast("mps")
    with pytest.raises(Exception, match="bfloat16"):  # PyTorch's CPU default: not on NumPy
        gtorch.autocast("cpu")
    assert gtorch.amp.is_autocast_available("cpu")
