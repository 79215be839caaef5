"""The issue-7 targets over several benchmark runs: each run's value, their median, met or not.

    python benchmarks/summarize.py RUN1.json RUN2.json ... > table.md

Each JSON is what `python -m benchmarks --json RUN.json` writes. A target counts as met when
the median of its per-run values meets the goal (each run's value is already a median of
interleaved repeats within that run).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path


def summarize(paths: list[str]) -> str:
    runs = [json.loads(Path(p).read_text()) for p in paths]
    names = [t["target"] for t in runs[0]["targets"]]
    head = "| target | " + " | ".join(f"run {i + 1}" for i in range(len(runs)))
    lines = [head + " | median | goal | met |",
             "|---|" + "---|" * len(runs) + "---|---|---|"]
    for i, name in enumerate(names):
        got = [r["targets"][i] for r in runs]
        values = [t["value"] for t in got]
        med = statistics.median(values)
        goal, op = got[0]["goal"], got[0]["op"]
        met = med >= goal if op == ">=" else med <= goal
        cells = " | ".join(f"{v:.3g}" for v in values)
        lines.append(f"| {name} | {cells} | **{med:.3g}** | {op} {goal:g} | "
                     f"{'met' if met else 'NOT met'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    print(summarize(sys.argv[1:]))
