"""torch.save / torch.load: tensors, model and optimizer state dicts and nested Python
values round-trip through one safetensors file (no pickle); real PyTorch reads the state
dicts with safetensors and its safetensors files load here; real PyTorch pickles are refused
with the way to convert them."""

from __future__ import annotations

import io
import math
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import gradkit.torch as gt
from gradkit.io import FormatError


def test_a_model_state_dict_round_trips(tmp_path):
    model = gt.nn.Sequential(gt.nn.Linear(3, 4), gt.nn.BatchNorm1d(4), gt.nn.Linear(4, 2))
    model(gt.randn(5, 3))
    path = tmp_path / "model.pt"
    gt.save(model.state_dict(), path)
    with open(path, "rb") as f:
        assert b"pickle" not in f.read() and path.read_bytes()[8:9] == b"{"
    loaded = gt.load(path)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(model.state_dict())
    assert all(type(v) is gt.Tensor for v in loaded.values())
    assert loaded["1.num_batches_tracked"].dtype == gt.int64
    fresh = gt.nn.Sequential(gt.nn.Linear(3, 4), gt.nn.BatchNorm1d(4), gt.nn.Linear(4, 2))
    assert repr(fresh.load_state_dict(gt.load(str(path)))) == "<All keys matched successfully>"
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[k].numpy(), v.numpy())


def test_nested_values_and_an_optimizer_round_trip(tmp_path):
    model = gt.nn.Linear(3, 2)
    opt = gt.optim.Adam(model.parameters(), lr=0.01)
    model(gt.randn(4, 3)).sum().backward()
    opt.step()
    checkpoint = {"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(),
                  "losses": [0.5, 0.25, math.inf], "best": (1, "ok", None, True),
                  "scale": gt.tensor(2.5), "ids": gt.tensor([1, 2], dtype=gt.int32)}
    gt.save(checkpoint, tmp_path / "ckpt.tar")
    back = gt.load(tmp_path / "ckpt.tar", weights_only=True)
    assert back["epoch"] == 3 and back["losses"] == [0.5, 0.25, math.inf]
    assert back["best"] == (1, "ok", None, True)
    assert float(back["scale"]) == 2.5 and back["ids"].dtype == gt.int32
    assert sorted(back["optimizer"]["state"]) == [0, 1]
    opt2 = gt.optim.Adam(gt.nn.Linear(3, 2).parameters(), lr=0.5)
    opt2.load_state_dict(back["optimizer"])
    assert opt2.param_groups[0]["lr"] == 0.01
    st = opt2.state_dict()["state"][0]
    np.testing.assert_array_equal(st["exp_avg"].numpy(), opt.state_dict()["state"][0]
                                  ["exp_avg"].numpy())
    assert float(st["step"]) == 1.0


def test_a_tensor_and_file_objects(tmp_path):
    t = gt.arange(6.0).reshape(2, 3)
    buf = io.BytesIO()
    gt.save(t, buf)
    buf.seek(0)
    back = gt.load(buf, map_location="cpu")
    assert type(back) is gt.Tensor and back.tolist() == t.tolist()
    gt.save([t, {"k": t * 2}], tmp_path / "list.pt")
    a, d = gt.load(tmp_path / "list.pt", map_location=gt.device("cpu"))
    assert d["k"].tolist() == (t * 2).tolist()
    moved = gt.load(tmp_path / "list.pt", map_location=lambda storage, loc: storage)
    assert moved[0].tolist() == t.tolist()


def test_real_pytorch_reads_the_state_dict_with_safetensors(torch, tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    model = gt.nn.Sequential(gt.nn.Linear(3, 4), gt.nn.ReLU(), gt.nn.Linear(4, 1))
    gt.save(model.state_dict(), tmp_path / "m.pt")
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    ref.load_state_dict(safetensors_torch.load_file(str(tmp_path / "m.pt")))
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(ref(torch.tensor(x)).detach().numpy(),
                               model(gt.tensor(x)).detach().numpy(), rtol=1e-6)
    safetensors_torch.save_file(ref.state_dict(), str(tmp_path / "from_torch.safetensors"))
    back = gt.load(tmp_path / "from_torch.safetensors")
    assert sorted(back) == sorted(ref.state_dict())
    model.load_state_dict(back)


def test_real_pytorch_pickles_are_refused_with_a_way_to_convert(torch, tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "real.pt")
    with pytest.raises(FormatError, match=r"data\.pkl.*never unpickles.*save_file"):
        gt.load(tmp_path / "real.pt")
    torch.save({"w": torch.ones(2)}, tmp_path / "legacy.pt",
               _use_new_zipfile_serialization=False)
    with pytest.raises(FormatError, match="legacy format.*save_file"):
        gt.load(tmp_path / "legacy.pt")
    (tmp_path / "plain.pkl").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(FormatError, match="pickle"):
        gt.load(tmp_path / "plain.pkl")
    (tmp_path / "junk.pt").write_bytes(b"\x05" * 40)
    with pytest.raises(FormatError, match="not a valid safetensors file"):
        gt.load(tmp_path / "junk.pt")


def test_objects_that_would_need_pickle_are_refused(tmp_path):
    model = gt.nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"model\.state_dict\(\)"):
        gt.save(model, tmp_path / "m.pt")
    with pytest.raises(TypeError, match=r"optimizer\.state_dict\(\)"):
        gt.save({"opt": gt.optim.SGD(model.parameters(), lr=0.1)}, tmp_path / "o.pt")
    with pytest.raises(TypeError, match="torch.save.*set"):
        gt.save({"s": {1, 2}}, tmp_path / "s.pt")
    assert not (tmp_path / "s.pt").exists()
