"""Module.summary() of sequence models: token inputs, free lengths shown as None, recurrent
states, attention (gradkit/nn/summary.py)."""

import numpy as np

from gradkit import nn


def row(text: str, label: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(label))


def test_embedding_then_lstm_infers_token_inputs_and_free_lengths():
    model = nn.Sequential(nn.Embedding(50, 8), nn.LSTM(8, 16, num_layers=2, batch_first=True,
                                                      bidirectional=True), )
    text = model.summary(print_fn=None)
    assert "(None, None, 8)" in row(text, "0 (Embedding)") and "400" in row(text, "0 (Embedding)")
    lstm = row(text, "1 (LSTM)")
    assert "(None, None, 32), (4, None, 16), (4, None, 16)" in lstm  # output, h_n, c_n
    assert f"{model[1].num_parameters():,}" in lstm
    fixed = model.summary((12,), print_fn=None)
    assert "(None, 12, 8)" in fixed and "(None, 12, 32), (4, None, 16)" in fixed


def test_recurrent_layer_and_cell_as_the_model():
    gru = nn.GRU(8, 16).summary(print_fn=None)  # time-major: both leading axes are free
    assert "(None, None, 16), (1, None, 16)" in row(gru, "GRU")
    cell = nn.LSTMCell(8, 16).summary(print_fn=None)
    assert "(None, 16), (None, 16)" in row(cell, "LSTMCell")


def test_attention_and_encoder():
    mha = nn.MultiheadAttention(16, 4, batch_first=True)
    text = mha.summary(print_fn=None)  # called with query = key = value
    assert "(None, None, 16), (None, None, None)" in row(text, "MultiheadAttention")
    time_major = nn.MultiheadAttention(16, 4).summary((5, 16), print_fn=None)
    assert "(None, 5, 16), (5, None, None)" in row(time_major, "MultiheadAttention")
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32, batch_first=True), 2,
                                norm=nn.LayerNorm(16))
    text = enc.summary(print_fn=None)
    assert "(None, None, 16)" in row(text, "layers.1.self_attn (MultiheadAttention)")
    assert "(None, None, 32)" in row(text, "layers.0.dropout (Dropout)")  # the hidden width
    assert row(text, "layers.0.linear1 (Linear)").split()[2] == "-"  # inside a fused op
    assert "not called itself" in text
    assert f"Total params: {enc.num_parameters():,}" in text


def test_summary_leaves_modes_and_forward_alone():
    model = nn.Sequential(nn.Embedding(20, 4), nn.GRU(4, 8, batch_first=True))
    model.train()
    text = model.summary(print_fn=None, input_shape=(7,))
    assert "(None, 7, 8)" in text
    assert model.training and all(m.training for m in model.modules())
    assert all("forward" not in m.__dict__ for m in model.modules())
    np.testing.assert_equal(model[0].weight.grad, None)
