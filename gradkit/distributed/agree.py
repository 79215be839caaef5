"""Checks that every rank runs the same job, made before the first training collective.

Ranks whose models differ (64 vs 65 units) or whose datasets differ (2000 vs 1500, or 2000
vs 1990 samples) would send buffers of different sizes to the same collective: MPI then
fails deep inside (`MPI_ERR_TRUNCATE`), hangs, or silently averages mismatched gradients.
`DataParallel`, `fit(distributed=True)` and `DistributedSampler` compare what each rank has
(one small `allgather_object`) and raise `RankMismatchError` on every rank, naming the ranks
and the difference, so all ranks stop at the same point.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..backend.devices import device_name
from ..nn import Module
from .comm import Communicator

MAX_LISTED = 4  # differences named in one message


class RankMismatchError(ValueError):
    """The ranks of a job disagree on something that must be the same on every rank (the
    model's parameters, the dataset's size...). Raised on every rank."""


def model_signature(model: Module) -> list[list]:
    """[kind, name, shape, dtype, requires_grad, device kind] of every parameter and buffer:
    what the gradient buckets and broadcasts depend on."""
    out: list[list] = []
    for kind, named in (("parameter", model.named_parameters()),
                        ("buffer", model.named_buffers())):
        for name, t in named:
            if t is None:
                continue
            device = device_name(t._data).split(":")[0]  # cuda:0 vs cuda:1 is fine
            out.append([kind, name, list(t.shape), str(t.dtype), bool(t.requires_grad),
                        device])
    return out


def _ranks(ranks: list[int]) -> str:
    return ("rank " if len(ranks) == 1 else "ranks ") + ", ".join(map(str, ranks))


def _by_value(values: list) -> list[tuple[str, list[int]]]:
    """[(value as text, ranks holding it)], in the order of the first rank holding each."""
    groups: dict[str, list[int]] = {}
    for r, v in enumerate(values):
        groups.setdefault(json.dumps(v, sort_keys=True, default=str), []).append(r)
    return list(groups.items())


def _describe(values: list, show) -> str:
    return " but ".join(f"{show(json.loads(text))} on {_ranks(ranks)}"
                        for text, ranks in _by_value(values))


def _model_differences(signatures: list[list]) -> list[str]:
    tables = [{(e[0], e[1]): e for e in sig} for sig in signatures]
    names: list[tuple] = []
    for table in tables:
        names += [k for k in table if k not in names]
    fields = (("shape", 2, lambda v: str(tuple(v))), ("dtype", 3, str),
              ("requires_grad", 4, str), ("device", 5, str))
    out = []
    for key in names:
        entries = [t.get(key) for t in tables]
        label = f"{key[0]} {key[1]!r}"
        if any(e is None for e in entries):
            have = [r for r, e in enumerate(entries) if e is not None]
            lack = [r for r, e in enumerate(entries) if e is None]
            out.append(f"{label} exists on {_ranks(have)} but not on {_ranks(lack)}")
            continue
        for field, i, show in fields:
            values = [e[i] for e in entries]  # type: ignore[index]
            if len({json.dumps(v) for v in values}) > 1:
                out.append(f"{label} has {field} {_describe(values, show)}")
    return out


def check_same_model(model: Module, comm: Communicator, where: str = "DataParallel") -> None:
    """Raise `RankMismatchError` (on every rank) unless all ranks hold a model with the same
    parameter and buffer names, shapes, dtypes and trainable flags. One allgather of a
    digest; a second one, of the full lists, only when they differ."""
    if comm.size == 1:
        return
    signature = model_signature(model)
    digest = hashlib.sha256(json.dumps(signature).encode()).hexdigest()
    if len(set(comm.allgather_object(digest))) == 1:
        return
    signatures = comm.allgather_object(signature)
    diffs = _model_differences(signatures) or ["their parameter lists are ordered differently"]
    listed = "; ".join(diffs[:MAX_LISTED])
    more = f" (and {len(diffs) - MAX_LISTED} more)" if len(diffs) > MAX_LISTED else ""
    raise RankMismatchError(
        f"{where}: the {comm.size} ranks hold different models: {listed}{more}. Every rank "
        "must build the same model (same layers, sizes and dtypes) before training starts")


def check_same(comm: Communicator, where: str, values: Mapping[str, Any],
               hint: str = "") -> None:
    """Raise `RankMismatchError` (on every rank) unless every rank passes equal `values`
    (name -> a JSON-able value, e.g. {"training samples": 2000}). One allgather."""
    if comm.size == 1:
        return
    mine = {k: values[k] for k in values}
    gathered = comm.allgather_object(mine)
    diffs = []
    for key in mine:
        column = [g.get(key) if isinstance(g, dict) else None for g in gathered]
        if len({json.dumps(v, sort_keys=True, default=str) for v in column}) > 1:
            diffs.append(f"{key}: {_describe(column, str)}")
    if diffs:
        raise RankMismatchError(f"{where}: the {comm.size} ranks disagree: "
                                f"{'; '.join(diffs)}.{' ' + hint if hint else ''}")
