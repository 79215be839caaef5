"""gk.viz.draw_graph of a compiled step: the replayed plan as a graph, fused nodes marked."""

from __future__ import annotations

import pytest

import gradkit as gk
from gradkit.backend import fusion
from gradkit.jit import compile as jit_compile

from .helpers import data, setup, step_fn


def _compiled(opt_name: str = "sgd", calls: int = 3):
    model, opt, loss_fn, width, classes = setup("tanh_2_10_2", opt_name)
    x, y = data(width, classes)
    f = jit_compile(step_fn(model, opt, loss_fn))
    for _ in range(calls):
        f(gk.tensor(x[:16]), gk.tensor(y[:16]))
    return model, f


def test_the_plan_of_the_lessons_network_is_drawn_with_its_parameters_and_checks():
    model, f = _compiled()
    g = gk.viz.draw_graph(f, names=model, engine="builtin")
    labels = [n.lines for n in g.nodes]
    kinds = {n.kind for n in g.nodes}
    assert kinds == {"input", "param", "op", "fused", "output"}
    params = sorted(n.lines[0].split()[0] for n in g.nodes if n.kind == "param")
    assert params == ["0.bias", "0.weight", "2.bias", "2.weight"]
    ops = [lines[0] for lines in labels]
    assert ops.count("matmul") == 5  # 2 forward, 3 backward (no gradient for the input)
    assert "tanh" in ops and "exp" in ops
    fused = [n for n in g.nodes if n.kind == "fused" and n.lines[0] != "fused loop"]
    # the NaN check and the label check
    assert [n.lines[0] for n in fused] == ["fused check"] * 2
    assert any("isfinite(add.reduce" in n.lines[1] for n in fused)
    keys = {n.key for n in g.nodes}
    assert all(p in keys for n in g.nodes for p in n.parents)
    first = next(n for n in g.nodes if n.lines[0] == "matmul")  # x @ W.T reads x and W
    parents = {m.key: m for m in g.nodes}
    assert sorted(parents[p].kind for p in first.parents) == ["input", "param"]
    updates = [n for n in g.nodes if (n.lines[0] == "subtract" or n.lines[0] == "fused loop"
                                      and n.lines[2] == "multiply · subtract") and any(
        parents[p].kind == "param" for p in n.parents)]
    # SGD's in-place update of every parameter, merged into one call (jit/merge.py), its
    # two ops one loop where Numba is installed (jit/loops.py)
    assert len(updates) == 1 and updates[0].lines[1] == "(52,)"
    assert updates[0].kind == ("fused" if fusion.enabled() else "op")
    assert sorted(parents[p].lines[0].split()[0] for p in updates[0].parents
                  if parents[p].kind == "param") == params


def test_the_plan_is_written_as_svg_dot_and_png(tmp_path):
    model, f = _compiled("adam")
    g = gk.viz.draw_graph(f.plans[0], tmp_path / "plan.svg", names=model, engine="builtin")
    svg = (tmp_path / "plan.svg").read_text()
    assert svg.startswith("<svg") and 'class="node fused"' in svg and "lr" in svg
    g.save(tmp_path / "plan.dot")
    assert "fused check" in (tmp_path / "plan.dot").read_text()
    pytest.importorskip("matplotlib")
    g.save(tmp_path / "plan.png")
    assert (tmp_path / "plan.png").read_bytes()[:4] == b"\x89PNG"


def test_a_function_without_a_plan_yet_says_what_to_do():
    _, f = _compiled(calls=1)
    with pytest.raises(ValueError, match="no plan yet.*call it twice"):
        gk.viz.draw_graph(f)
    with pytest.raises(TypeError, match="Tensor or a compiled function"):
        gk.viz.draw_graph([1, 2])
