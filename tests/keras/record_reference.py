"""Run the lessons in tests/keras/lessons/ under Keras 3 itself (PyTorch backend) and record
their RESULTs in keras_reference.json, which test_lessons.py compares gradkit's runs with.

    KERAS_BACKEND=torch python tests/keras/record_reference.py
"""

from __future__ import annotations

import json
import os
import platform
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    import torch

    torch.set_num_threads(1)
    results = {}
    for path in sorted((HERE / "lessons").glob("*.py")):
        print(f"running {path.name} on Keras {keras.__version__}", file=sys.stderr)
        results[path.name] = runpy.run_path(str(path), run_name="__main__")["RESULT"]
    out = {"recorded_with": {"keras": keras.__version__, "backend": keras.backend.backend(),
                             "torch": torch.__version__, "python": platform.python_version()},
           "lessons": results}
    (HERE / "keras_reference.json").write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
