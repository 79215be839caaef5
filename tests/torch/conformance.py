"""The conformance table's machinery: each row is a small program written against PyTorch's
API, run once with `gradkit.torch` and once with real PyTorch; what it returns (values,
dtypes, shapes, printing) and the gradients it gives (first and, where asked, second order)
must be the same.

A row: `Row(names, fn, inputs, grad=True, prints=True, order2=False)`; `fn(torch, *xs)` gets
the module and the inputs made by that module's `torch.tensor` (float inputs require grad
when `grad`); `names` are the API names the row checks (the coverage test reads them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RNG = np.random.default_rng(1234)


def f32(*shape: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """Distinct float32 values (no ties, so max/sort/median pick the same elements)."""
    n = int(np.prod(shape)) if shape else 1
    values = RNG.permutation(np.linspace(low, high, n * 3))[:n]
    return values.reshape(shape).astype(np.float32)


def pos(*shape: int) -> np.ndarray:
    """Positive float32 values (for log, sqrt, ...)."""
    return (np.abs(f32(*shape)) + 0.5).astype(np.float32)


@dataclass
class Row:
    names: Sequence[str]
    fn: Callable[..., Any]
    inputs: Sequence[Any] = ()
    grad: bool = True
    prints: bool = True
    order2: bool = False
    tol: float = 1e-5
    id: str = field(default="")

    def __post_init__(self) -> None:
        if isinstance(self.names, str):
            self.names = (self.names,)
        self.id = self.id or self.names[0]


def _is_tensor(x: Any, torch: Any) -> bool:
    return isinstance(x, torch.Tensor)


def describe(x: Any, torch: Any, prints: bool) -> Any:
    """What a result is, as plain data: tensors as values, dtype, shape and repr."""
    if _is_tensor(x, torch):
        arr = np.asarray(x.detach().cpu().numpy())
        out = {"values": arr.tolist(), "dtype": str(x.dtype), "shape": list(x.shape),
               "requires_grad": bool(x.requires_grad)}
        if prints:
            out["repr"] = repr(x)
        return out
    if isinstance(x, tuple) and type(x).__module__.endswith("return_types"):
        fields = ("min", "max") if type(x).__name__ == "aminmax" else ("values", "indices")
        return {"type": type(x).__name__, **{f: describe(getattr(x, f), torch, prints)
                                             for f in fields}}
    if isinstance(x, (list, tuple)):
        return [describe(v, torch, prints) for v in x]
    if type(x) in (bool, int, float, str) or x is None:
        return x
    return repr(x)  # dtypes, devices, Size


def _inputs(torch: Any, row: Row) -> list[Any]:
    xs = []
    for a in row.inputs:
        if isinstance(a, np.ndarray):
            needs = row.grad and a.dtype.kind == "f"
            xs.append(torch.tensor(a, requires_grad=needs))
        else:
            xs.append(a)
    return xs


def _float_outputs(out: Any, torch: Any) -> list[Any]:
    if _is_tensor(out, torch):
        return [out] if out.dtype.is_floating_point and out.requires_grad else []
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _float_outputs(o, torch)]
    return []


def _weights(shape: Sequence[int], k: int) -> np.ndarray:
    rng = np.random.default_rng(100 + k)
    return rng.uniform(0.5, 1.5, tuple(shape)).astype(np.float32)


def _loss(torch: Any, outs: list[Any]) -> Any:
    total = None
    for k, o in enumerate(outs):
        term = (o * torch.tensor(_weights(tuple(o.shape), k))).sum()
        total = term if total is None else total + term
    return total


def _plain(g: Any) -> Any:
    return None if g is None else np.asarray(g.detach().cpu().numpy()).tolist()


def run(torch: Any, row: Row) -> dict[str, Any]:
    """Everything the row's program gives with this `torch` module."""
    xs = _inputs(torch, row)
    out = row.fn(torch, *xs)
    result = {"out": describe(out, torch, row.prints)}
    leaves = [x for x in xs if _is_tensor(x, torch) and x.requires_grad]
    outs = _float_outputs(out, torch)
    if not (row.grad and leaves and outs):
        return result
    loss = _loss(torch, outs)
    grads = torch.autograd.grad(loss, leaves, create_graph=row.order2, allow_unused=True)
    result["grad"] = [_plain(g) for g in grads]
    if row.order2:
        used = [(x, g) for x, g in zip(leaves, grads) if g is not None and g.requires_grad]
        if used:
            s = sum(((g * torch.tensor(_weights(tuple(g.shape), 7))).sum() for _, g in used),
                    torch.tensor(0.0))
            second = torch.autograd.grad(s, [x for x, _ in used], allow_unused=True)
            result["grad2"] = [_plain(g) for g in second]
    return result


def differences(got: Any, want: Any, where: str = "", tol: float = 1e-5) -> list[str]:
    """Where `got` differs from `want` (floats to `tol`, relative and absolute)."""
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return [f"{where}: keys {sorted(got) if isinstance(got, dict) else got!r} != "
                    f"{sorted(want)}"]
        return [d for k in want for d in differences(got[k], want[k], f"{where}.{k}", tol)]
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where}: {got!r} != {want!r}"]
        return [d for i, (g, w) in enumerate(zip(got, want))
                for d in differences(g, w, f"{where}[{i}]", tol)]
    if isinstance(want, float) and not isinstance(got, bool) and isinstance(got, (int, float)):
        if math.isnan(want):
            return [] if math.isnan(got) else [f"{where}: {got} is not NaN"]
        ok = math.isclose(got, want, rel_tol=tol, abs_tol=tol) or got == want
        return [] if ok else [f"{where}: {got!r} != {want!r}"]
    if got != want or type(got) is not type(want):
        return [f"{where}: {got!r} != {want!r}"]
    return []


def check(row: Row, gk_torch: Any, real_torch: Any) -> list[str]:
    """The differences between gradkit.torch and PyTorch on `row`."""
    return differences(run(gk_torch, row), run(real_torch, row), row.id, row.tol)
