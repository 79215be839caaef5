"""The random sources gradkit uses (init, dropout, shuffling), seeded by `manual_seed`.

The CPU draws from one NumPy generator. Each GPU has its own CuPy generator, made on first
use and seeded with `seed + index`, so the same seed gives the same numbers on the same GPU
(but other numbers than on the CPU: the two libraries' generators differ).

`get_rng_state()` is a snapshot for checkpoints: `{"seed", "cpu"}` as before, plus `"cuda"`
(one entry per GPU generator in use: its bit generator's name and its raw state as a uint8
array) only once a GPU generator has been made. `set_rng_state` restores the CPU generator at
once and each GPU generator when it is next used, so restoring needs no CuPy until then.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .devices import cupy_module, parse_device

if TYPE_CHECKING:
    from .devices import DeviceLike

# "seed": int | None; "cpu": the NumPy Generator; "cuda": {index: CuPy generator};
# "cuda_saved": {index: snapshot waiting for that GPU's generator to be made}
_state: dict[str, Any] = {"seed": None, "cpu": np.random.default_rng(), "cuda": {},
                          "cuda_saved": {}}


def manual_seed(seed: int) -> None:
    """Seed every random source gradkit uses, so two runs give bit-identical results."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _state["seed"] = int(seed)
    _state["cpu"] = np.random.default_rng(int(seed))
    _state["cuda"] = {}
    _state["cuda_saved"] = {}


def generator(device: DeviceLike = "cpu") -> Any:
    """The generator for `device`: a NumPy Generator, or a CuPy one for CUDA devices."""
    kind, index = parse_device(device)
    if kind == "cpu":
        return _state["cpu"]
    gens = _state["cuda"]
    gen = gens.get(index)
    if gen is None:
        gen = gens[index] = _new_cuda_generator(index)
    return gen


def _new_cuda_generator(index: int) -> Any:
    """A CuPy generator on GPU `index`: restored from a snapshot when one waits, else seeded."""
    cp = cupy_module()
    seed = _state["seed"]
    saved = _state["cuda_saved"].pop(index, None)
    with cp.cuda.Device(index):
        gen = cp.random.default_rng(None if seed is None else seed + index)
        if saved is not None:
            _restore_cuda(cp, gen, saved, index)
    return gen


def _raw_state(gen: Any) -> Any:
    """The device array holding a CuPy bit generator's whole state (None if not found)."""
    raw = getattr(gen.bit_generator, "_state", None)
    return raw if hasattr(raw, "nbytes") and hasattr(raw, "view") else None


def _snapshot_cuda(gen: Any) -> dict[str, Any] | None:
    raw = _raw_state(gen)
    if raw is None:
        return None
    return {"bit_generator": type(gen.bit_generator).__name__,
            "state": cupy_module().asnumpy(raw).view(np.uint8).copy()}


def _restore_cuda(cp: Any, gen: Any, saved: dict[str, Any], index: int) -> None:
    raw = _raw_state(gen)
    host = np.ascontiguousarray(np.asarray(saved.get("state")), dtype=np.uint8)
    name = type(gen.bit_generator).__name__
    if raw is None or saved.get("bit_generator") != name or host.nbytes != raw.nbytes:
        warnings.warn(
            f"gradkit: the random state of cuda:{index} in this snapshot does not fit this "
            f"CuPy ({saved.get('bit_generator')} of {host.nbytes} bytes vs {name}"
            f"{'' if raw is None else f' of {raw.nbytes} bytes'}); its generator starts "
            "from the seed instead, so GPU random draws differ from the uninterrupted run",
            RuntimeWarning, stacklevel=4)
        return
    raw[...] = cp.asarray(host).view(raw.dtype).reshape(raw.shape)


def get_rng_state() -> dict[str, Any]:
    """A snapshot of every generator (for exact resume from checkpoints).

    `{"seed": int | None, "cpu": NumPy bit-generator state}`, and `"cuda": {"N": {...}}`
    once a GPU generator exists (or a restored GPU state is waiting to be used).
    """
    out = {"seed": _state["seed"], "cpu": _state["cpu"].bit_generator.state}
    cuda = {str(i): snap for i, snap in _state["cuda_saved"].items()}
    for i, gen in _state["cuda"].items():
        snap = _snapshot_cuda(gen)
        if snap is not None:
            cuda[str(i)] = snap
    if cuda:
        out["cuda"] = dict(sorted(cuda.items(), key=lambda kv: int(kv[0])))
    return out


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a snapshot made by `get_rng_state` (GPU generators when next used)."""
    rng = np.random.default_rng()
    rng.bit_generator.state = state["cpu"]
    saved = {}
    for key, snap in (state.get("cuda") or {}).items():
        if not isinstance(snap, dict) or "state" not in snap:
            raise ValueError(f"set_rng_state: the CUDA state for device {key!r} has no 'state'")
        saved[int(key)] = snap
    _state["seed"] = state.get("seed")
    _state["cpu"] = rng
    _state["cuda"] = {}
    _state["cuda_saved"] = saved


def spawn_seed() -> int:
    """A fresh integer seed drawn from the global CPU generator (for per-object generators)."""
    return int(_state["cpu"].integers(0, 2**63 - 1))
