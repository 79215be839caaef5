"""ONNX export of the image layers: onnxruntime gives gradkit's outputs (float32, eval mode)
for convolutions over strides, paddings (incl. "same" and padding modes), dilations and
groups, transposed convolutions, pooling, adaptive pooling, BatchNorm2d, Dropout2d and
Upsample; unsupported options are refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit.onnx import ExportError, export

import gradkit as gk
from gradkit import nn

from .helpers import randomize

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install 'gradkit[onnx]')")
ort = pytest.importorskip("onnxruntime",
                          reason="onnxruntime is not installed (pip install 'gradkit[onnx]')")


def run_both(model, x, path, opset=17, batch=3):
    """(onnxruntime's output, gradkit's) for a fresh batch shaped like `x`."""
    export(model, x, path, opset=opset)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    xb = np.random.default_rng(7).standard_normal((batch, *x.shape[1:])).astype(np.float32)
    (got,) = session.run(None, {"input": xb})
    model.eval()
    with gk.no_grad():
        want = model(gk.tensor(xb)).numpy()
    return got, want


def check(model, x, path, opset=17, atol=1e-4):
    got, want = run_both(model, x, path, opset)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=atol)
    return onnx.load(path)


def image(c=3, h=9, w=10, n=2):
    return np.random.default_rng(0).standard_normal((n, c, h, w)).astype(np.float32)


CONV2D = [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=3, out_channels=6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 2)),
    dict(in_channels=3, out_channels=4, kernel_size=3, dilation=2, padding=2, bias=False),
    dict(in_channels=4, out_channels=6, kernel_size=3, groups=2, padding=1),
    dict(in_channels=4, out_channels=4, kernel_size=3, groups=4, padding="same"),  # depthwise
    dict(in_channels=3, out_channels=4, kernel_size=4, padding="same", dilation=(1, 2)),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding="valid"),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding=1, padding_mode="reflect"),
    dict(in_channels=3, out_channels=4, kernel_size=(3, 5), padding="same",
         padding_mode="replicate"),
]


@pytest.mark.parametrize("kw", CONV2D, ids=lambda kw: ",".join(f"{k}={v}" for k, v in
                                                               kw.items()))
def test_conv2d(tmp_path, kw):
    x = image(c=kw["in_channels"])
    proto = check(randomize(nn.Sequential(nn.Conv2d(**kw))), x, tmp_path / "m.onnx")
    ops = [n.op_type for n in proto.graph.node]
    assert "Conv" in ops and ("Pad" in ops) == (kw.get("padding_mode", "zeros") != "zeros")


def test_circular_padding_needs_opset_19(tmp_path):
    model = randomize(nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")))
    x = image(c=2)
    with pytest.raises(ExportError, match=r"'0' \(Conv2d\) has padding_mode='circular', "
                                          r"which needs opset 19"):
        export(model, x, tmp_path / "m.onnx", opset=17)
    check(model, x, tmp_path / "m.onnx", opset=19)


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3), dict(kernel_size=5, stride=2, padding=2, dilation=2),
    dict(kernel_size=3, padding="same", groups=2, padding_mode="reflect"),
])
def test_conv1d(tmp_path, kw):
    x = np.random.default_rng(1).standard_normal((2, 4, 17)).astype(np.float32)
    check(randomize(nn.Sequential(nn.Conv1d(4, 6, **kw))), x, tmp_path / "m.onnx")


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1, output_padding=1),
    dict(kernel_size=(2, 3), stride=(2, 1), groups=2, bias=False),
    dict(kernel_size=3, stride=2, dilation=2, padding=2),
])
def test_conv_transpose2d(tmp_path, kw):
    check(randomize(nn.Sequential(nn.ConvTranspose2d(4, 6, **kw))), image(c=4),
          tmp_path / "m.onnx")


@pytest.mark.parametrize("layer", [
    nn.MaxPool2d(2), nn.MaxPool2d(3, stride=2, padding=1), nn.MaxPool2d((2, 3), dilation=2),
    nn.MaxPool2d(3, stride=2, ceil_mode=True), nn.AvgPool2d(2), nn.AvgPool2d(3, 2, padding=1),
    nn.AvgPool2d(3, 2, padding=1, count_include_pad=False), nn.AdaptiveAvgPool2d(1),
    nn.AdaptiveAvgPool2d((3, 5)), nn.AdaptiveAvgPool2d((None, 2)), nn.Dropout2d(0.5),
    nn.Upsample(scale_factor=2), nn.Upsample(scale_factor=(2, 3)), nn.Upsample(size=(14, 25)),
], ids=repr)
def test_pooling_and_resampling_2d(tmp_path, layer):
    x = image(h=9 if not isinstance(layer, nn.AdaptiveAvgPool2d) else 6)
    proto = check(nn.Sequential(layer), x, tmp_path / "m.onnx")
    ops = {n.op_type for n in proto.graph.node}
    if isinstance(layer, nn.AdaptiveAvgPool2d) and layer.output_size == 1:
        assert "GlobalAveragePool" in ops
    if isinstance(layer, nn.Dropout2d):
        assert ops == {"Identity"}


@pytest.mark.parametrize("layer", [nn.MaxPool1d(3, stride=2, padding=1), nn.AvgPool1d(4),
                                   nn.AdaptiveAvgPool1d(1), nn.AdaptiveAvgPool1d(4)], ids=repr)
def test_pooling_1d(tmp_path, layer):
    x = np.random.default_rng(2).standard_normal((2, 3, 16)).astype(np.float32)
    check(nn.Sequential(layer), x, tmp_path / "m.onnx")


def _trained_bn2d(model, x):
    model.train()
    with gk.no_grad():
        for i in range(3):
            model(gk.tensor(x * (i + 1) + i))
    return model.eval()


def test_lenet_style_cnn_with_batchnorm2d(tmp_path):
    """The CNN of `gradkit train --model cnn`, with BatchNorm2d and Dropout2d added."""
    x = image(c=1, h=28, w=28, n=4)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout2d(0.25), nn.Conv2d(8, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 49, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10))
    _trained_bn2d(model, x)
    proto = check(model, x, tmp_path / "m.onnx")
    assert {"Conv", "BatchNormalization", "MaxPool", "Gemm"} <= {
        n.op_type for n in proto.graph.node}
    assert model[1].running_mean.numpy().any()  # the statistics exported are not the init


def test_unsupported_image_options_are_named(tmp_path):
    x = image(h=7)
    with pytest.raises(ExportError, match=r"'0' \(AvgPool2d\) has divisor_override"):
        export(nn.Sequential(nn.AvgPool2d(2, divisor_override=3)), x, tmp_path / "m.onnx")
    with pytest.raises(ExportError, match=r"'0' \(AvgPool2d\) has ceil_mode=True"):
        export(nn.Sequential(nn.AvgPool2d(2, ceil_mode=True)), x, tmp_path / "m.onnx")
    with pytest.raises(ExportError, match=r"pools 7x10 inputs to 3x3; ONNX has no adaptive"):
        export(nn.Sequential(nn.AdaptiveAvgPool2d(3)), x, tmp_path / "m.onnx")
    with pytest.raises(ExportError, match="BatchNorm2d with track_running_stats=False"):
        export(nn.Sequential(nn.BatchNorm2d(3, track_running_stats=False)), x,
               tmp_path / "m.onnx")
