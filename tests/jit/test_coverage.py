"""gk.compile beyond MLPs: CNNs (Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d), LSTM and GRU,
dropout and batch norm, under every optimizer: the compiled run's parameters, buffers,
gradients, optimizer state and losses equal the eager run's bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.jit import CompileWarning, TraceError
from gradkit.jit import compile as jit_compile

from .helpers import OPTIMIZERS, step_fn
from .zoo import ZOO, RecurrentNet, Spec, batches, run, same_model_state, same_optimizer_state


def _both(spec: Spec, opt_name: str, steps: int = 6, batch: int = 8, evaluate: bool = False):
    data = batches(spec, steps, batch)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)  # no fallback to eager allowed
        compiled = run(spec.make, opt_name, data, True, evaluate=evaluate)
    eager = run(spec.make, opt_name, data, False, evaluate=evaluate)
    assert compiled[2] == eager[2]
    same_model_state(eager[0], compiled[0])
    same_optimizer_state(eager[0], eager[1], compiled[0], compiled[1])
    return compiled


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("model_name", sorted(ZOO))
def test_compiled_equals_eager_bitwise(model_name, opt_name):
    f, _ = _both(ZOO[model_name], opt_name)[3]
    assert f.traces == 1 and len(f.plans) == 1
    assert f.plans[0].fallbacks == 0  # every call after the trace was a replay
    assert "Tensor" not in f.plans[0].source


@pytest.mark.parametrize("model_name", ["cnn_bn_pool_dropout", "lstm", "mlp_batchnorm_dropout"])
def test_train_and_eval_steps_alternate_exactly(model_name):
    """train() and eval() each get their plan (BatchNorm uses its running stats in eval,
    dropout is off) and both replay from then on."""
    f, g = _both(ZOO[model_name], "adam", steps=5, evaluate=True)[3]
    assert len(f.plans) == 1 and f.plans[0].fallbacks == 0
    assert len(g.plans) == 1 and g.plans[0].fallbacks == 0


def test_batchnorm_running_stats_and_counter_are_replayed():
    spec = ZOO["cnn_bn_pool_dropout"]
    model = _both(spec, "sgd", steps=7)[0]
    bn = model[1]
    assert int(bn.num_batches_tracked.data) == 7
    assert not np.allclose(bn.running_mean.data, 0)


def _bad_labels_after_batchnorm(compiled: bool):
    spec = ZOO["mlp_batchnorm_dropout"]
    gk.manual_seed(1)
    model = spec.make()
    opt = gk.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()

    step = step_fn(model, opt, loss_fn)

    f = jit_compile(step) if compiled else step
    data = batches(spec, 3, 8)
    for x, y in data:
        f(gk.tensor(x), gk.tensor(y))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        f(gk.tensor(data[0][0]), gk.tensor(np.full(8, 7)))
    f(gk.tensor(data[1][0]), gk.tensor(data[1][1]))
    return model, f


def test_a_data_check_after_batchnorm_wrote_its_stats_is_moved_before_the_writes():
    """The label check of the loss runs after BatchNorm updated its running stats (state);
    it does not depend on them, so the replay checks it before any write, and bad labels
    run the call eagerly: the eager error, and the stats updated once, as in eager mode."""
    (eager, _), (compiled, f) = _bad_labels_after_batchnorm(False), \
        _bad_labels_after_batchnorm(True)
    same_model_state(eager, compiled)
    # the bad call fell back (its zero_grad left no gradients: the next call's signature)
    assert sum(p.fallbacks for p in f.plans) == 1


def test_a_value_read_that_depends_on_the_update_still_raises():
    gk.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = gk.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()

    @jit_compile
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if bool((model[1].running_mean > 10).any()):  # reads what the step wrote
            print("large")
        return loss

    x, y = gk.tensor(np.ones((4, 3), np.float32)), gk.tensor(np.array([0, 1, 0, 1]))
    step(x, y)
    step(x, y)  # eager: the first call with gradients is a new signature
    with pytest.raises(TraceError, match="after the step wrote parameters"):
        step(x, y)


def test_embedding_backward_checks_its_value_dependent_shapes():
    """Embedding's gradient sorts the token ids and sums per distinct id: a result whose
    length depends on the values. The replay checks that length and runs the call eagerly
    when it changed, so the numbers stay the eager ones."""
    spec = Spec(lambda: RecurrentNet(nn.LSTM(3, 5, batch_first=True), 2, embed=12), (4,), 2,
                tokens=12)
    data = batches(spec, 8, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        compiled = run(spec.make, "adam", data, True)
    eager = run(spec.make, "adam", data, False)
    assert compiled[2] == eager[2]
    same_model_state(eager[0], compiled[0])
    f = compiled[3][0]
    assert f.plans and any(g[1] == "shape" and g[2][0] is np.flatnonzero
                           for g in f.plans[0].guards)


def _masked(compiled: bool):
    gk.manual_seed(0)
    model = nn.Linear(3, 4)
    opt = gk.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        out = model(x)
        loss = (out[out > 0] ** 2).sum()  # how many entries: known only from the values
        loss.backward()
        opt.step()
        return loss

    f = jit_compile(step) if compiled else step
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(12)]
    return [f(gk.tensor(x)).item() for x in xs], model, f


def test_a_boolean_mask_replays_while_its_count_holds_and_warns_when_it_keeps_changing():
    eager = _masked(False)
    with pytest.warns(CompileWarning, match=r"shape of a result that depends on values.*"
                                            r"getitem.*boolean masks"):
        compiled = _masked(True)
    assert compiled[0] == eager[0]
    same_model_state(eager[1], compiled[1])
    assert compiled[2].plans[0].fallbacks >= 8


def test_large_products_replay_through_the_gemm_seam_as_the_eager_step_does():
    """The ops' matrix products go through `backend.gemm.matmul` (a faster BLAS when one is
    installed and measured faster); the plan records that seam, not np.matmul, so the
    compiled step runs the same library and gives the same bits."""
    from gradkit.backend import gemm

    spec = Spec(lambda: nn.Sequential(nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 4)),
                (256,), 4)
    data = batches(spec, 4, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        compiled = run(spec.make, "adam", data, True)
    eager = run(spec.make, "adam", data, False)
    assert compiled[2] == eager[2]
    same_model_state(eager[0], compiled[0])
    plan = compiled[3][0].plans[0]
    seam = [e for e in plan.entries if e[0] == "call" and e[1] is gemm.matmul]
    assert len(seam) >= 4  # 256x256 forward, its two backward products, the head's
