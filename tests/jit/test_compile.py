"""gk.compile: compiled training steps give the eager step's numbers bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.backend import fusion
from gradkit.jit import CompileWarning, TraceError
from gradkit.jit import compile as jit_compile

from .helpers import MODELS, OPTIMIZERS, data, same_state, setup, step_fn, train


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_compiled_steps_equal_eager_bitwise(model_name, opt_name):
    eager = train(model_name, opt_name, compiled=False)
    compiled = train(model_name, opt_name, compiled=True)
    assert compiled[2] == eager[2]  # the losses of every step
    same_state(eager, compiled)
    f = compiled[3]
    assert f.traces == 1 and len(f.plans) == 1
    assert f.plans[0].fallbacks == 0
    assert "Tensor" not in f.plans[0].source  # the replay is NumPy calls on buffers only


def test_state_is_plain_arrays_after_compiled_steps():
    model, opt, _, f = train("relu_4_16_16_3", "adam", compiled=True)
    for p in model.parameters():
        assert type(p.data) is np.ndarray and type(p.grad.data) is np.ndarray
        st = opt.state[p]
        assert type(st["step"]) is int and st["step"] == 12
        assert type(st["exp_avg"]) is np.ndarray


def test_a_new_batch_size_retraces_and_stays_exact():
    sizes = [32] * 5 + [16] * 5 + [32] * 3 + [16] * 3
    eager = train("tanh_2_10_2", "momentum", compiled=False, batches=sizes)
    compiled = train("tanh_2_10_2", "momentum", compiled=True, batches=sizes)
    assert compiled[2] == eager[2]
    same_state(eager, compiled)
    assert compiled[3].traces == 2 and len(compiled[3].plans) == 2


def _run_with_lr_changes(compiled: bool):
    model, opt, loss_fn, width, classes = setup("relu_4_16_16_3", "adam")
    x, y = data(width, classes)
    step = step_fn(model, opt, loss_fn)
    f = jit_compile(step) if compiled else step
    losses = []
    for i in range(10):
        opt.lr = 1e-2 * 0.7 ** i  # an lr schedule outside the step
        losses.append(f(gk.tensor(x[i * 16:i * 16 + 16]), gk.tensor(y[i * 16:i * 16 + 16])))
    return model, opt, [float(v.item()) for v in losses], f


def test_learning_rate_and_adam_steps_stay_live_without_retracing():
    eager, compiled = _run_with_lr_changes(False), _run_with_lr_changes(True)
    assert compiled[2] == eager[2]
    same_state(eager, compiled)
    assert compiled[3].traces == 1


def test_returned_loss_is_a_copy_not_overwritten_by_the_next_replay():
    _, _, losses, _ = _run_with_lr_changes(True)
    assert len(set(losses)) == len(losses)


def test_reading_a_value_after_the_update_raises_a_clear_error():
    model, opt, loss_fn, width, classes = setup("tanh_2_10_2", "sgd")
    x, y = (gk.tensor(a[:16]) for a in data(width, classes))

    @jit_compile
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()  # a value read after the parameters were written

    step(x, y)
    step(x, y)  # warm-up calls run eagerly
    with pytest.raises(TraceError, match=r"item.*test_compile\.py:\d+.*outside"):
        step(x, y)
    for p in model.parameters():  # the trace left plain arrays behind
        assert type(p.data) is np.ndarray
    assert isinstance(opt.param_groups[0]["lr"], float)


def _branchy(compiled: bool, threshold: float, read: str, log: list | None = None):
    model, opt, loss_fn, width, classes = setup("tanh_2_10_2", "momentum")
    x, y = data(width, classes)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        big = loss.item() > threshold if read == "item" else bool(loss > threshold)
        if log is not None:
            log.append(big)
        if big:  # Python control flow on a value, before anything is written
            loss = loss * 2.0
        loss.backward()
        opt.step()
        return loss

    f = jit_compile(step) if compiled else step
    losses = [f(gk.tensor(x[i * 16:i * 16 + 16]), gk.tensor(y[i * 16:i * 16 + 16])).item()
              for i in range(24)]
    return model, opt, losses, f


def test_control_flow_on_a_value_falls_back_to_eager_when_the_branch_changes():
    branches: list[bool] = []
    eager = _branchy(False, 0.7, "bool", branches)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        compiled = _branchy(True, 0.7, "bool")
    assert compiled[2] == eager[2]
    same_state(eager, compiled)
    # call 0 and 1 run eagerly, call 2 traces (its branch is the plan's), then replays
    changed = sum(b != branches[2] for b in branches[3:])
    assert 0 < changed < len(branches) - 3
    assert compiled[3].plans[0].fallbacks == changed


def test_frequent_fallbacks_warn_and_stay_exact():
    eager = _branchy(False, 0.7, "item")
    with pytest.warns(CompileWarning, match=r"ran eagerly.*`item`.*test_compile\.py"):
        compiled = _branchy(True, 0.7, "item")
    assert compiled[2] == eager[2]
    same_state(eager, compiled)


def test_too_many_signatures_warn():
    with pytest.warns(CompileWarning, match="more than 2 signatures"):
        compiled = train("tanh_2_10_2", "sgd", compiled=True, max_signatures=2,
                         batches=[8, 16, 24, 32] * 3)
    eager = train("tanh_2_10_2", "sgd", compiled=False, batches=[8, 16, 24, 32] * 3)
    assert compiled[2] == eager[2]


def test_a_write_that_escapes_the_trace_is_caught_by_the_check():
    def run(compiled: bool):
        model, opt, loss_fn, width, classes = setup("tanh_2_10_2", "sgd")
        x, y = data(width, classes)
        w = model[0].weight

        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            np.ndarray.view(w.data, np.ndarray)[...] *= 0.5  # NumPy on a plain view
            return loss

        f = jit_compile(step) if compiled else step
        return [f(gk.tensor(x[:16]), gk.tensor(y[:16])).item() for _ in range(6)], model

    eager = run(False)
    with pytest.warns(CompileWarning, match="does not reproduce"):
        compiled = run(True)
    assert compiled[0] == eager[0]
    assert compiled[1][0].weight.data.tobytes() == eager[1][0].weight.data.tobytes()


def test_gradients_accumulate_across_calls_like_eager():
    def run(compiled: bool):
        model, opt, loss_fn, width, classes = setup("relu_3_8_1_mse", "sgd")
        x, y = data(width, classes)

        def accumulate(x, y):  # no zero_grad: .grad adds up over the calls
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss

        f = jit_compile(accumulate) if compiled else accumulate
        for i in range(7):
            f(gk.tensor(x[i * 8:i * 8 + 8]), gk.tensor(y[i * 8:i * 8 + 8]))
        return [p.grad.data.copy() for p in model.parameters()], f

    eager, (grads, f) = run(False), run(True)
    assert [g.tobytes() for g in grads] == [g.tobytes() for g in eager[0]]
    assert f.plans and f.plans[0].fallbacks == 0


def test_dropout_masks_are_drawn_fresh_on_every_replay():
    def run(compiled: bool):
        gk.manual_seed(5)
        model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3))
        opt = gk.optim.SGD(model.parameters(), lr=0.1)
        step = step_fn(model, opt, nn.CrossEntropyLoss())
        f = jit_compile(step) if compiled else step
        x, y = data(4, 3)
        return [f(gk.tensor(x[i * 16:i * 16 + 16]), gk.tensor(y[i * 16:i * 16 + 16])).item()
                for i in range(10)], model, f

    eager, compiled = run(False), run(True)
    assert compiled[0] == eager[0]
    for p, q in zip(eager[1].parameters(), compiled[1].parameters()):
        assert p.data.tobytes() == q.data.tobytes()
    assert compiled[2].plans and compiled[2].plans[0].fallbacks == 0


def test_state_given_explicitly_and_decorator_form():
    model, opt, loss_fn, width, classes = setup("tanh_2_10_2", "adam")
    x, y = data(width, classes)
    parts = {"model": model, "opt": opt}

    @jit_compile(state=[model, opt], check=False)
    def step(x, y):
        parts["opt"].zero_grad()
        loss = loss_fn(parts["model"](x), y)
        loss.backward()
        parts["opt"].step()
        return {"loss": loss, "n": 3}

    out = [step(gk.tensor(x[:16]), gk.tensor(y[:16])) for _ in range(4)]
    assert out[-1]["n"] == 3 and isinstance(out[-1]["loss"], gk.Tensor)
    assert step.traces == 1 and step.plans
    assert opt.state[model[0].weight]["step"] == 4


def test_a_compiled_function_called_inside_another_is_traced_into_it():
    model, opt, loss_fn, width, classes = setup("tanh_2_10_2", "momentum")
    x, y = data(width, classes)
    inner = jit_compile(step_fn(model, opt, loss_fn))
    outer = jit_compile(lambda a, b: inner(a, b) * 2.0)
    got = [outer(gk.tensor(x[i * 16:i * 16 + 16]), gk.tensor(y[i * 16:i * 16 + 16])).item()
           for i in range(6)]
    model2, opt2, loss_fn2, _, _ = setup("tanh_2_10_2", "momentum")
    step = step_fn(model2, opt2, loss_fn2)
    want = [(step(gk.tensor(x[i * 16:i * 16 + 16]), gk.tensor(y[i * 16:i * 16 + 16])) * 2.0)
            .item() for i in range(6)]
    assert got == want
    assert outer.plans and outer.plans[0].fallbacks == 0
    for p, q in zip(model.parameters(), model2.parameters()):
        assert p.data.tobytes() == q.data.tobytes()


def test_plan_folds_constants_and_calls_numpy_matmul_directly():
    """The lessons' 2-10-2 step: the backward seed times the mean's 1/n is folded (made once,
    at the trace), and every matrix product of these small shapes is `np.matmul` itself
    (the seam would hand them to NumPy whatever library it chose)."""
    _, _, _, f = train("tanh_2_10_2", "sgd", compiled=True)
    plan = f.plans[0]
    ns = plan.run.__globals__
    calls = [line.strip() for line in plan.source.splitlines()[1:]]
    called = [ns.get(c.split("(")[0]) for c in calls if "(" in c and "=" not in c.split("(")[0]]
    assert called.count(np.matmul) == 5  # 2 forward, 3 backward
    assert not any(getattr(c, "__module__", "") == "gradkit.backend.gemm" for c in called)
    consts = [c for c in calls if c.startswith("multiply(")
              and all(type(ns.get(a.strip(" )"))) is np.ndarray and ns[a.strip(" )")].ndim == 0
                      for a in c[len("multiply("):].split(",")[:2])]
    assert consts == []  # no product of two constants is left to run on every call


@pytest.mark.parametrize("opt_name,calls", [("sgd", 2), ("momentum", 4)])
def test_the_update_of_every_parameter_is_one_run_of_calls(opt_name, calls):
    """jit/merge.py: the optimizer's per-parameter update becomes one call per op on flat
    arrays (the parameters are views of one array), and the numbers stay eager's."""
    eager = train("tanh_2_10_2", opt_name, compiled=False)
    compiled = train("tanh_2_10_2", opt_name, compiled=True)
    assert compiled[2] == eager[2]
    same_state(eager, compiled)
    plan = compiled[3].plans[0]
    flat = [line for line in plan.source.splitlines() if "[52]" in line or "(52," in line]
    ns = plan.run.__globals__
    sizes = {ns[k].size for line in plan.source.splitlines()[1:] for k in
             line.replace("(", " ").replace(",", " ").replace(")", " ").split()
             if k in ns and isinstance(ns[k], np.ndarray) and ns[k].ndim and
             ns[k].size == ns[k].shape[-1]}
    assert 52 in sizes, flat  # 2*10 + 10 + 10*2 + 2 parameters side by side
    update = [line.strip().split("(")[0] for line in plan.source.splitlines()
              if any(isinstance(ns.get(k), np.ndarray) and ns[k].size == 52 for k in
                     line.replace("(", " ").replace(",", " ").replace(")", " ").split())]
    assert len(update) == (1 if fusion.enabled() else calls)  # jit/loops.py: one loop
    model = compiled[0]
    base = {id(p.data.base) for p in model.parameters()}
    assert len(base) == 1 and None not in base  # views of one flat array


