"""MultiheadAttention, TransformerEncoderLayer and TransformerEncoder against PyTorch with
copied weights (masks, need_weights, batch_first, pre/post norm, eval mode), state dicts
both ways, scaled_dot_product_attention, the positional encoding and pad_sequence."""

import numpy as np
import pytest

import gradkit as gk
from gradkit.nn.attention import (
    MultiheadAttention,
    TransformerEncoder,
    TransformerEncoderLayer,
    sinusoidal_positional_encoding,
)
from gradkit.nn.functional_seq import scaled_dot_product_attention
from gradkit.nn.layers import LayerNorm
from gradkit.nn.sequence_utils import pad_sequence, padding_mask

from .helpers import close, load_from_torch, torch_state

E, HEADS, L, NB = 8, 2, 5, 3


def _masks(rng, kind):
    am = rng.random((L, L)) > 0.7
    np.fill_diagonal(am, False)  # every query keeps one key
    kpm = np.zeros((NB, L), bool)
    kpm[0, 3:] = True
    return {
        "none": {},
        "attn_bool": {"attn_mask": am},
        "attn_per_head": {"attn_mask": rng.random((NB * HEADS, L, L)) > 2},
        "key_padding": {"key_padding_mask": kpm},
        "both_float": {"attn_mask": rng.standard_normal((L, L)).astype(np.float32),
                       "key_padding_mask": rng.standard_normal((NB, L)).astype(np.float32)},
        "causal": {"attn_mask": np.triu(np.ones((L, L), bool), 1)},
    }[kind]


def _grads_match(m, tm, pairs):
    for g, t in pairs:
        close(g.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        close(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("masks", ["none", "attn_bool", "attn_per_head", "key_padding",
                                   "both_float", "causal"])
def test_multihead_attention_matches_pytorch(torch, rng, batch_first, need_weights, masks):
    m, tm = MultiheadAttention(E, HEADS, batch_first=batch_first), torch.nn.MultiheadAttention(
        E, HEADS, batch_first=batch_first)
    assert list(m.state_dict()) == list(tm.state_dict())
    load_from_torch(m, tm)
    x = rng.standard_normal((NB, L, E) if batch_first else (L, NB, E)).astype(np.float32)
    kw = _masks(rng, masks)
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, gw = m(gx, gx, gx, need_weights=need_weights, **{k: gk.tensor(v) for k, v in kw.items()})
    want, tw = tm(tx, tx, tx, need_weights=need_weights,
                  **{k: torch.tensor(v) for k, v in kw.items()})
    close(got.numpy(), want.detach().numpy())
    if need_weights:
        assert gw.shape == (NB, L, L)
        close(gw.numpy(), tw.detach().numpy())
    else:
        assert gw is None
    v = rng.standard_normal(got.shape).astype(np.float32)
    (got * gk.tensor(v)).sum().backward()
    (want * torch.tensor(v)).sum().backward()
    _grads_match(m, tm, [(gx, tx)])


def test_cross_attention_unbatched_and_per_head_weights(torch, rng):
    m, tm = MultiheadAttention(E, 4), torch.nn.MultiheadAttention(E, 4)
    load_from_torch(m, tm)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in [(4, 2, E), (6, 2, E),
                                                                    (6, 2, E)])
    got, gw = m(gk.tensor(q), gk.tensor(k), gk.tensor(v), average_attn_weights=False)
    want, tw = tm(torch.tensor(q), torch.tensor(k), torch.tensor(v), average_attn_weights=False)
    assert gw.shape == (2, 4, 4, 6)
    close(got.numpy(), want.detach().numpy())
    close(gw.numpy(), tw.detach().numpy())
    got, gw = m(gk.tensor(q[:, 0]), gk.tensor(k[:, 0]), gk.tensor(v[:, 0]))
    want, tw = tm(torch.tensor(q[:, 0]), torch.tensor(k[:, 0]), torch.tensor(v[:, 0]))
    assert got.shape == (4, E) and gw.shape == (4, 6)
    close(got.numpy(), want.detach().numpy())
    close(gw.numpy(), tw.detach().numpy())


def test_multihead_attention_init_and_errors():
    m = MultiheadAttention(16, 4)
    bound = np.sqrt(6 / (16 + 48))
    assert np.abs(m.in_proj_weight.numpy()).max() <= bound
    assert not m.in_proj_bias.numpy().any() and not m.out_proj.bias.numpy().any()
    with pytest.raises(ValueError, match="divisible"):
        MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match=r"MultiheadAttention.*query of shape \(5, 2, 8\)"):
        m(gk.zeros((5, 2, 8)), gk.zeros((5, 2, 8)), gk.zeros((5, 2, 8)))
    with pytest.raises(ValueError, match="key_padding_mask of shape"):
        x = gk.zeros((5, 2, 16))
        m(x, x, x, key_padding_mask=gk.zeros((3, 5)) > 0)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_matches_pytorch_in_eval(torch, rng, norm_first, activation, batch_first):
    m = TransformerEncoderLayer(16, 4, 32, activation=activation, batch_first=batch_first,
                                norm_first=norm_first)
    tm = torch.nn.TransformerEncoderLayer(16, 4, 32, activation=activation,
                                          batch_first=batch_first, norm_first=norm_first)
    assert list(m.state_dict()) == list(tm.state_dict())
    load_from_torch(m, tm)
    m.eval()
    tm.eval()
    x = rng.standard_normal((2, 7, 16) if batch_first else (7, 2, 16)).astype(np.float32)
    kpm = np.zeros((2, 7), bool)
    kpm[1, 5:] = True
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got = m(gx, src_key_padding_mask=gk.tensor(kpm))
    want = tm(tx, src_key_padding_mask=torch.tensor(kpm))
    close(got.numpy(), want.detach().numpy(), rtol=1e-4, atol=1e-5)
    v = rng.standard_normal(got.shape).astype(np.float32)
    (got * gk.tensor(v)).sum().backward()
    (want * torch.tensor(v)).sum().backward()
    _grads_match(m, tm, [(gx, tx)])


