"""`gradkit bench`: gradkit against PyTorch (CPU), jax.jit, Keras 3 on JAX and a
hand-written NumPy MLP, in one run.

    python -m benchmarks [--quick] [--repeats 5] [--sections ...] [--contenders ...]
                         [--json benchmarks/results/latest.json]

`main(argv)` is the entry point (the `benchmarks/` scripts and the `gradkit bench` command
call it); the run is in `run.py`, the training and inference sections in `sections.py`, the
GEMM ceilings in `ceiling.py`, the contenders in `contenders.py`, `reference.py` (PyTorch,
NumPy) and `peers.py` (jax.jit, Keras), the tables in `report.py`, the targets in
`targets.py`.
"""

from __future__ import annotations


def main(argv=None, prog: str = "python -m benchmarks") -> dict:
    """Run the benchmark (see `python -m benchmarks --help`); returns the results dict.
    `prog` is the command name its help and errors show."""
    from .run import main as run_main

    return run_main(argv, prog)


__all__ = ["main"]
