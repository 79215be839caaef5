"""RNN, LSTM, GRU and their cells against PyTorch (copied weights): outputs, final states and
the gradients of the input, the initial states and every parameter; state dicts both ways;
initialisation, dropout, errors, the fused graph, and a tiny sequence task that trains."""

import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit.nn.embedding import Embedding
from gradkit.nn.layers import Linear
from gradkit.nn.module import Module
from gradkit.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from gradkit.ops.neural import cross_entropy

from .helpers import close, load_from_torch, torch_state

MODES = {
    "lstm": (LSTM, "LSTM", {}),
    "gru": (GRU, "GRU", {}),
    "rnn_tanh": (RNN, "RNN", {}),
    "rnn_relu": (RNN, "RNN", {"nonlinearity": "relu"}),
}
CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2),
    dict(num_layers=1, bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(num_layers=2, batch_first=True, bias=False),
]
I, H, T, N = 4, 5, 6, 3


def _pair(torch, mode, **cfg):
    cls, tname, extra = MODES[mode]
    tm = getattr(torch.nn, tname)(I, H, **extra, **cfg)
    m = cls(I, H, **extra, **cfg)
    load_from_torch(m, tm)
    return m, tm


def _inputs(rng, cfg, lstm: bool):
    d = 2 if cfg.get("bidirectional") else 1
    x = rng.standard_normal((N, T, I) if cfg.get("batch_first") else (T, N, I))
    states = [rng.standard_normal((cfg["num_layers"] * d, N, H)) for _ in range(2 if lstm else 1)]
    return [a.astype(np.float32) for a in [x, *states]]


def _run(m, lib, arrays, lstm: bool, make):
    ts = [make(a) for a in arrays]
    hx = (ts[1], ts[2]) if lstm else ts[1]
    out, fin = m(ts[0], hx)
    finals = list(fin) if lstm else [fin]
    return ts, out, finals


