"""rand, randn, randint, randperm, normal, bernoulli, multinomial, the *_like forms,
`manual_seed` and `Generator`: PyTorch's random functions over gradkit's seeded generators.

`torch.manual_seed(n)` seeds every random source gradkit uses (`gk.manual_seed`), so runs
repeat exactly; the numbers are NumPy's (or CuPy's), not PyTorch's. A `torch.Generator`
holds its own NumPy generator (`generator=` keywords, `random_split(..., generator=g)`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backend import random as _gkrandom
from ..backend.devices import device_scope, namespace, parse_device
from ..tensor_base import TensorBase
from .common import size_arg, tensor_of
from .device import resolve
from .dtypes import default_float, to_numpy_dtype
from .tensor import Tensor, from_array

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "rand", "randn", "randint", "randperm", "normal", "bernoulli",
           "multinomial", "rand_like", "randn_like", "randint_like", "uniform_array",
           "normal_array"]

_INITIAL = [0]


def _fresh_seed() -> int:
    return int(np.random.SeedSequence().generate_state(2, np.uint32).view(np.uint64)[0]
               % (2**63))


class Generator:
    """PyTorch's `torch.Generator`: its own seeded random source (`manual_seed` returns it)."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = resolve(device)
        self._seed = _fresh_seed()
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Seed this generator; returns it (`torch.Generator().manual_seed(42)`)."""
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Seed it from fresh entropy; returns the seed."""
        return self.manual_seed(_fresh_seed())._seed

    def initial_seed(self) -> int:
        """The seed it was last given."""
        return self._seed

    def get_state(self) -> dict[str, Any]:
        """The state of its bit generator."""
        return dict(self.rng.bit_generator.state)

    def set_state(self, state: dict[str, Any]) -> Generator:
        """Restore a state from `get_state`."""
        self.rng.bit_generator.state = state
        return self


_DEFAULT = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed every random source gradkit uses (gk.manual_seed); returns the default
    generator, as PyTorch does."""
    _gkrandom.manual_seed(int(seed))
    _INITIAL[0] = int(seed)
    _DEFAULT._seed = int(seed)
    return _DEFAULT


def seed() -> int:
    """Seed from fresh entropy; returns the seed."""
    s = _fresh_seed()
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The last seed given to `manual_seed`."""
    return _INITIAL[0]


def get_rng_state() -> dict[str, Any]:
    """A snapshot of gradkit's random state (a dict, not PyTorch's ByteTensor)."""
    return _gkrandom.get_rng_state()


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a snapshot from `get_rng_state`."""
    _gkrandom.set_rng_state(state)


def _rng(generator: Generator | None, device: str) -> Any:
    if generator is not None:
        if parse_device(device)[0] != "cpu":
            raise RuntimeError("gradkit.torch: a torch.Generator draws on the CPU; pass no "
                               "generator for random tensors on a GPU")
        return generator.rng
    return _gkrandom.generator(device)


def _draw(size: Sequence[Any], draw: Any, dtype: Any, device: Any, requires_grad: bool,
          generator: Generator | None, opname: str, default: Any = None) -> Tensor:
    shape = size_arg(size, opname)
    where = resolve(device)
    want = to_numpy_dtype(dtype) or default or default_float()
    with device_scope(where):
        arr = draw(_rng(generator, where), shape, want)
        if generator is not None and parse_device(where)[0] != "cpu":
            arr = namespace(where).asarray(arr)
    t = from_array(arr)
    return t.requires_grad_(True) if requires_grad else t


def _sample_dtype(d: np.dtype) -> Any:
    return d if d.itemsize >= 4 else np.float32


def rand(*size: Any, generator: Generator | None = None, dtype: Any = None,
         device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """Uniform samples in [0, 1)."""
    return _draw(kw.get("size", size), lambda g, s, d: g.random(s, dtype=_sample_dtype(d))
                 .astype(d, copy=False), dtype, device, requires_grad, generator, "rand")


def randn(*size: Any, generator: Generator | None = None, dtype: Any = None,
          device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """Standard normal samples."""
    return _draw(kw.get("size", size), lambda g, s, d: g.standard_normal(
        s, dtype=_sample_dtype(d)).astype(d, copy=False), dtype, device, requires_grad,
        generator, "randn")


def randint(low: int = 0, high: int | None = None, size: Any = None, *,
            generator: Generator | None = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Random integers in [low, high) (`randint(high, size)` or `randint(low, high, size)`),
    int64."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint(): give high and size: randint(10, (3,)) or "
                        "randint(2, 10, (3,))")
    return _draw((tuple(size),), lambda g, s, d: g.integers(low, high, size=s).astype(d),
                 dtype, device, requires_grad, generator, "randint", np.dtype(np.int64))


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64)."""
    return _draw(((),), lambda g, s, d: g.permutation(int(n)).astype(d), dtype, device,
                 requires_grad, generator, "randperm", np.dtype(np.int64))


