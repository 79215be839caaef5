"""Nested structures as TF's `tf.nest` sees them: tuples, lists and dicts of leaves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["flatten", "map_structure", "pack_sequence_as"]


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def flatten(structure: Any) -> list[Any]:
    """The leaves of `structure`, depth first (dicts in sorted key order, as TF)."""
    if isinstance(structure, dict):
        return [leaf for k in sorted(structure) for leaf in flatten(structure[k])]
    if isinstance(structure, tuple | list):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_sequence_as(structure: Any, flat: list[Any]) -> Any:
    """`flat` (leaves in `flatten` order) arranged like `structure`."""
    it = iter(flat)

    def build(s: Any) -> Any:
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in sorted(s)}
            return type(s)((k, built[k]) for k in s) if type(s) is not dict else \
                {k: built[k] for k in s}
        if _is_namedtuple(s):
            return type(s)(*[build(item) for item in s])
        if isinstance(s, tuple | list):
            return type(s)(build(item) for item in s)
        return next(it)

    return build(structure)


def map_structure(fn: Callable[..., Any], *structures: Any) -> Any:
    """`fn` applied leaf by leaf to structures of the same shape."""
    flats = [flatten(s) for s in structures]
    if any(len(f) != len(flats[0]) for f in flats):
        raise ValueError("map_structure: the structures do not have the same number of "
                         "elements")
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])
