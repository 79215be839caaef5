"""Run the gradkit benchmark suite (gradkit vs PyTorch vs hand-written NumPy), one command:

    python benchmarks/run.py [--quick] [--repeats 5] [--json benchmarks/results/latest.json]

(also `python -m benchmarks`). The logic lives in `gradkit.bench`; see `--help`.
"""

from __future__ import annotations

import sys

from gradkit.bench import main

if __name__ == "__main__":
    main(sys.argv[1:])
