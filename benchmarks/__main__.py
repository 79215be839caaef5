"""`python -m benchmarks`: the benchmark suite (see benchmarks/run.py and benchmarks/suite/)."""

from __future__ import annotations

import sys

from .suite import main

main(sys.argv[1:])
