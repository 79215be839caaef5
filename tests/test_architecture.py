"""The architecture as contracts (docs/architecture.md): layers point down, no import cycle,
no gradkit import hidden inside a function, small files and functions, and every public name
of the API snapshot still reachable."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import pytest

import gradkit as gk

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gradkit"
SOURCES = sorted(PACKAGE.rglob("*.py"))
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _import_graph():
    grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter (test extra)")
    return grimp.build_graph("gradkit", exclude_type_checking_imports=True)


def test_layer_contracts_hold(monkeypatch):
    cli = pytest.importorskip("importlinter.cli", reason="import-linter is in the test extra")
    monkeypatch.chdir(ROOT)
    assert cli.lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True) == 0


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(
                        child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_at_any_level():
    assert _cycles(_import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    class Graph:
        modules = {"a", "b", "c"}

        @staticmethod
        def find_modules_directly_imported_by(m):
            return {"a": {"b"}, "b": {"a"}, "c": {"a"}}[m]

    assert _cycles(Graph()) == [["a", "b"]]


def _function_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every gradkit-internal import inside a function of `path`."""
    tree = ast.parse(path.read_text())
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom) and (
                    node.level or (node.module or "").startswith("gradkit")):
                found.append((node.lineno, "." * node.level + (node.module or "")))
            elif isinstance(node, ast.Import):
                found += [(node.lineno, a.name) for a in node.names
                          if a.name.startswith("gradkit")]
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_function_level_imports_are_only_optional_extras(path):
    assert _function_imports(path) == []


def _long_functions(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    long = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            size = node.end_lineno - start + 1
            reason = any("long:" in lines[i] for i in range(max(start - 2, 0), node.lineno))
            if size > MAX_FUNCTION_LINES and not reason:
                long.append(f"{node.name} ({size} lines)")
    return long


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_files_and_functions_stay_small(path):
    assert len(path.read_text().splitlines()) <= MAX_FILE_LINES
    assert _long_functions(path) == [], "split it, or say why in a '# long: ...' comment"


SNAPSHOT = json.loads((Path(__file__).parent / "api_snapshot.json").read_text())


@pytest.mark.parametrize("where", sorted(SNAPSHOT))
def test_every_public_name_of_the_snapshot_is_still_there(where):
    """tests/api_snapshot.json lists round one's public names (module attributes, Tensor,
    Module and Optimizer members); each must still resolve. Add new names freely."""
    if where in ("gradkit.Tensor", "gradkit.nn.Module", "gradkit.optim.Optimizer"):
        owner = {"gradkit.Tensor": gk.Tensor, "gradkit.nn.Module": gk.nn.Module,
                 "gradkit.optim.Optimizer": gk.optim.Optimizer}[where]
    else:
        owner = importlib.import_module(where)
    missing = [n for n in SNAPSHOT[where] if not hasattr(owner, n)]
    assert missing == []


def test_old_module_paths_still_import():
    from gradkit.onnx import export

    from gradkit.callbacks import EarlyStopping

    assert importlib.import_module("gradkit.cuda") is gk.cuda
    assert importlib.import_module("gradkit.random").manual_seed is gk.manual_seed
    assert callable(export) and issubclass(EarlyStopping, gk.callbacks.Callback)
    with pytest.warns(DeprecationWarning, match="gk.callbacks.WeightHistory"):
        assert gk.viz.WeightHistory is gk.callbacks.WeightHistory
