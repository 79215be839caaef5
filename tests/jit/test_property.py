"""Property test: random models (MLPs, CNNs, recurrent nets; random widths, activations,
batch norm, dropout, optimizer, batch size) trained eagerly and compiled give the same
losses, parameters, buffers, gradients and optimizer state bit for bit, and every call
after the trace is a replay. Hypothesis draws the models when it is installed; otherwise
a fixed set of seeds does."""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from gradkit import nn
from gradkit.jit import CompileWarning

from .helpers import OPTIMIZERS
from .zoo import RecurrentNet, Spec, batches, run, same_model_state, same_optimizer_state

Choose = Callable[[Sequence[Any]], Any]
_ACTS = [nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.GELU, nn.ELU, nn.Softplus]


def _mlp(choose: Choose) -> Spec:
    width, classes = choose([2, 3, 5]), choose([2, 3, 4])
    widths = [width] + [choose([1, 4, 9, 16]) for _ in range(choose([0, 1, 2, 3]))]
    plan = [(choose(_ACTS), choose([False, True]), choose([0.0, 0.2, 0.5]))
            for _ in widths[1:]]

    def make() -> nn.Module:
        layers: list = []
        for (i, o), (act, norm, p) in zip(zip(widths, widths[1:]), plan):
            layers += [nn.Linear(i, o)] + ([nn.BatchNorm1d(o)] if norm else []) + [act()]
            layers += [nn.Dropout(p)] if p else []
        return nn.Sequential(*layers, nn.Linear(widths[-1], classes))

    return Spec(make, (width,), classes)


def _cnn(choose: Choose) -> Spec:
    channels, size, classes = choose([1, 2, 3]), choose([6, 7, 9]), choose([2, 3])
    out, k, stride, pad = choose([2, 4]), choose([1, 2, 3]), choose([1, 2]), choose([0, 1])
    norm, act, pool = choose([False, True]), choose(_ACTS), choose([None, "max", "avg"])
    p = choose([0.0, 0.3])
    side = (size + 2 * pad - k) // stride + 1
    side = side // 2 if pool else side

    def make() -> nn.Module:
        layers: list = [nn.Conv2d(channels, out, k, stride=stride, padding=pad)]
        layers += ([nn.BatchNorm2d(out)] if norm else []) + [act()]
        layers += {None: [], "max": [nn.MaxPool2d(2)], "avg": [nn.AvgPool2d(2)]}[pool]
        layers += [nn.Flatten()] + ([nn.Dropout(p)] if p else [])
        return nn.Sequential(*layers, nn.Linear(out * side * side, classes))

    return Spec(make, (channels, size, size), classes)


def _rnn(choose: Choose) -> Spec:
    kind, width, hidden = choose([nn.LSTM, nn.GRU, nn.RNN]), choose([1, 3]), choose([2, 5])
    layers, bidir, steps = choose([1, 2]), choose([False, True]), choose([1, 2, 4])
    p = choose([0.0, 0.25]) if layers > 1 else 0.0
    classes = choose([2, 3])
    return Spec(lambda: RecurrentNet(kind(width, hidden, num_layers=layers, bidirectional=bidir,
                                          dropout=p, batch_first=True), classes),
                (steps, width), classes)


def check_random_model(choose: Choose) -> None:
    spec = choose([_mlp, _cnn, _rnn])(choose)
    opt_name = choose(sorted(OPTIMIZERS))
    data = batches(spec, choose([3, 5]), choose([2, 5, 8]), seed=choose([0, 1]))
    evaluate = choose([False, True])  # an eval-mode prediction after each step
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        compiled = run(spec.make, opt_name, data, True, evaluate=evaluate)
    eager = run(spec.make, opt_name, data, False, evaluate=evaluate)
    assert compiled[2] == eager[2]
    same_model_state(eager[0], compiled[0])
    same_optimizer_state(eager[0], eager[1], compiled[0], compiled[1])
    f = compiled[3][0]
    assert f.traces == 1 and len(f.plans) == 1 and f.plans[0].fallbacks == 0


try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError:  # seeded random generation instead
    @pytest.mark.parametrize("seed", range(12))
    def test_random_models_compiled_equal_eager(seed):
        rng = random.Random(seed)
        check_random_model(lambda options: rng.choice(list(options)))
else:
    @settings(max_examples=30, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def test_random_models_compiled_equal_eager(data):
        check_random_model(lambda options: data.draw(st.sampled_from(list(options))))
