"""Peak-memory probe: one contender trains one epoch in this fresh process.

    python benchmarks/suite/probe.py CONTENDER DATA.npz BATCH_SIZE THREADS

Run as a script (not `-m gradkit...`), so that PyTorch's and NumPy's probes never import
gradkit. Prints one JSON line: the peak resident set size after imports and data loading, and
after the epoch, in MiB.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import sys
from pathlib import Path


def _peak_mib() -> float:
    """This process's peak resident set size in MiB.

    Linux: VmHWM of /proc/self/status (ru_maxrss would also count the parent's pages from
    before the exec of this interpreter); elsewhere ru_maxrss.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _load(name: str):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.py")
    spec = importlib.util.spec_from_file_location("gradkit_bench_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def main(argv: list[str]) -> None:
    contender, data_path, batch_size, threads = argv[0], argv[1], int(argv[2]), int(argv[3])
    import numpy as np

    if contender == "torch":
        import torch

        torch.set_num_threads(threads)
        cls = _load("TorchLoop")
    elif contender == "numpy":
        cls = _load("NumpyMLP")
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root
        from benchmarks.suite.contenders import CONTENDERS

        cls = CONTENDERS[contender]
    with np.load(data_path) as f:
        x, y = f["x"], f["y"]
    trainer = cls([x.shape[1], 512, 512, 10])
    trainer.set_data(x, y)
    before = _peak_mib()
    trainer.epoch(batch_size)
    print(json.dumps({"loaded_mib": before, "peak_mib": _peak_mib()}))


if __name__ == "__main__":
    main(sys.argv[1:])
