"""Sliding-window helpers shared by pooling and convolution (argument tuples, pooling axes,
tap ranges, output sizes, padding with a mode and its gradient, `scratch` buffers), and
`LinearMap`: a linear op and its adjoint, each the other's gradient, so that the ops built on
it (pooling, `pad_mode`) are differentiable to any order.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import register_differentiable
from ..backend.devices import xp_of
from ..errors import ShapeError
from ..tensor import Tensor, _make, as_tensor
from .shape import pad as constant_pad

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


def _pool_out(n: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """PyTorch's pooling output size (a ceil-mode window must start inside input or left pad)."""
    o = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    return o - 1 if ceil and (o - 1) * s >= n + p else o


def pool_axes(shape, nd, kernel_size, stride, padding, dilation, ceil_mode, opname) -> list:
    """(k, s, d, pad, n_in, n_out) for each of the last `nd` axes, checked like PyTorch."""
    if len(shape) not in (nd + 1, nd + 2):
        want = "(N, C, L) or (C, L)" if nd == 1 else "(N, C, H, W) or (C, H, W)"
        raise ShapeError(f"{opname}: expected input of shape {want}, got {tuple(shape)}")
    k = ntuple(kernel_size, nd, "kernel_size", opname)
    s = k if stride is None or stride == () else ntuple(stride, nd, "stride", opname)
    p = ntuple(padding, nd, "padding", opname, minimum=0)
    d = ntuple(dilation, nd, "dilation", opname)
    out = []
    for i in range(nd):
        if p[i] > k[i] // 2:
            raise ValueError(f"{opname}: padding {p} must be at most half the kernel size {k}")
        n = shape[len(shape) - nd + i]
        o = _pool_out(n, k[i], s[i], p[i], d[i], ceil_mode)
        if o < 1:
            raise ShapeError(f"{opname}: input of shape {tuple(shape)} is too small for "
                             f"kernel_size={k} (padding={p}, dilation={d})")
        out.append((k[i], s[i], d[i], p[i], n, o))
    return out


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


# ---- scratch buffers: the big arrays of conv/pool, reused when nothing holds them ----------

SCRATCH_MIN_BYTES = 1 << 20  # smaller arrays come from malloc's free lists cheaply anyway
SCRATCH_MAX_BYTES = 256 << 20  # the most that the cache keeps (buffers in use count too)
_scratch: dict[tuple, list] = {}  # (shape, dtype) -> NumPy arrays that the cache created
_scratch_bytes = [0]
_scratch_lock = threading.Lock()
_creations = (np.empty, np.zeros)  # gk.compile swaps these for its own while it traces


def _free_refs() -> int:
    """sys.getrefcount of a cached array that nothing else references (as `scratch` asks)."""
    probe = [np.empty(1)]
    return sys.getrefcount(probe[0])


_FREE = _free_refs()


def scratch(like, shape: tuple, dtype=None, zero: bool = False):
    """A C-ordered array of `shape` (`like`'s dtype and device unless `dtype`), zeroed when
    `zero`, else uninitialised: on the CPU a big one comes from a cache of arrays that no
    one references any more (a view, a Tensor, a saved graph all hold a reference), so a
    training step writes into the same memory every step instead of fresh pages, which the
    kernel must fault in and zero (about a third of a CNN step's time otherwise)."""
    xp, dtype = xp_of(like), np.dtype(like.dtype if dtype is None else dtype)
    n = dtype.itemsize
    for d in shape:
        n *= d
    if (xp is not np or n < SCRATCH_MIN_BYTES or type(like) is not np.ndarray
            or np.empty is not _creations[0] or np.zeros is not _creations[1]):
        return (xp.zeros if zero else xp.empty)(shape, dtype=dtype)
    key = (tuple(shape), dtype.str)
    with _scratch_lock:
        bufs = _scratch.setdefault(key, [])
        for i in range(len(bufs)):
            if sys.getrefcount(bufs[i]) == _FREE:
                buf = bufs[i]
                break
        else:
            buf = np.empty(shape, dtype=dtype)
            if _scratch_bytes[0] + n > SCRATCH_MAX_BYTES:
                _drop_free()
            if _scratch_bytes[0] + n <= SCRATCH_MAX_BYTES:
                bufs.append(buf)
                _scratch_bytes[0] += n
    if zero:
        buf.fill(0)
    return buf


def _drop_free() -> None:
    """Forget the cached arrays that nothing references (under the lock)."""
    for key in list(_scratch):
        bufs = _scratch[key]
        keep = [bufs[i] for i in range(len(bufs)) if sys.getrefcount(bufs[i]) > _FREE]
        _scratch_bytes[0] -= sum(b.nbytes for b in bufs) - sum(b.nbytes for b in keep)
        if keep:
            _scratch[key] = keep
        else:
            del _scratch[key]


def clear_scratch() -> None:
    """Let go of every cached scratch array (those in use stay with their users)."""
    with _scratch_lock:
        _scratch.clear()
        _scratch_bytes[0] = 0


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
        return _make(self.fwd(v._data), (v,), lambda g: (lm.T(g),), self.name)

    def T(self, v: Any) -> Any:  # noqa: N802 - the transpose, as in NumPy
        """adj(v): an array, or a recorded Tensor for a Tensor."""
        if not isinstance(v, Tensor):
            return self.adj(v)
        lm = self
        return _make(self.adj(v._data), (v,), lambda g: (lm(g),), self.adj_name)


def pad_map(widths, mode: str) -> LinearMap:
    """Padding by `widths` (per axis (lo, hi)) with `mode` (reflect, replicate, circular) as
    a LinearMap: op names "pad_<mode>" and "pad_<mode>_grad"."""
    return LinearMap(lambda d: pad_array(d, widths, mode), lambda g: unpad_grad(g, widths, mode),
                     f"pad_{mode}", f"pad_{mode}_grad")


# ---- padding with a mode (the op) --------------------------------------------------------


def pad_mode(x, pad_width, mode: str = "constant", value=0.0) -> Tensor:
    """Pad by NumPy-style `pad_width` with `mode`: constant (`value`), reflect (no edge
    repeat), replicate (the edge) or circular (wrap), as PyTorch's pad modes; differentiable."""
    x = as_tensor(x)
    if mode == "constant":
        return constant_pad(x, pad_width, value)
    if mode not in _NP_PAD:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    d = x._data
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (d.ndim, 2)).tolist()
    for n, (lo, hi) in zip(d.shape, widths):
        if lo < 0 or hi < 0 or (mode == "reflect" and max(lo, hi) >= n) or (
                mode == "circular" and max(lo, hi) > n):
            raise ValueError(f"pad: {mode} padding {widths} does not fit shape {d.shape}")
    return pad_map([tuple(w) for w in widths], mode)(x)


register_differentiable(*(f"pad_{m}{s}" for m in PADDING_MODES[1:] for s in ("", "_grad")))
