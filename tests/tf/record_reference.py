"""Record TensorFlow's answers to the conformance cases and the lessons' results.

    pip install tensorflow-cpu          # in an environment of its own
    python tests/tf/record_reference.py # writes tests/tf/tf_reference.json

It runs every case of cases.py / cases_ops.py with TensorFlow itself, and each lesson of
tests/tf/lessons/ as it is (their own `import tensorflow as tf`), and stores what they
return. tests/tf/test_conformance.py and test_lessons.py compare gradkit.tf against it.
"""

from __future__ import annotations

import json
import os
import platform
import runpy
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "tf_reference.json"
LESSONS = sorted((HERE / "lessons").glob("*.py"))


def run_cases(tf) -> dict:
    """{case name: what it returns} (or {"error": type name} when it raises)."""
    sys.path.insert(0, str(HERE.parents[1]))
    from tests.tf import cases, cases_ops  # noqa: F401 - registers its cases

    found = {}
    for name, fn in cases.CASES.items():
        try:
            found[name] = fn(tf)
        except Exception as exc:  # recorded: the test expects the same failure
            found[name] = {"error": type(exc).__name__}
            print(f"case {name} raised {type(exc).__name__}: {exc}")
    return found


def run_lessons() -> dict:
    """{lesson file name: its RESULT}, each run as a script with TensorFlow."""
    out = {}
    for path in LESSONS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[path.name] = runpy.run_path(str(path), run_name="__main__")["RESULT"]
    return out


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf

    record = {"tensorflow": tf.__version__, "numpy": np.__version__,
              "python": platform.python_version(), "cases": run_cases(tf),
              "lessons": run_lessons()}
    OUT.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(record['cases'])} cases, {len(record['lessons'])} lessons)")


if __name__ == "__main__":
    main()
