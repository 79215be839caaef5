"""gradkit.viz.draw_graph: the nodes of a known expression, and valid SVG/PNG/DOT files."""

import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import gradkit as gk
from gradkit.viz import draw_graph

PNG = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"


def lesson_expression():
    a = gk.tensor([1.0, 2.0], requires_grad=True)
    b = gk.tensor([3.0, 4.0], requires_grad=True)
    return a, b, gk.mean(gk.sqrt(a ** 2 + b ** 2))


def test_nodes_and_edges_of_a_known_expression():
    a, b, c = lesson_expression()
    g = draw_graph(c, names={"a": a, "b": b})
    # a, b, two pows, add, sqrt, mean
    assert len(g) == 7 and len(g.edges) == 6
    kinds = sorted(n.kind for n in g.nodes)
    assert kinds == ["op", "op", "op", "op", "output", "param", "param"]
    ops = sorted(n.lines[0] for n in g.nodes if n.kind in ("op", "output"))
    assert ops == ["add", "mean", "pow", "pow", "sqrt"]
    assert {n.lines[0] for n in g.nodes if n.kind == "param"} == {"a", "b"}


def test_shared_inputs_are_one_node_and_constants_are_drawn():
    x = gk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = gk.tensor([0.5, 0.5, 0.5])  # a constant
    y = (x * w + x).sum()
    g = draw_graph(y)
    assert len(g) == 5  # x, w, mul, add, sum
    assert sum(n.kind == "input" for n in g.nodes) == 1


def test_gradients_appear_after_backward():
    a, b, c = lesson_expression()
    before = draw_graph(c, engine="builtin").svg()
    c.backward()
    after = draw_graph(c, names={"a": a, "b": b}, engine="builtin").svg()
    assert "grad" not in before and "grad [0.1581, 0.2236]" in after


def test_builtin_svg_is_valid_xml(tmp_path):
    a, b, c = lesson_expression()
    c.backward()
    path = tmp_path / "graph.svg"
    draw_graph(c, path, names={"a": a, "b": b}, engine="builtin")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG_NS}svg"
    groups = [g for g in root.iter(f"{SVG_NS}g") if "node" in g.get("class", "")]
    assert len(groups) == 7
    assert len(list(root.iter(f"{SVG_NS}line"))) == 6
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG_NS}text"))
    assert "sqrt" in texts and "(2,) float32" in texts


def test_builtin_png(tmp_path):
    pytest.importorskip("matplotlib")
    _, _, c = lesson_expression()
    path = tmp_path / "graph.png"
    draw_graph(c, path, engine="builtin")
    assert path.read_bytes()[:8] == PNG


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_svg_and_png(tmp_path):
    _, _, c = lesson_expression()
    g = draw_graph(c, engine="dot")
    root = ET.fromstring(g.svg())
    assert root.tag == f"{SVG_NS}svg"
    g.save(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == PNG


def test_dot_source_and_model_parameter_names(tmp_path):
    model = gk.nn.Sequential(gk.nn.Linear(4, 3), gk.nn.Tanh(), gk.nn.Linear(3, 2))
    loss = gk.nn.functional.cross_entropy(model(gk.randn(5, 4)), gk.tensor([0, 1, 0, 1, 1]))
    loss.backward()
    g = draw_graph(loss, tmp_path / "mlp.dot", names=model)
    text = (tmp_path / "mlp.dot").read_text()
    assert text.startswith("digraph") and text.count("->") == len(g.edges)
    assert "0.weight" in text and "2.bias" in text
    assert "grad (3, 4), max |g|" in text  # large gradients are summarised


def test_deep_graphs_do_not_recurse():
    x = gk.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(3000):
        y = gk.tanh(y)
    g = draw_graph(y, max_nodes=5000, engine="builtin")
    assert len(g) == 3001
    with pytest.raises(ValueError, match="more than 100 nodes"):
        draw_graph(y, max_nodes=100)


def test_bad_arguments():
    _, _, c = lesson_expression()
    with pytest.raises(TypeError, match="Tensor"):
        draw_graph(np.ones(3))
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.dot"):
        draw_graph(c).save("graph.jpg")
    with pytest.raises(ValueError, match="engine"):
        draw_graph(c, engine="tikz")


def test_repr_svg_for_notebooks():
    _, _, c = lesson_expression()
    g = draw_graph(c, engine="builtin")
    assert g._repr_svg_().lstrip().startswith("<svg") and "7 nodes" in repr(g)
