"""The fault-injection suite's summary line: how many of its cases ran, and how they ended."""

from __future__ import annotations

HERE = "tests/reliability/"
_OUTCOMES = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")


def count_cases(stats: dict) -> dict[str, str]:
    """nodeid -> outcome for every case of tests/reliability in a terminal reporter's stats
    (a failure or skip in any phase wins over a pass)."""
    seen: dict[str, str] = {}
    for outcome, reports in stats.items():
        if outcome not in _OUTCOMES:
            continue
        for rep in reports:
            nodeid = getattr(rep, "nodeid", "")
            if nodeid.startswith(HERE) and seen.get(nodeid) in (None, "passed"):
                seen[nodeid] = outcome
    return seen


def pytest_terminal_summary(terminalreporter) -> None:
    if getattr(terminalreporter, "_gradkit_fault_summary", False):
        return  # registered by two conftest files
    terminalreporter._gradkit_fault_summary = True
    seen = count_cases(terminalreporter.stats)
    if not seen:
        return
    counts: dict[str, int] = {}
    for outcome in seen.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    detail = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    terminalreporter.write_line(f"fault-injection: {len(seen)} cases ({detail})")
