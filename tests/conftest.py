"""Shared fixtures: a seeded RNG, `torch` when it is installed, and `device` (tests/devices.py)."""

import numpy as np
import pytest

import gradkit as gk

from .devices import device  # noqa: F401 - the fixture, parametrised over devices


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed():
    gk.manual_seed(0)


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch)")
