"""The random sources gradkit uses (init, dropout, shuffling), seeded by `manual_seed`."""

from __future__ import annotations

import numpy as np

from .backend import cupy_module, parse_device

_state = {"seed": None, "cpu": np.random.default_rng(), "cuda": {}}


def manual_seed(seed: int) -> None:
    """Seed every random source gradkit uses, so two runs give bit-identical results."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _state["seed"] = int(seed)
    _state["cpu"] = np.random.default_rng(int(seed))
    _state["cuda"] = {}


def generator(device="cpu"):
    """The generator for `device`: a NumPy Generator, or a CuPy one for CUDA devices."""
    kind, index = parse_device(device)
    if kind == "cpu":
        return _state["cpu"]
    gens = _state["cuda"]
    if index not in gens:  # pragma: no cover - needs a GPU
        cp = cupy_module()
        seed = _state["seed"]
        with cp.cuda.Device(index):
            gens[index] = cp.random.default_rng(None if seed is None else seed + index)
    return gens[index]


def get_rng_state() -> dict:
    """A JSON-able snapshot of the CPU generator (for exact resume from checkpoints)."""
    return {"seed": _state["seed"], "cpu": _state["cpu"].bit_generator.state}


def set_rng_state(state: dict) -> None:
    """Restore a snapshot made by `get_rng_state`."""
    rng = np.random.default_rng()
    rng.bit_generator.state = state["cpu"]
    _state["seed"] = state.get("seed")
    _state["cpu"] = rng
    _state["cuda"] = {}


def spawn_seed() -> int:
    """A fresh integer seed drawn from the global CPU generator (for per-object generators)."""
    return int(_state["cpu"].integers(0, 2**63 - 1))
