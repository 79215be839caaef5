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


def sgd_update_(w: Array, d: Array, buf: Array | None = None, *, lr: float,
                momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
                first: bool = False) -> None:
    """One SGD step in place on w (and on the momentum buffer `buf`, which already holds
    `d` when `first`) along `d`: PyTorch's rule and order, never writing `d`; block by block
    (`blockwise`)."""
    if buf is None:
        blockwise(_sgd_plain, (w, d), 1, (xp_of(w), lr))
    else:
        blockwise(_sgd_heavy_ball, (w, d, buf), 1,
                  (xp_of(w), lr, momentum, dampening, nesterov, first))


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
