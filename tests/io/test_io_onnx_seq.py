"""ONNX export of the sequence layers: Embedding (Gather over int64 ids), RNN / LSTM / GRU
(ONNX's own ops, gates reordered) alone or inside a Sequential through `RNNOutput`;
onnxruntime gives gradkit's outputs."""

from __future__ import annotations

import numpy as np
import pytest
from gradkit.onnx import ExportError, RNNOutput, export

import gradkit as gk
from gradkit import nn

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install 'gradkit[onnx]')")
ort = pytest.importorskip("onnxruntime",
                          reason="onnxruntime is not installed (pip install 'gradkit[onnx]')")


def outputs(model, x, path, fresh):
    """(onnxruntime's outputs, gradkit's, flattened) for the input `fresh`."""
    export(model, x, path)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": fresh})
    model.eval()
    with gk.no_grad():
        want = model(gk.tensor(fresh))
    flat = []
    for w in (want if isinstance(want, tuple) else (want,)):
        flat += list(w) if isinstance(w, tuple) else [w]
    return got, [w.numpy() for w in flat]


def check(model, x, path, fresh):
    got, want = outputs(model, x, path, fresh)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    return onnx.load(path)


def seq(n, t, f, seed=0):
    return np.random.default_rng(seed).standard_normal((n, t, f)).astype(np.float32)


def test_embedding_takes_int64_ids(tmp_path):
    ids = np.random.default_rng(0).integers(0, 20, (2, 5))
    model = nn.Sequential(nn.Embedding(20, 4, padding_idx=0), nn.Flatten(), nn.Linear(20, 3))
    fresh = np.random.default_rng(1).integers(0, 20, (6, 5))
    proto = check(model, ids, tmp_path / "m.onnx", fresh)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert "Gather" in {n.op_type for n in proto.graph.node}
    with pytest.raises(ExportError, match="integer token ids, got float32"):
        export(model, ids.astype(np.float32), tmp_path / "m.onnx")


def test_integer_images_still_export_as_floats(tmp_path):
    """uint8 pixels into a float model: the graph takes float32, as before."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    x = np.arange(8, dtype=np.uint8).reshape(2, 2, 2)
    proto = check(model, x, tmp_path / "m.onnx", x.astype(np.float32))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT


RECURRENT = [
    (nn.LSTM, {}), (nn.LSTM, {"num_layers": 2, "bidirectional": True}),
    (nn.LSTM, {"bias": False, "batch_first": True}),
    (nn.GRU, {}), (nn.GRU, {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    (nn.RNN, {}), (nn.RNN, {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}),
]


@pytest.mark.parametrize("cls, kw", RECURRENT,
                         ids=[f"{c.__name__}-{kw}" for c, kw in RECURRENT])
def test_recurrent_layer_alone_exports_output_and_states(tmp_path, cls, kw):
    """A bare layer: outputs `output`, `h_n` (and `c_n`), for another batch and length."""
    model = cls(5, 7, **kw)
    x = seq(3, 4, 5)
    fresh = seq(6, 4, 5, seed=3) if kw.get("batch_first") else seq(8, 3, 5, seed=3)
    proto = check(model, x, tmp_path / "m.onnx", fresh)
    names = [o.name for o in proto.graph.output]
    assert names == (["output", "h_n", "c_n"] if cls is nn.LSTM else ["output", "h_n"])
    op = {nn.LSTM: "LSTM", nn.GRU: "GRU", nn.RNN: "RNN"}[cls]
    assert sum(n.op_type == op for n in proto.graph.node) == kw.get("num_layers", 1)


@pytest.mark.parametrize("output", ["sequence", "last", "h_n"])
@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_text_classifier_through_rnn_output(tmp_path, cls, output):
    """Embedding -> RNNOutput(LSTM/GRU) -> Linear, batch-first, bidirectional."""
    rnn = cls(6, 8, num_layers=2, batch_first=True, bidirectional=True)
    head = nn.Sequential(nn.Flatten(), nn.Linear(5 * 16, 3)) if output == "sequence" \
        else nn.Linear(16, 3)
    model = nn.Sequential(nn.Embedding(30, 6), RNNOutput(rnn, output), head)
    ids = np.random.default_rng(0).integers(0, 30, (2, 5))
    check(model, ids, tmp_path / "m.onnx", np.random.default_rng(4).integers(0, 30, (7, 5)))


def test_rnn_output_picks_the_tensor_pytorch_code_would(torch):
    """'last' is output[:, -1]; 'h_n' is the last layer's h_n, directions side by side."""
    gk_lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)
    t_lstm = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)
    t_lstm.load_state_dict({k: torch.tensor(v) for k, v in gk_lstm.state_dict().items()})
    x = seq(2, 5, 3)
    out, (h, _) = t_lstm(torch.tensor(x))
    with gk.no_grad():
        last = RNNOutput(gk_lstm, "last")(gk.tensor(x)).numpy()
        h_n = RNNOutput(gk_lstm, "h_n")(gk.tensor(x)).numpy()
    np.testing.assert_allclose(last, out[:, -1].detach().numpy(), rtol=1e-5, atol=1e-6)
    want = torch.cat([h[-2], h[-1]], dim=1).detach().numpy()
    np.testing.assert_allclose(h_n, want, rtol=1e-5, atol=1e-6)


def test_a_recurrent_layer_inside_a_sequential_needs_the_wrapper(tmp_path):
    model = nn.Sequential(nn.LSTM(3, 4), nn.Linear(4, 2))
    with pytest.raises(ExportError, match=r"layer '0' \(LSTM\) returns a tuple.*RNNOutput"):
        export(model, seq(2, 3, 3), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="output must be one of"):
        RNNOutput(nn.GRU(3, 4), "c_n")
    with pytest.raises(TypeError, match="expected an RNN, LSTM or GRU"):
        RNNOutput(nn.Linear(3, 4))
