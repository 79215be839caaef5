"""gradkit.tf against TensorFlow: each case of cases.py / cases_ops.py run with gradkit.tf
gives what TensorFlow gave (recorded by record_reference.py into tf_reference.json, with
TensorFlow's version; floats to float32 rounding)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import gradkit.tf as tf

from . import cases_ops  # noqa: F401 - registers its cases
from .cases import CASES

REFERENCE = json.loads((Path(__file__).parent / "tf_reference.json").read_text())


def same(got, want, where="") -> list[str]:
    """The places where `got` differs from `want` (empty: equal, floats to 1e-5)."""
    if isinstance(want, bool) or want is None or isinstance(want, str):
        return [] if got == want and type(got) is type(want) else [f"{where}: {got!r} != {want!r}"]
    if isinstance(want, (int, float)):
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return [f"{where}: {got!r} is not a number like {want!r}"]
        if isinstance(want, float) and math.isnan(want):
            return [] if math.isnan(got) else [f"{where}: {got} is not NaN"]
        ok = math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-6)
        return [] if ok else [f"{where}: {got!r} != {want!r}"]
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return [f"{where}: {got!r} != {want!r}"]
        return [d for k in want for d in same(got[k], want[k], f"{where}.{k}")]
    if not isinstance(got, list) or len(got) != len(want):
        return [f"{where}: {got!r} != {want!r}"]
    return [d for i, (g, w) in enumerate(zip(got, want)) for d in same(g, w, f"{where}[{i}]")]


def test_every_case_has_a_recorded_answer():
    assert sorted(CASES) == sorted(REFERENCE["cases"]), "run tests/tf/record_reference.py"
    assert REFERENCE["tensorflow"].startswith("2.")


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_tensorflow(name):
    assert same(CASES[name](tf), REFERENCE["cases"][name], name) == []


def test_the_comparison_can_fail():
    assert same([1.0, "a", None], [1.0, "a", None]) == []
    assert same([1.0], [1.001]) and same(["a"], ["b"]) and same([None], [0.0])
    assert same({"a": [1, 2]}, {"a": [1, 3]}) and same([True], [1])
