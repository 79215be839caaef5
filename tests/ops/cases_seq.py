"""Op-table cases of the sequence ops (joined to tests/ops/cases.py CASES)."""

from __future__ import annotations

from .cases import Case  # noqa: F401  (defined before cases.py imports this file)

CASES: list = []
