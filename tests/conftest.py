"""Shared fixtures: a seeded RNG, `torch` when it is installed, and `device` (tests/devices.py)."""

import os

# NumPy's BLAS for every product unless a test chooses a GEMM library itself (tests/test_gemm*):
# results then do not depend on which extras are installed or on what a probe measured.
os.environ.setdefault("GRADKIT_GEMM", "numpy")
# gk.compile fuses element-wise runs of any size (default: 4096 elements and more), so that
# the trace check compares the fused loops on every compiled model of the tests
os.environ.setdefault("GRADKIT_FUSE_MIN", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gradkit as gk  # noqa: E402

from .devices import device  # noqa: F401 - the fixture, parametrised over devices
from .reliability.summary import pytest_terminal_summary  # noqa: F401 - fault-injection line


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed():
    gk.manual_seed(0)


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: trains or waits for minutes; skipped unless GRADKIT_RUN_SLOW=1 "
                   "(e.g. GRADKIT_RUN_SLOW=1 pytest -m slow)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("GRADKIT_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set GRADKIT_RUN_SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
