"""Fixtures for the Keras dialect's tests: `ref`, Keras 3 itself on its PyTorch backend
(skipped with a reason when it cannot be imported), and a fresh naming session per test."""

from __future__ import annotations

import importlib
import os

import pytest

import gradkit.keras as gk_keras

os.environ.setdefault("KERAS_BACKEND", "torch")  # before anything imports Keras


@pytest.fixture(autouse=True)
def _fresh_names():
    gk_keras.backend.clear_session()


@pytest.fixture(scope="session")
def ref():
    """Keras 3 (PyTorch backend), or a skip saying why it is not available."""
    if os.environ.get("KERAS_BACKEND") != "torch":
        pytest.skip(f"the Keras comparisons run on KERAS_BACKEND=torch, the environment says "
                    f"{os.environ.get('KERAS_BACKEND')!r}")
    try:
        keras = importlib.import_module("keras")
    except ImportError as exc:
        pytest.skip(f"Keras 3 is not installed (pip install keras): {exc}")
    if not keras.__version__.startswith("3"):
        pytest.skip(f"the comparisons are with Keras 3, found {keras.__version__}")
    import torch

    torch.set_num_threads(1)  # small cases; leave the cores to the other tests
    return keras
