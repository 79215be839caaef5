"""gk.save / gk.load of the sequence layers: recurrent layers and cells, MultiheadAttention,
TransformerEncoderLayer and TransformerEncoder (nested layers in the architecture JSON)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.io import ConfigError, read_metadata
from gradkit.io.config import _count_values, architecture, build
from gradkit.ops.elementwise import gelu

from .helpers import assert_same_state, randomize

RNG = np.random.default_rng(0)
SEQ = RNG.standard_normal((3, 5, 8)).astype(np.float32)  # (N, T, 8) or (T, N, 8)
STEP = RNG.standard_normal((3, 8)).astype(np.float32)
EMB = RNG.standard_normal((3, 5, 16)).astype(np.float32)
TOKENS = RNG.integers(0, 10, (3, 5))


def tensors(out) -> list[np.ndarray]:
    """Every array in a (nested) output, in order."""
    if isinstance(out, gk.Tensor):
        return [out.numpy()]
    if isinstance(out, (tuple, list)):
        return [a for o in out if o is not None for a in tensors(o)]
    return []


def encoder(**kw):
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.2, batch_first=True, **kw)
    return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(16))


CASES = [
    (lambda: nn.LSTM(8, 6, num_layers=2, batch_first=True, bidirectional=True, dropout=0.1),
     SEQ),
    (lambda: nn.LSTM(8, 6, bias=False), SEQ),
    (lambda: nn.GRU(8, 6, num_layers=2), SEQ),
    (lambda: nn.RNN(8, 6, nonlinearity="relu", batch_first=True), SEQ),
    (lambda: nn.LSTMCell(8, 6), STEP), (lambda: nn.GRUCell(8, 6, bias=False), STEP),
    (lambda: nn.RNNCell(8, 6, nonlinearity="relu"), STEP),
    (lambda: nn.MultiheadAttention(16, 4, dropout=0.1, batch_first=True), EMB),
    (lambda: nn.MultiheadAttention(16, 2, bias=False), EMB),
    (lambda: nn.TransformerEncoderLayer(16, 4, 32), EMB),
    (lambda: nn.TransformerEncoderLayer(16, 2, 24, dropout=0.0, activation="gelu",
                                        layer_norm_eps=1e-3, batch_first=True,
                                        norm_first=True, bias=False), EMB),
    (encoder, EMB),
    (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32), 3), EMB),
    (lambda: nn.Sequential(nn.Embedding(10, 8, padding_idx=0), nn.LSTM(8, 6, batch_first=True)),
     TOKENS),
]


def call(model, x):
    with gk.no_grad():
        if isinstance(model, nn.MultiheadAttention):
            t = gk.tensor(x)
            return model(t, t, t)
        return model(gk.tensor(x))


@pytest.mark.parametrize("make, x", CASES, ids=lambda v: "" if isinstance(v, np.ndarray)
                         else repr(v()).split("\n")[0].replace(" ", ""))
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_sequence_layers_round_trip(tmp_path, make, x, mode):
    model = randomize(make(), seed=1)
    getattr(model, mode)()
    loaded = gk.load(gk.save(model, tmp_path / "m.safetensors"))
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    assert loaded.training == model.training
    assert list(dict(loaded.named_modules())) == list(dict(model.named_modules()))
    assert_same_state(model, loaded)
    model.eval(), loaded.eval()
    expected, got = tensors(call(model, x)), tensors(call(loaded, x))
    assert len(expected) == len(got) > 0
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)


def test_encoder_json_nests_one_layer_and_the_norm(tmp_path):
    path = gk.save(encoder(norm_first=True), tmp_path / "enc.safetensors")
    node = json.loads(read_metadata(path)["architecture"])["model"]
    assert node["class"] == "TransformerEncoder" and node["config"]["num_layers"] == 2
    layer = node["config"]["encoder_layer"]
    assert layer["class"] == "TransformerEncoderLayer"
    assert layer["config"]["norm_first"] is True and layer["config"]["dim_feedforward"] == 32
    assert layer["config"]["dropout"] == 0.2 and layer["config"]["batch_first"] is True
    assert node["config"]["norm"]["class"] == "LayerNorm"
    bare = architecture(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1))
    assert bare["config"]["norm"] is None


def test_float64_layers_keep_their_dtype(tmp_path):
    for model in (nn.TransformerEncoderLayer(16, 4, 32, dtype="float64"),
                  nn.MultiheadAttention(16, 4, dtype="float64"),
                  nn.LSTM(8, 6, dtype="float64")):
        loaded = gk.load(gk.save(randomize(model), tmp_path / "m.safetensors"))
        assert {p.dtype for p in loaded.parameters()} == {np.dtype(np.float64)}
        assert_same_state(model, loaded)


def test_activation_functions_are_named_and_others_refused(tmp_path):
    layer = nn.TransformerEncoderLayer(16, 4, 32, activation=gelu)
    assert architecture(layer)["config"]["activation"] == "gelu"
    odd = nn.TransformerEncoderLayer(16, 4, 32, activation=lambda x: x * 2)
    with pytest.raises(ConfigError, match="activation .* is a callable"):
        gk.save(odd, tmp_path / "odd.safetensors")


def test_an_encoder_whose_layers_differ_is_refused(tmp_path):
    model = encoder()
    model.layers[1].norm_first = True
    with pytest.raises(ConfigError, match="layer 1 differs from layer 0"):
        gk.save(model, tmp_path / "m.safetensors")


@pytest.mark.parametrize("node", [
    {"class": "LSTM", "config": {"input_size": 10 ** 6, "hidden_size": 10 ** 4}},
    {"class": "Embedding", "config": {"num_embeddings": 10 ** 9, "embedding_dim": 64}},
    {"class": "MultiheadAttention", "config": {"embed_dim": 10 ** 6, "num_heads": 1}},
    {"class": "TransformerEncoder", "config": {"num_layers": 10 ** 6, "norm": None,
     "encoder_layer": {"class": "TransformerEncoderLayer",
                       "config": {"d_model": 8, "nhead": 2, "dim_feedforward": 16}}}},
    {"class": "GRUCell", "config": {"input_size": 10 ** 5, "hidden_size": 10 ** 5}},
])
def test_a_file_cannot_ask_for_more_values_than_it_holds(node):
    with pytest.raises(ConfigError, match="asks for .* parameter values"):
        build(node, max_values=10_000)


def test_parameter_counts_match_the_built_layers():
    for make, _ in CASES:
        model = make()
        assert _count_values(architecture(model), "model") == model.num_parameters(), model