class _Trainer:
    """A step kept as a method, its first batch held in an attribute (as trainers do)."""

    def __init__(self, x, y) -> None:
        gk.manual_seed(0)
        self.model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        self.opt = gk.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)
        self.fixed = (gk.tensor(x), gk.tensor(y))

    def step(self, xb, yb):
        self.opt.zero_grad()
        loss = nn.functional.cross_entropy(self.model(xb), yb)
        loss.backward()
        self.opt.step()
        return loss


def test_a_batch_the_step_also_holds_in_an_attribute_is_still_an_input():
    x, y = data(4, 3)
    eager, compiled = _Trainer(x[:16], y[:16]), _Trainer(x[:16], y[:16])
    f = jit_compile(compiled.step)
    for t, run in ((eager, eager.step), (compiled, f)):
        for _ in range(3):
            run(*t.fixed)  # traced on the batch the trainer holds
        for i in range(1, 6):  # then fresh batches: the plan must read them
            run(gk.tensor(x[i * 16:i * 16 + 16]), gk.tensor(y[i * 16:i * 16 + 16]))
    assert f.traces == 1 and "_copyto" in f.plans[0].source
    for a, b in zip(eager.model.parameters(), compiled.model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_a_parameter_passed_as_an_argument_then_another_tensor_retraces():
    lin = nn.Linear(3, 3, bias=False)
    f = jit_compile(lambda w, x: (x @ w).sum() + 0 * lin.weight.sum())  # lin is state
    x = gk.tensor(np.ones((2, 3), np.float32))
    for _ in range(3):
        assert f(lin.weight, x).item() == pytest.approx(float(lin.weight.data.sum()) * 2)
    other = gk.tensor(np.full((3, 3), 2.0, np.float32), requires_grad=True)
    for _ in range(3):
        assert f(other, x).item() == pytest.approx(36.0)


def test_optimizer_options_that_are_ints_or_strings_make_no_syntax_warning():
    """The plan checks each option `is` the traced object; a literal there would warn."""
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = gk.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, dampening=0)
    opt.param_groups[0]["tag"] = "warmup"
    loss_fn = nn.CrossEntropyLoss()

    @jit_compile
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    x, y = gk.tensor(np.ones((6, 4), np.float32)), gk.tensor(np.arange(6) % 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):
            step(x, y)
    assert len(step.plans) == 1 and " is not 0:" not in step.plans[0].source
    traces = step.traces
    opt.param_groups[0]["dampening"] = 0.5  # another object: runs eagerly, then traces again
    step(x, y)
    step(x, y)
    assert step.traces == traces + 1
