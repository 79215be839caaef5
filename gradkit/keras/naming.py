"""Keras's automatic names: `dense`, `dense_1`, ... one counter per base name, per session."""

from __future__ import annotations

import re

_COUNTS: dict[str, int] = {}


def to_snake_case(name: str) -> str:
    """`"BatchNormalization"` -> `"batch_normalization"` (Keras's rule)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """`base` the first time, then `base_1`, `base_2`, ..."""
    n = _COUNTS.get(base, 0)
    _COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def clear_session() -> None:
    """Restart the name counters (`keras.backend.clear_session()`)."""
    _COUNTS.clear()
