"""Sliding-window helpers shared by pooling and convolution (argument tuples, tap ranges,
output sizes, padding with a mode and its gradient), and `LinearMap`: a linear op and its
adjoint, each the other's gradient, so that the ops built on it (pooling, padding with a
mode) are differentiable to any order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import register_differentiable
from ..backend.devices import xp_of
from ..tensor import Tensor, _make

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_NP_PAD: dict[str, Any] = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def ntuple(value, n: int, name: str, opname: str, minimum: int = 1) -> tuple:
    """`value` (an int, or n ints) as a tuple of n ints, each >= minimum."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if is_int(value):
        out = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n and all(map(is_int, value)):
        out = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{opname}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if min(out) < minimum:
        raise ValueError(f"{opname}: {name} must be >= {minimum}, got {value!r}")
    return out


def axis_ranges(n_in: int, n_out: int, k: int, s: int, d: int, lo: int) -> list:
    """Per kernel tap t: (o0, o1, slice) such that input[slice] feeds outputs o0..o1-1 (input
    index o*s + t*d - lo); None for a tap that sees only padding."""
    out: list = []
    for t in range(k):
        off = t * d - lo
        o0 = max(0, (s - 1 - off) // s)
        o1 = min(n_out, (n_in - 1 - off) // s + 1)
        if o1 <= o0:
            out.append(None)
        else:
            out.append((o0, o1, slice(o0 * s + off, (o1 - 1) * s + off + 1, s)))
    return out


def out_size(n: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    """A convolution's output length (input n padded by lo and hi)."""
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


def pad_array(d, widths, mode: str, value=0.0):
    """`d` padded by NumPy-style `widths`; mode constant/zeros, reflect, replicate, circular."""
    xp = xp_of(d)
    if mode in ("zeros", "constant"):
        return xp.pad(d, widths, constant_values=value)
    return xp.pad(d, widths, mode=_NP_PAD[mode])


def unpad_grad(g, widths, mode: str):
    """The gradient of `pad_array`: each padded position's gradient added to its source."""
    for axis, (lo, hi) in enumerate(widths):
        if not lo and not hi:
            continue
        n = g.shape[axis] - lo - hi
        lead = (slice(None),) * axis
        out = g[lead + (slice(lo, lo + n),)]
        if mode not in ("zeros", "constant"):
            out = out.copy()
            src = np.pad(np.arange(n), (lo, hi), mode=_NP_PAD[mode])
            for r in [*range(lo), *range(lo + n, lo + n + hi)]:  # border lines, not pixels
                out[lead + (int(src[r]),)] += g[lead + (r,)]
        g = out
    return g


# ---- linear ops, differentiable to any order -------------------------------------------------


class LinearMap:
    """A linear map `fwd` of one array and its adjoint `adj` (array -> array functions whose
    other arguments are constants: windows, winning taps, divisors). Applied to an array it
    computes (the first-order rules); applied to a Tensor it records a node whose gradient
    is the other one, applied to the incoming gradient: so a rule `g -> (lm.T(g),)` runs on
    raw arrays at first order and records, differentiably again, under create_graph."""

    __slots__ = ("fwd", "adj", "name", "adj_name")

    def __init__(self, fwd: Callable, adj: Callable, name: str, adj_name: str) -> None:
        self.fwd, self.adj, self.name, self.adj_name = fwd, adj, name, adj_name

    def __call__(self, v: Any) -> Any:
        """fwd(v): an array, or a recorded Tensor for a Tensor."""
        if not isinstance(v, Tensor):
            return self.fwd(v)
        lm = self
        return _make(self.fwd(v.data), (v,), lambda g: (lm.T(g),), self.name)

    def T(self, v: Any) -> Any:  # noqa: N802 - the transpose, as in NumPy
        """adj(v): an array, or a recorded Tensor for a Tensor."""
        if not isinstance(v, Tensor):
            return self.adj(v)
        lm = self
        return _make(self.adj(v.data), (v,), lambda g: (lm(g),), self.adj_name)


def pad_map(widths, mode: str) -> LinearMap:
    """Padding by `widths` (per axis (lo, hi)) with `mode` (reflect, replicate, circular) as
    a LinearMap: op names "pad_<mode>" and "pad_<mode>_grad"."""
    return LinearMap(lambda d: pad_array(d, widths, mode), lambda g: unpad_grad(g, widths, mode),
                     f"pad_{mode}", f"pad_{mode}_grad")


register_differentiable(*(f"pad_{m}{s}" for m in PADDING_MODES[1:] for s in ("", "_grad")))
