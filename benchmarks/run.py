"""Run the gradkit benchmark suite (gradkit vs PyTorch vs hand-written NumPy), one command:

    python benchmarks/run.py [--quick] [--repeats 5] [--json benchmarks/results/latest.json]

(also `python -m benchmarks`). The logic lives in `benchmarks/suite/`; see `--help`.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
from benchmarks.suite import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
