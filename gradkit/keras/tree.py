"""Nested structures (a tensor, or lists / tuples / dicts of them), as Keras's `tree`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def is_nested(x: Any) -> bool:
    """Whether `x` is a list, tuple or dict (a structure rather than one leaf)."""
    return isinstance(x, (list, tuple, dict))


def flatten(x: Any) -> list:
    """The leaves of `x` in order (dicts by insertion order)."""
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in flatten(v)]
    if isinstance(x, (list, tuple)):
        return [leaf for v in x for leaf in flatten(v)]
    return [x]


def map_structure(fn: Callable[[Any], Any], x: Any) -> Any:
    """`x` with every leaf replaced by `fn(leaf)` (lists stay lists, tuples tuples)."""
    if isinstance(x, dict):
        return {k: map_structure(fn, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(map_structure(fn, v) for v in x)
    return fn(x)


def pack_like(structure: Any, leaves: list) -> Any:
    """`leaves` (a flat list) put back into the shape of `structure`."""
    it = iter(leaves)
    return map_structure(lambda _: next(it), structure)
