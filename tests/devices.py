"""The devices the suites run on: "cpu" always, "cuda" where CuPy sees a GPU.

`DEVICES` is a list for `pytest.mark.parametrize("device", DEVICES)`; the `device` fixture
(registered in tests/conftest.py) does the same for any test that asks for it. Without a GPU
the "cuda" cases are collected and skipped with the reason below, so a GPU machine runs the
very same tests (select them with `pytest -k cuda`).
"""

from __future__ import annotations

import pytest

import gradkit as gk

CUDA = gk.cuda.is_available()
NO_CUDA = "no CUDA GPU/CuPy"
needs_cuda = pytest.mark.skipif(not CUDA, reason=NO_CUDA)

DEVICES = ["cpu", pytest.param("cuda", marks=needs_cuda)]


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    """Each available device in turn ("cpu", then "cuda" or a skip)."""
    return request.param