@pytest.mark.parametrize("cfg", CONFIGS, ids=[str(c) for c in CONFIGS])
@pytest.mark.parametrize("mode", list(MODES))
def test_matches_pytorch_outputs_states_and_all_gradients(torch, rng, mode, cfg):
    m, tm = _pair(torch, mode, **cfg)
    lstm = mode == "lstm"
    arrays = _inputs(rng, cfg, lstm)
    gts, got, gfin = _run(m, gk, arrays, lstm, lambda a: gk.tensor(a, requires_grad=True))
    tts, want, tfin = _run(tm, torch, arrays, lstm,
                           lambda a: torch.tensor(a, requires_grad=True))
    close(got.numpy(), want.detach().numpy(), msg="output")
    for g, t in zip(gfin, tfin):
        close(g.numpy(), t.detach().numpy(), msg="final state")
    vs = [np.random.default_rng(k).standard_normal(r.shape).astype(np.float32)
          for k, r in enumerate([got] + gfin)]
    sum((r * gk.tensor(v)).sum() for r, v in zip([got] + gfin, vs)).backward()
    sum((r * torch.tensor(v)).sum() for r, v in zip([want] + tfin, vs)).backward()
    for k, (g, t) in enumerate(zip(gts, tts)):
        close(g.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5, msg=f"input {k}")
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        close(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.parametrize("mode", list(MODES))
def test_state_dict_names_match_and_load_both_ways(torch, rng, mode):
    cfg = dict(num_layers=2, bidirectional=True)
    cls, tname, extra = MODES[mode]
    m = cls(I, H, **extra, **cfg)
    tm = getattr(torch.nn, tname)(I, H, **extra, **cfg)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert "weight_ih_l1_reverse" in m.state_dict()
    tm.load_state_dict(torch_state(torch, m))  # gradkit -> torch
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    out, _ = m(gk.tensor(x))
    close(out.numpy(), tm(torch.tensor(x))[0].detach().numpy())
    m2 = cls(I, H, **extra, **cfg)
    load_from_torch(m2, tm)  # torch -> gradkit
    close(m2(gk.tensor(x))[0].numpy(), out.numpy(), rtol=0, atol=0)


@pytest.mark.parametrize("mode", list(MODES))
def test_initialisation_is_uniform_within_one_over_sqrt_hidden(mode):
    cls, _, extra = MODES[mode]
    m = cls(30, 64, num_layers=2, **extra)
    bound = 1 / np.sqrt(64)
    values = np.concatenate([p.numpy().ravel() for p in m.parameters()])
    assert values.dtype == np.float32 and np.abs(values).max() <= bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.01 * bound


def test_unbatched_input_and_default_zero_states(torch, rng):
    m, tm = _pair(torch, "lstm", num_layers=2)
    x = rng.standard_normal((T, I)).astype(np.float32)
    out, (h, c) = m(gk.tensor(x))
    tout, (th, tc) = tm(torch.tensor(x))
    assert out.shape == (T, H) and h.shape == (2, H) and c.shape == (2, H)
    for a, b in ((out, tout), (h, th), (c, tc)):
        close(a.numpy(), b.detach().numpy())
    zeros = gk.zeros((2, 1, H))
    out2, _ = m(gk.tensor(x[:, None]), (zeros, zeros))
    close(out2.numpy()[:, 0], out.numpy(), rtol=0, atol=0)


def test_inter_layer_dropout_only_in_training(torch, rng):
    m, tm = _pair(torch, "gru", num_layers=3, dropout=0.5)
    x = gk.tensor(rng.standard_normal((T, N, I)).astype(np.float32))
    m.train()
    a, b = m(x)[0].numpy(), m(x)[0].numpy()
    assert not np.allclose(a, b)  # a new dropout mask each call
    m.eval()
    tm.eval()
    close(m(x)[0].numpy(), tm(torch.tensor(x.numpy()))[0].detach().numpy())


@pytest.mark.parametrize("cell,tname", [(LSTMCell, "LSTMCell"), (GRUCell, "GRUCell"),
                                        (RNNCell, "RNNCell")])
def test_cells_match_pytorch(torch, rng, cell, tname):
    m, tm = cell(I, H), getattr(torch.nn, tname)(I, H)
    load_from_torch(m, tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    x = rng.standard_normal((N, I)).astype(np.float32)
    h = rng.standard_normal((N, H)).astype(np.float32)
    gx, gh = gk.tensor(x, requires_grad=True), gk.tensor(h, requires_grad=True)
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    hx, thx = ((gh, gh * 0.5), (th, th * 0.5)) if cell is LSTMCell else (gh, th)
    got, want = m(gx, hx), tm(tx, thx)
    got = got[0] + got[1] if cell is LSTMCell else got
    want = want[0] + want[1] if cell is LSTMCell else want
    close(got.numpy(), want.detach().numpy())
    got.sum().backward()
    want.sum().backward()
    close(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    close(gh.grad.numpy(), th.grad.numpy(), rtol=1e-4, atol=1e-5)
    one = m(gk.tensor(x[0]))
    close((one[0] if cell is LSTMCell else one).numpy(),
          (tm(torch.tensor(x[0]))[0] if cell is LSTMCell else tm(torch.tensor(x[0]))).detach()
          .numpy())


def test_one_fused_node_per_layer_and_direction():
    m = LSTM(I, H, num_layers=2, bidirectional=True)
    out, _ = m(gk.tensor(np.ones((T, N, I), np.float32)))
    ops, stack = [], [out]
    seen = set()
    while stack:
        t = stack.pop()
        if id(t) in seen or t._op is None:
            continue
        seen.add(id(t))
        ops.append(t._op)
        stack.extend(t._parents)
    assert ops.count("lstm") == 4 and len(ops) < 12, ops


@pytest.mark.parametrize("mode", list(MODES))
def test_backward_twice_with_retain_graph_and_final_states_alone(torch, rng, mode):
    m, tm = _pair(torch, mode, num_layers=2, bidirectional=True)
    lstm = mode == "lstm"
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gfin, tfin = m(gx)[1], tm(tx)[1]
    gloss = ((gfin[1] * gfin[1]).sum() + gfin[0].sum()) if lstm else (gfin * gfin).sum()
    tloss = ((tfin[1] * tfin[1]).sum() + tfin[0].sum()) if lstm else (tfin * tfin).sum()
    gloss.backward(retain_graph=True)
    gloss.backward()
    (2 * tloss).backward()
    close(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        close(p.grad.numpy(), tparams[name].grad.numpy(), rtol=1e-4, atol=1e-5, msg=name)


def test_long_sequence_bidirectional_lstm_matches_pytorch(torch, rng):
    """Long enough that the forward pass forms its saved values in several blocks."""
    m, tm = _pair(torch, "lstm", bidirectional=True)
    x = rng.standard_normal((45, 2, I)).astype(np.float32)
    gx, tx = gk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (got, (_, gc)), (want, (_, tc)) = m(gx), tm(tx)
    close(got.numpy(), want.detach().numpy())
    ((got * got).sum() + gc.sum()).backward()
    ((want * want).sum() + tc.sum()).backward()
    close(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    close(m.weight_hh_l0_reverse.grad.numpy(), tm.weight_hh_l0_reverse.grad.numpy(),
          rtol=1e-4, atol=1e-5)


def test_graphs_alive_together_keep_their_own_buffers(rng):
    m = LSTM(I, H)
    xs = [gk.tensor(rng.standard_normal((T, N, I)).astype(np.float32)) for _ in range(3)]
    want = []
    for x in xs:  # one at a time: each graph freed before the next step
        m.zero_grad()
        m(x)[0].sum().backward()
        want.append(m.weight_hh_l0.grad.numpy().copy())
    outs = [m(x)[0] for x in xs]  # three graphs alive at once, then walked in reverse
    for out, w in reversed(list(zip(outs, want))):
        m.zero_grad()
        out.sum().backward()
        close(m.weight_hh_l0.grad.numpy(), w, rtol=0, atol=0)


def test_gradcheck_float64_two_layer_bidirectional():
    m = LSTM(2, 3, num_layers=2, bidirectional=True, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((3, 2, 2))
    assert gk.gradcheck(lambda t: m(t)[0], x, atol=1e-6, rtol=1e-4)


def test_errors_name_the_layer(rng):
    m = LSTM(I, H, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM\(4, 5, num_layers=2\).*\(T, N, 4\)"):
        m(gk.zeros((T, N, I + 1)))
    with pytest.raises(TypeError, match="Embedding"):
        m(gk.tensor(np.zeros((T, N, I), np.int64)))
    with pytest.raises(ValueError, match=r"initial state of shape \(1, 3, 5\).*\(2, 3, 5\)"):
        m(gk.zeros((T, N, I)), (gk.zeros((1, N, H)), gk.zeros((1, N, H))))
    with pytest.raises(TypeError, match="tuple"):
        m(gk.zeros((T, N, I)), gk.zeros((2, N, H)))
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(I, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        GRU(I, 0)
    with pytest.warns(UserWarning, match="num_layers=1"):
        GRU(I, H, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GRU(I, H, num_layers=2, dropout=0.2)


def test_layer_on_device_matches_cpu(device, rng):
    m = LSTM(I, H, num_layers=2, bidirectional=True)
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    want, _ = m(gk.tensor(x))
    m.to(device)
    got, (h, c) = m(gk.tensor(x, device=device))
    assert got.device.split(":")[0] == device
    close(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


class _Classifier(Module):
    """Embedding -> LSTM -> Linear on the last hidden state."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.emb = Embedding(vocab, 8)
        self.lstm = LSTM(8, 16, batch_first=True)
        self.head = Linear(16, 2)

    def forward(self, tokens):
        _, (h, _) = self.lstm(self.emb(tokens))
        return self.head(h[0])


def test_lstm_classifier_learns_whether_a_sequence_contains_a_token():
    gk.manual_seed(0)
    data = np.random.default_rng(0)
    x = data.integers(1, 6, size=(512, 12))
    hit = data.random(512) < 0.5
    x[hit, data.integers(0, 12, size=int(hit.sum()))] = 0  # token 0 present in half
    y = (x == 0).any(axis=1).astype(np.int64)
    model = _Classifier(6)
    opt = gk.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _epoch in range(12):
        for b in range(0, 512, 64):
            opt.zero_grad()
            loss = cross_entropy(model(gk.tensor(x[b:b + 64])), gk.tensor(y[b:b + 64]))
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert np.mean(losses[-8:]) < 0.5 * np.mean(losses[:8])
    model.eval()
    with gk.no_grad():
        acc = (model(gk.tensor(x)).numpy().argmax(axis=1) == y).mean()
    assert acc > 0.9, acc
