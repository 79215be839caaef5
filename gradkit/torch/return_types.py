"""`torch.return_types`: the named tuples PyTorch's reductions return (`values`, `indices`).

    values, indices = torch.max(x, 1)      # also torch.max(x, 1).indices
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

__all__ = ["max", "min", "sort", "topk", "median", "mode", "kthvalue", "aminmax"]


def _make(name: str, fields: tuple[str, str] = ("values", "indices")) -> Any:
    base = namedtuple(name, fields)  # type: ignore[misc]

    def __repr__(self: Any) -> str:  # noqa: N807
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__str__": __repr__,
                               "__module__": __name__})
    return cls


max = _make("max")  # noqa: A001 - PyTorch's names
min = _make("min")  # noqa: A001
sort = _make("sort")
topk = _make("topk")
median = _make("median")
mode = _make("mode")
kthvalue = _make("kthvalue")
aminmax = _make("aminmax", ("min", "max"))