def rand_like(input: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, **kw: Any) -> Tensor:
    """`rand` with `input`'s shape, dtype and device."""
    x = tensor_of(input)
    return rand(tuple(x.shape), dtype=dtype or x._data.dtype, device=device or x.device,
                requires_grad=requires_grad)


def randn_like(input: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kw: Any) -> Tensor:
    """`randn` with `input`'s shape, dtype and device."""
    x = tensor_of(input)
    return randn(tuple(x.shape), dtype=dtype or x._data.dtype, device=device or x.device,
                 requires_grad=requires_grad)


def randint_like(input: Any, low: int = 0, high: int | None = None, *, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False) -> Tensor:
    """`randint` with `input`'s shape, dtype and device."""
    x = tensor_of(input)
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(x.shape), dtype=dtype or x._data.dtype,
                   device=device or x.device)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *,
           generator: Generator | None = None, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples: numbers `mean`, `std` with `size`, or tensors (broadcast) of means
    and standard deviations."""
    tm, ts = isinstance(mean, TensorBase), isinstance(std, TensorBase)
    if not (tm or ts):
        if size is None:
            raise TypeError("normal(): with numbers for mean and std, give size=")
        return _draw((tuple(size),), lambda g, s, d: (g.standard_normal(s) * std + mean)
                     .astype(d), dtype, device, requires_grad, generator, "normal")
    like = mean if tm else std
    m = mean._data if tm else mean
    sd = std._data if ts else std
    shape = np.broadcast_shapes(np.shape(m), np.shape(sd))
    z = _draw((shape,), lambda g, s, d: g.standard_normal(s).astype(d), like._data.dtype,
              like.device, False, generator, "normal")
    return from_array(z._data * sd + m)


def bernoulli(input: Any, p: float | None = None, *,
              generator: Generator | None = None) -> Tensor:
    """1 with probability `input` (or `p`) at each element, else 0 (input's dtype)."""
    x = tensor_of(input)
    probs = x._data if p is None else p
    u = _draw((tuple(x.shape),), lambda g, s, d: g.random(s), x._data.dtype, x.device, False,
              generator, "bernoulli")
    return from_array((u._data < probs).astype(x._data.dtype))


def multinomial(input: Any, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """`num_samples` category indices per row, drawn with the (unnormalised, non-negative)
    weights of `input` (1-D or 2-D), int64."""
    x = tensor_of(input)
    w = np.asarray(x.numpy(), dtype=np.float64)
    rows = w.reshape(1, -1) if w.ndim == 1 else w
    if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial(): probability tensor contains either `inf`, `nan` "
                           "or element < 0, or a row that sums to zero")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("multinomial(): cannot sample n_sample > prob_dist.size(-1) "
                           "samples without replacement")
    g = _rng(generator, "cpu")
    out = np.stack([g.choice(rows.shape[1], size=num_samples, replace=replacement,
                             p=r / r.sum()) for r in rows]).astype(np.int64)
    out = out.reshape(num_samples) if w.ndim == 1 else out
    return from_array(namespace(x.device).asarray(out))


def uniform_array(t: Any, low: float, high: float, generator: Generator | None) -> Any:
    """Uniform samples in [low, high) of t's shape, dtype and device (for `uniform_`)."""
    d = t._data.dtype
    with device_scope(t.device):
        u = _rng(generator, t.device).random(t.shape, dtype=_sample_dtype(d))
    return (u * (high - low) + low).astype(d, copy=False)


def normal_array(t: Any, mean: float, std: float, generator: Generator | None) -> Any:
    """Normal samples of t's shape, dtype and device (for `normal_`)."""
    d = t._data.dtype
    with device_scope(t.device):
        z = _rng(generator, t.device).standard_normal(t.shape, dtype=_sample_dtype(d))
    return (z * std + mean).astype(d, copy=False)
