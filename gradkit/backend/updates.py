"""SGD's update rule (momentum, dampening, Nesterov) in place, one source for both devices.

On the CPU it runs block by block (`blocks.blockwise`: each block of the weights, the
gradient and the momentum buffer crosses memory once for the whole chain); on a GPU the same
xp ops run on whole arrays (CuPy fuses nothing here: a handful of launches a parameter).
"""

from __future__ import annotations

from typing import Any

from .blocks import blockwise
from .devices import xp_of

Array = Any  # a NumPy or CuPy array
SMALL = 4096  # elements: below, one whole-array op at a time


def sgd_update_(w: Array, d: Array, buf: Array | None = None, *, lr: float,
                momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
                first: bool = False) -> None:
    """One SGD step in place on w (and on the momentum buffer `buf`, which already holds
    `d` when `first`) along `d`: PyTorch's rule and order, never writing `d`. Big arrays go
    block by block (`blockwise`); small ones at once, with fresh temporaries (cheaper there
    than any bookkeeping: the lessons' 2-10-2 net steps 10% faster so)."""
    if w.size < SMALL:
        _sgd_small(w, d, buf, lr, momentum, dampening, nesterov, first)
    elif buf is None:
        blockwise(_sgd_plain, (w, d), 1, (xp_of(w), lr))
    else:
        blockwise(_sgd_heavy_ball, (w, d, buf), 1,
                  (xp_of(w), lr, momentum, dampening, nesterov, first))


def _sgd_small(w: Array, d: Array, buf: Array | None, lr: float, momentum: float,
               dampening: float, nesterov: bool, first: bool) -> None:
    if buf is None:
        w -= d * lr
        return
    if not first:
        buf *= momentum
        buf += d * (1 - dampening) if dampening else d
    if nesterov:  # d + momentum * buf
        n = buf * momentum
        n += d
        n *= lr
        w -= n
    else:
        w -= buf * lr


def _sgd_plain(w: Array, d: Array, tmp: Array, xp: Any, lr: float) -> None:
    xp.multiply(d, lr, out=tmp)
    w -= tmp


def _sgd_heavy_ball(w: Array, d: Array, buf: Array, tmp: Array, xp: Any, lr: float,
                    momentum: float, dampening: float, nesterov: bool, first: bool) -> None:
    if not first:
        buf *= momentum
        if dampening:
            xp.multiply(d, 1 - dampening, out=tmp)
            buf += tmp
        else:
            buf += d
    if nesterov:  # d + momentum * buf
        xp.multiply(buf, momentum, out=tmp)
        tmp += d
        tmp *= lr
    else:
        xp.multiply(buf, lr, out=tmp)
    w -= tmp