def test_encoder_layer_dropout_is_active_only_in_training(rng):
    m = TransformerEncoderLayer(16, 4, 32, dropout=0.3)
    x = gk.tensor(rng.standard_normal((5, 2, 16)).astype(np.float32))
    assert not np.allclose(m(x).numpy(), m(x).numpy())
    m.eval()
    close(m(x).numpy(), m(x).numpy(), rtol=0, atol=0)


def test_encoder_deep_copies_layers_and_loads_torch_both_ways(torch, rng):
    enc = TransformerEncoder(TransformerEncoderLayer(16, 4, 32), 3, norm=LayerNorm(16))
    tenc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(16, 4, 32), 3,
                                       norm=torch.nn.LayerNorm(16), enable_nested_tensor=False)
    assert list(enc.state_dict()) == list(tenc.state_dict())
    assert len(enc.layers) == 3
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    load_from_torch(enc, tenc)
    enc.eval()
    tenc.eval()
    x = rng.standard_normal((7, 2, 16)).astype(np.float32)
    causal = np.triu(np.ones((7, 7), bool), 1)
    close(enc(gk.tensor(x), mask=gk.tensor(causal)).numpy(),
          tenc(torch.tensor(x), mask=torch.tensor(causal)).detach().numpy(),
          rtol=1e-4, atol=1e-5)
    tenc.load_state_dict(torch_state(torch, enc))  # gradkit -> torch
    close(enc(gk.tensor(x)).numpy(), tenc(torch.tensor(x)).detach().numpy(),
          rtol=1e-4, atol=1e-5)


def test_scaled_dot_product_attention_fully_masked_row_and_errors(torch, rng):
    q, k, v = (gk.tensor(rng.standard_normal(s).astype(np.float32))
               for s in [(2, 3, 4), (2, 5, 4), (2, 5, 4)])
    mask = np.ones((3, 5), bool)
    mask[1] = False
    got = scaled_dot_product_attention(q, k, v, attn_mask=gk.tensor(mask))
    want = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(t.numpy()) for t in (q, k, v)), attn_mask=torch.tensor(mask))
    close(got.numpy(), want.numpy())
    assert not got.numpy()[:, 1].any()
    with pytest.raises(ValueError, match="not both"):
        scaled_dot_product_attention(q, k, v, attn_mask=gk.tensor(mask), is_causal=True)
    with pytest.raises(ValueError, match="do not fit"):
        scaled_dot_product_attention(q, k, gk.zeros((2, 4, 4)))
    p = scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert not p.numpy().any()


def test_sinusoidal_positional_encoding():
    pe = sinusoidal_positional_encoding(50, 7).numpy()
    assert pe.shape == (50, 7) and pe.dtype == np.float32
    pos, i = 13, 2
    close(pe[pos, 2 * i], np.sin(pos / 10000 ** (2 * i / 7)), rtol=1e-6)
    close(pe[pos, 2 * i + 1], np.cos(pos / 10000 ** (2 * i / 7)), rtol=1e-6)
    assert (pe[0, 0::2] == 0).all() and (pe[0, 1::2] == 1).all()


def test_pad_sequence_matches_pytorch_and_masks_padding(torch):
    seqs = [np.arange(3), np.arange(5), np.arange(1)]
    for batch_first in (False, True):
        for side in ("right", "left"):
            got = pad_sequence([gk.tensor(s) for s in seqs], batch_first, -1, side)
            want = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs],
                                                   batch_first, -1, side)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    xs = [gk.tensor(np.ones((n, 2), np.float32), requires_grad=True) for n in (2, 4)]
    out = pad_sequence(xs, batch_first=True)
    (out * 3).sum().backward()
    close(xs[0].grad.numpy(), np.full((2, 2), 3.0))
    np.testing.assert_array_equal(padding_mask(gk.tensor([2, 4])).numpy(),
                                  [[False, False, True, True], [False] * 4])


def test_attention_on_device(device, rng):
    m = TransformerEncoderLayer(16, 4, 32, dropout=0.0)
    x = rng.standard_normal((6, 2, 16)).astype(np.float32)
    want = m(gk.tensor(x)).numpy()
    m.to(device)
    got = m(gk.tensor(x, device=device))
    assert got.device.split(":")[0] == device
    close(got.numpy(), want, rtol=1e-4, atol=1e-5)
