"""Linear algebra: matmul (NumPy semantics, batched), dot and einsum, with gradients."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..autograd import RECORDED_NS, register_differentiable
from ..backend import gemm
from ..errors import ShapeError
from ..tensor import Tensor, _make
from ._util import operands
from .autocast import low
from .indexing import scatter

if TYPE_CHECKING:
    from ..tensor_base import TensorLike


def matmul(a: TensorLike, b: TensorLike) -> Tensor:
    """Matrix product with NumPy's rules (1-D operands, batch broadcasting)."""
    a, b = low(*operands(a, b, "matmul"))  # autocast: float16/bfloat16 inside a block
    x, y = a._data, b._data
    try:
        out = gemm.matmul(x, y)
    except ValueError:
        raise _matmul_error(x.shape, y.shape) from None
    xp = a._xp

    def vjp(g):
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        if y.ndim == 1:
            g = g[..., None]
        if x.ndim == 1:
            g = xp.expand_dims(g, -2)
        ga = gb = None
        if a.requires_grad:
            ga = gemm.matmul(g, xp.swapaxes(y2, -1, -2))
            if x.ndim == 1:
                ga = ga[..., 0, :]
        if b.requires_grad:
            gb = gemm.matmul(xp.swapaxes(x2, -1, -2), g)
            if y.ndim == 1:
                gb = gb[..., 0]
        return ga, gb

    return _make(out, (a, b), vjp, "matmul")


def _matmul_error(sx: tuple[int, ...], sy: tuple[int, ...]) -> ShapeError:
    if not sx or not sy:
        return ShapeError(
            f"matmul: operands must have at least one axis, got shapes {sx} and {sy}"
        )
    kx, ky = sx[-1], (sy[-2] if len(sy) > 1 else sy[0])
    if kx != ky:
        return ShapeError(
            f"matmul: shapes {sx} and {sy} are not aligned: the last axis of the first "
            f"({kx}) must equal the {'second-to-last' if len(sy) > 1 else 'only'} axis of "
            f"the second ({ky})"
        )
    return ShapeError(f"matmul: batch shapes of {sx} and {sy} do not broadcast")


def dot(a: TensorLike, b: TensorLike) -> Tensor:
    """Dot product of 1-D or 2-D tensors (vector·vector, matrix·vector, matrix·matrix)."""
    a, b = operands(a, b, "dot")
    if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):
        raise ShapeError(
            f"dot: takes 1-D or 2-D tensors, got shapes {a.shape} and {b.shape}; "
            "use matmul or einsum for batches"
        )
    return matmul(a, b)


# ---- einsum ------------------------------------------------------------------------------


def _parse(spec: str, arrays: Sequence[Any]) -> tuple[list[str], str]:
    """Explicit subscripts per operand and for the output, with '...' expanded to letters."""
    spec = spec.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(arrays):
        raise ValueError(f"einsum: '{spec}' names {len(subs)} operands, got {len(arrays)}")
    used = set(spec)
    spare = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in used]
    n_ell = 0
    for s, arr in zip(subs, arrays):
        if "..." in s:
            n_ell = max(n_ell, arr.ndim - (len(s) - 3))
    ell = "".join(spare[:n_ell])
    out_subs = []
    for s, arr in zip(subs, arrays):
        if "..." in s:
            k = arr.ndim - (len(s) - 3)
            s = s.replace("...", ell[n_ell - k:] if k else "")
        if len(s) != arr.ndim:
            raise ShapeError(
                f"einsum: subscripts '{s}' need a {len(s)}-d operand, got shape {arr.shape}"
            )
        out_subs.append(s)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        letters = "".join(out_subs)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                   and c not in ell))
    return out_subs, out


def einsum(spec: str, *tensors: TensorLike) -> Tensor:
    """Einstein summation (NumPy's `einsum`), differentiable w.r.t. every operand."""
    ts = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if len(ts) > 1:
        for i in range(1, len(ts)):
            ts[0], ts[i] = operands(ts[0], ts[i], "einsum")
    ts = list(low(*ts))  # autocast: float16/bfloat16 inside a block
    arrays = [t._data for t in ts]
    subs, out_sub = _parse(spec, arrays)
    xp = ts[0]._xp
    full = ",".join(subs) + "->" + out_sub
    try:
        out = xp.einsum(full, *arrays)
    except ValueError as exc:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ShapeError(f"einsum: '{spec}' cannot combine shapes {shapes} ({exc})") from None

    def vjp(g):
        return tuple(
            _einsum_grad(xp, g, out_sub, subs, arrays, i) if t.requires_grad else None
            for i, t in enumerate(ts)
        )

    return _make(out, tuple(ts), vjp, "einsum")


def _einsum_grad(xp: Any, g: Any, out_sub: str, subs: list[str], arrays: list[Any],
                 i: int) -> Any:
    target, arr = subs[i], arrays[i]
    uniq = "".join(dict.fromkeys(target))
    others = [(s, a) for j, (s, a) in enumerate(zip(subs, arrays)) if j != i]
    avail = set(out_sub).union(*[set(s) for s, _ in others]) if others else set(out_sub)
    present = "".join(c for c in uniq if c in avail)
    spec = ",".join([out_sub] + [s for s, _ in others]) + "->" + present
    r = xp.einsum(spec, g, *[a for _, a in others])
    size = {c: arr.shape[target.index(c)] for c in uniq}
    r = r.reshape([r.shape[present.index(c)] if c in present else 1 for c in uniq])
    shrink = tuple(k for k, c in enumerate(uniq) if size[c] == 1 and r.shape[k] != 1)
    if shrink:
        r = r.sum(axis=shrink, keepdims=True)
    r = xp.broadcast_to(r, [size[c] for c in uniq])
    if uniq == target:
        return r
    # Repeated letters (e.g. 'ii'): write r onto the diagonal through index arrays, one per
    # axis of the operand; an einsum view is writable in NumPy but a copy in CuPy.
    if xp is RECORDED_NS[0]:  # recorded: the same write, as a gk scatter (index arrays on
        return scatter(r, arr.shape, _diagonal(r._xp, target, uniq, size))  # r's device)
    z = xp.zeros(arr.shape, dtype=g.dtype)
    z[_diagonal(xp, target, uniq, size)] = r
    return z


def _diagonal(xp: Any, target: str, uniq: str, size: dict[str, int]) -> tuple[Any, ...]:
    """Index arrays (of namespace `xp`) that place an array over the letters `uniq` onto
    the (generalised) diagonal of an operand with subscripts `target`."""
    k = len(uniq)
    ranges = {c: xp.arange(size[c]).reshape([-1 if j == uniq.index(c) else 1
                                             for j in range(k)]) for c in uniq}
    return tuple(ranges[c] for c in target)


register_differentiable("matmul", "einsum")
