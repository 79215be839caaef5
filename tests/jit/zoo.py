"""Models beyond MLPs for the gk.compile tests: CNNs, recurrent nets, batch norm, dropout,
and a random model builder (the property test). Each run trains a fresh model eagerly or
compiled on the same batches and returns what the comparison needs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import gradkit as gk
from gradkit import nn
from gradkit.jit import compile as jit_compile

from .helpers import OPTIMIZERS, step_fn


class RecurrentNet(nn.Module):
    """A recurrent layer (batch first) and a Linear head on the last step's output."""

    def __init__(self, rnn: nn.Module, classes: int, embed: int = 0) -> None:
        super().__init__()
        self.embed = nn.Embedding(embed, rnn.input_size) if embed else None
        self.rnn = rnn
        width = rnn.hidden_size * (2 if rnn.bidirectional else 1)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        if self.embed is not None:
            x = self.embed(x)
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


@dataclass
class Spec:
    """How to build a model and its data: `make()` the layers, `shape` of one example,
    `classes` of the labels, integer token inputs below `tokens` when it is not 0."""

    make: object
    shape: tuple
    classes: int
    tokens: int = 0
    extra: dict = field(default_factory=dict)


def _cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, stride=2), nn.Tanh(),
                         nn.Flatten(), nn.Dropout(0.25), nn.Linear(6, 3))


def _lenet() -> nn.Module:
    return nn.Sequential(nn.Conv2d(2, 6, 3), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(6, 8, 2),
                         nn.ReLU(), nn.Flatten(), nn.Linear(8 * 2 * 2, 16), nn.ReLU(),
                         nn.Linear(16, 4))


def _mlp_bn() -> nn.Module:
    return nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3),
                         nn.Linear(16, 3))


def _cnn_checked() -> nn.Module:
    # Linear checks its flattened input for NaN after BatchNorm wrote its stats: that check
    # moves before the writes, with the max pool's in-place maximum and the mask read before
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3 * 3 * 3, 2))


ZOO = {
    "cnn_bn_pool_dropout": Spec(_cnn, (1, 8, 8), 3),
    "cnn_bn_maxpool_checked": Spec(_cnn_checked, (2, 8, 8), 2),
    "lenet_avgpool": Spec(_lenet, (2, 9, 9), 4),
    "mlp_batchnorm_dropout": Spec(_mlp_bn, (5,), 3),
    "lstm": Spec(lambda: RecurrentNet(nn.LSTM(3, 8, batch_first=True), 2), (6, 3), 2),
    "lstm_2layer_bidir_dropout": Spec(lambda: RecurrentNet(
        nn.LSTM(3, 6, num_layers=2, bidirectional=True, dropout=0.3, batch_first=True), 2),
        (5, 3), 2),
    "gru": Spec(lambda: RecurrentNet(nn.GRU(4, 6, batch_first=True), 3), (5, 4), 3),
}


def batches(spec: Spec, steps: int, batch: int, seed: int = 0) -> list:
    """`steps` (inputs, labels) pairs of plain arrays."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        if spec.tokens:
            x = rng.integers(0, spec.tokens, (batch, *spec.shape))
        else:
            x = rng.standard_normal((batch, *spec.shape)).astype(np.float32)
        out.append((x, rng.integers(0, spec.classes, batch)))
    return out


def run(make, opt_name: str, data: list, compiled: bool, seed: int = 1, evaluate: bool = False):
    """(model, optimizer, the losses (and eval outputs), the compiled step or None)."""
    gk.manual_seed(seed)
    model = make()
    opt = OPTIMIZERS[opt_name](model.parameters())
    loss_fn = nn.CrossEntropyLoss()

    step = step_fn(model, opt, loss_fn)

    def predict(x):
        with gk.no_grad():
            return model(x)

    f = jit_compile(step) if compiled else step
    g = jit_compile(predict) if compiled else predict
    seen: list = []
    for x, y in data:
        model.train()
        seen.append(f(gk.tensor(x), gk.tensor(y)).item())
        if evaluate:
            model.eval()
            seen.append(g(gk.tensor(x)).data.tobytes())
    return model, opt, seen, (f, g) if compiled else None


def same_model_state(a: nn.Module, b: nn.Module) -> None:
    """Parameters and buffers (running stats, counters) are bitwise equal."""
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert np.asarray(sa[k]).tobytes() == np.asarray(sb[k]).tobytes(), k
    for p, q in zip(a.parameters(), b.parameters()):
        assert (p.grad is None) == (q.grad is None)
        if p.grad is not None:
            assert p.grad.data.tobytes() == q.grad.data.tobytes()


def same_optimizer_state(a_model, a_opt, b_model, b_opt) -> None:
    for p, q in zip(a_model.parameters(), b_model.parameters()):
        sa, sb = a_opt.state.get(p, {}), b_opt.state.get(q, {})
        assert sa.keys() == sb.keys()
        for k in sa:
            va, vb = sa[k], sb[k]
            assert (va.tobytes() == vb.tobytes()) if hasattr(va, "tobytes") else va == vb
