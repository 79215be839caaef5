"""Printing like PyTorch: `tensor([1.0000, 2.5000], requires_grad=True)`.

The rules of `torch/_tensor_str.py`: floats with `precision` (4) decimals, as integers with
a trailing '.' when every value is whole, in scientific notation when the largest and
smallest non-zero magnitudes are more than 1000 apart (or beyond 1e8 / below 1e-4);
columns padded to the widest value; lines wrapped at `linewidth`; more than `threshold`
elements summarised with `edgeitems` at each end. Suffixes: `device=`, `dtype=` (unless
the default float, int64 or bool), `size=` (empty tensors), `grad_fn=<...>` or
`requires_grad=True`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..backend.devices import device_name, to_numpy
from .dtypes import default_float, to_torch_dtype
from .grad_fn import grad_fn_name

__all__ = ["PRINT_OPTS", "get_printoptions", "printoptions", "set_printoptions", "tensor_repr"]

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
             "sci_mode": None}
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}
PRINT_OPTS: dict[str, Any] = dict(_DEFAULTS)


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """PyTorch's `torch.set_printoptions` (the same options and profiles)."""
    if profile is not None:
        values = _PROFILES[profile]
        PRINT_OPTS.update(zip(("precision", "threshold", "edgeitems", "linewidth"), values))
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
             "linewidth": linewidth}
    PRINT_OPTS.update({k: v for k, v in given.items() if v is not None})
    PRINT_OPTS["sci_mode"] = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options (keywords of `set_printoptions`)."""
    return dict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Context manager: the print options changed inside the block only."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """How each value of a tensor is written (torch's `_Formatter`)."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        precision = PRINT_OPTS["precision"]
        if not self.floating:
            self.width = max((len(str(v)) for v in values.reshape(-1).tolist()), default=1)
            return
        flat = values.reshape(-1)
        nz = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if nz.size == 0:
            return
        mags = np.abs(nz)
        lo, hi = mags.min(), mags.max()
        self.int_mode = bool(np.all(nz == np.ceil(nz)))
        sci = PRINT_OPTS["sci_mode"]
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) if sci is None \
            else bool(sci)
        items = nz.tolist()
        if self.sci_mode:
            self.width = max(len(f"{v:.{precision}e}") for v in items)
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}") + 1 for v in items)
        else:
            self.width = max(len(f"{v:.{precision}f}") for v in items)

    def format(self, value: Any) -> str:
        precision = PRINT_OPTS["precision"]
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                text += "."
        else:
            text = f"{value:.{precision}f}"
        return " " * (self.width - len(text)) + text


def _summarized(a: np.ndarray, edge: int) -> np.ndarray:
    """The values printed when summarising (edge items of every axis)."""
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * edge:
        a = np.concatenate([a[:edge], a[-edge:]]) if edge else a[:0]
    if a.ndim == 1:
        return a
    return np.stack([_summarized(row, edge) for row in a]) if len(a) else a


def _vector(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    edge = PRINT_OPTS["edgeitems"]
    per_line = max(1, math.floor((PRINT_OPTS["linewidth"] - indent) / (fmt.width + 2)))
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = ([fmt.format(v) for v in a[:edge].tolist()] + [" ..."]
                + [fmt.format(v) for v in a[-edge:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    edge = PRINT_OPTS["edgeitems"]
    if summarize and a.shape[0] > 2 * edge:
        rows = ([_nested(a[i], indent + 1, summarize, fmt) for i in range(edge)] + ["..."]
                + [_nested(a[i], indent + 1, summarize, fmt)
                   for i in range(len(a) - edge, len(a))])
    else:
        rows = [_nested(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def values_str(arr: Any, indent: int) -> str:
    """The bracketed values of an array, as PyTorch writes them."""
    a = to_numpy(arr)
    if a.size == 0:
        return "[]"
    if a.dtype == np.float16:
        a = a.astype(np.float32)
    summarize = a.size > PRINT_OPTS["threshold"]
    fmt = _Formatter(_summarized(a, PRINT_OPTS["edgeitems"]) if summarize else a)
    return _nested(a, indent, summarize, fmt)


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > PRINT_OPTS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(parts) + ")"


def tensor_repr(t: Any, prefix: str = "tensor(") -> str:
    """`repr` of a tensor as PyTorch writes it."""
    arr = t._data
    indent = len(prefix)
    suffixes = []
    where = device_name(arr)
    if where != "cpu":
        suffixes.append(f"device='{where}'")
    dt = arr.dtype
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dt != default_float():
            suffixes.append(f"dtype={to_torch_dtype(dt)}")
        body = "[]"
    else:
        if not PRINT_OPTS["edgeitems"]:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dt not in (default_float(), np.int64, np.bool_, np.complex64):
            suffixes.append(f"dtype={to_torch_dtype(dt)}")
        body = values_str(arr, indent)
    if t._vjp is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name(t._op)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)
