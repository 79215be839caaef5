"""`python -m benchmarks`: the benchmark suite (see benchmarks/run.py and gradkit.bench)."""

from __future__ import annotations

import sys

from gradkit.bench import main

main(sys.argv[1:])
