"""gradkit.onnx.export: onnx.checker passes and onnxruntime gives gradkit's outputs."""

from __future__ import annotations

import os

import numpy as np
import pytest
from gradkit.onnx import ExportError, export

import gradkit as gk
from gradkit import nn

from .helpers import MLP, randomize

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install 'gradkit[onnx]')")
ort = pytest.importorskip("onnxruntime",
                          reason="onnxruntime is not installed (pip install 'gradkit[onnx]')")


def _trained_bn(model, x):
    """Run a few training batches so BatchNorm has non-trivial running statistics."""
    model.train()
    with gk.no_grad():
        for i in range(3):
            model(gk.tensor(x * (i + 1)))
    return model.eval()


def _check(model, example, path, batch=7, opset=17):
    export(model, example, path, opset=opset)
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(5).standard_normal((batch, *example.shape[1:])).astype(np.float32)
    (got,) = session.run(None, {"input": x})
    model.eval()
    with gk.no_grad():
        want = model(gk.tensor(x)).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return proto


ALL_LAYERS = lambda: nn.Sequential(  # noqa: E731
    nn.Flatten(), nn.Linear(12, 16), nn.BatchNorm1d(16), nn.GELU(), nn.Dropout(0.5),
    nn.Sequential(nn.Linear(16, 8), nn.LayerNorm(8), nn.Softplus(), nn.ELU(0.7),
                  nn.LeakyReLU(0.2)),
    nn.Linear(8, 8), nn.Softplus(beta=2.0), nn.Tanh(), nn.Identity(), nn.Linear(8, 6),
    nn.Sigmoid(), nn.ReLU(), nn.Linear(6, 4), nn.LogSoftmax())


@pytest.mark.parametrize("opset", [17, 20])
def test_every_supported_layer(tmp_path, opset):
    x = np.random.default_rng(0).standard_normal((6, 3, 4)).astype(np.float32)
    model = _trained_bn(ALL_LAYERS(), x)
    proto = _check(model, x, tmp_path / "m.onnx", opset=opset)
    ops = {n.op_type for n in proto.graph.node}
    assert {"Gemm", "BatchNormalization", "LayerNormalization", "Reshape", "LogSoftmax"} <= ops
    assert ("Gelu" in ops) == (opset >= 20) and ("Erf" in ops) == (opset < 20)
    assert "Dropout" not in ops
    assert proto.opset_import[0].version == opset


def test_dynamic_batch_axis(tmp_path):
    model = randomize(nn.Sequential(nn.Linear(5, 3), nn.Softmax()))
    path = tmp_path / "m.onnx"
    export(model, np.zeros((2, 5), np.float32), path)
    proto = onnx.load(path)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 5
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 2, 33):
        x = np.random.default_rng(n).standard_normal((n, 5)).astype(np.float32)
        with gk.no_grad():
            want = model(gk.tensor(x)).numpy()
        np.testing.assert_allclose(session.run(None, {"input": x})[0], want, rtol=1e-5,
                                   atol=1e-6)


def test_rank3_inputs_batchnorm_over_channels_and_partial_flatten(tmp_path):
    x = np.random.default_rng(1).standard_normal((4, 3, 5)).astype(np.float32)
    model = _trained_bn(nn.Sequential(
        nn.BatchNorm1d(3), nn.Linear(5, 6), nn.LayerNorm((3, 6)), nn.Softmax(axis=1),
        nn.Flatten(1, 2), nn.Linear(18, 2)), x)
    model[0].weight.data[...] = 2.0
    _check(model, x, tmp_path / "m.onnx")


def test_norm_layers_without_affine_and_without_bias(tmp_path):
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    model = _trained_bn(nn.Sequential(nn.BatchNorm1d(4, affine=False),
                                      nn.LayerNorm(4, elementwise_affine=False),
                                      nn.Linear(4, 4, bias=False), nn.LayerNorm(4, bias=False)),
                        x)
    _check(model, x, tmp_path / "m.onnx")


def test_single_layer_and_tensor_example(tmp_path):
    model = randomize(nn.Linear(3, 2))
    _check(model, gk.randn(2, 3), tmp_path / "m.onnx")


def test_unsupported_layers_are_named(tmp_path):
    with pytest.raises(ExportError, match=r"layer '1' \(MLP\) is not supported; export takes "
                                          r"models built from Sequential, Linear, ReLU"):
        export(nn.Sequential(nn.Linear(4, 4), MLP()), np.zeros((1, 4), np.float32),
               tmp_path / "m.onnx")
    with pytest.raises(ExportError, match=r"layer 'model' \(MLP\) is not supported"):
        export(MLP(), np.zeros((1, 4), np.float32), tmp_path / "m.onnx")
    with pytest.raises(ExportError, match=r"layer '2.0' \(ModuleList\)"):
        export(nn.Sequential(nn.ReLU(), nn.ReLU(), nn.Sequential(nn.ModuleList())),
               np.zeros((1, 4), np.float32), tmp_path / "m.onnx")
    with pytest.raises(ExportError, match="track_running_stats=False"):
        export(nn.Sequential(nn.BatchNorm1d(4, track_running_stats=False)),
               np.zeros((2, 4), np.float32), tmp_path / "m.onnx")
    with pytest.raises(ExportError, match=r"'0' \(LayerNorm\) needs opset 17"):
        export(nn.Sequential(nn.LayerNorm(4)), np.zeros((2, 4), np.float32),
               tmp_path / "m.onnx", opset=13)
    with pytest.raises(ExportError, match="opset must be an int in 13"):
        export(nn.Sequential(nn.ReLU()), np.zeros((2, 4), np.float32), tmp_path / "m.onnx",
               opset=7)
    assert not os.listdir(tmp_path)


def test_opset_13_without_layernorm(tmp_path):
    x = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    model = randomize(nn.Sequential(nn.Linear(4, 4), nn.GELU(), nn.Linear(4, 2), nn.Softmax()))
    _check(model, x, tmp_path / "m.onnx", opset=13)


def test_export_keeps_the_training_mode_and_writes_atomically(tmp_path, monkeypatch):
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    path = tmp_path / "m.onnx"
    export(model, np.zeros((1, 2), np.float32), path)
    assert model.training
    before = path.read_bytes()
    from gradkit.io import atomic

    def broken(fd):
        raise OSError("disk error")

    monkeypatch.setattr(atomic.os, "fsync", broken)
    with pytest.raises(OSError):
        export(nn.Sequential(nn.Linear(2, 3)), np.zeros((1, 2), np.float32), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.onnx"]
