"""Where a GPU training step's time goes: per-phase host and device times, host syncs.

    python benchmarks/gpu_profile.py [--hidden 512,512] [--batch 128] [--steps 200]

For the 784-hidden-10 ReLU MLP with Adam it times, with `cupyx.profiler.benchmark` (host time
= Python and kernel launches, device time = CUDA events), the phases forward, forward+loss,
+backward and the full step, for gradkit and (where installed) PyTorch. A step whose host time
exceeds its device time is launch-bound: fewer, fused kernels help, bigger GEMMs don't. It
also runs one full step under `cupyx.allow_synchronize(False)`, which raises at any hidden
device-to-host synchronisation (an `int()` of a device value, say).
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np


def _gk_phases(gk, hidden, batch):
    nn = gk.nn
    sizes = (784, *hidden)
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(sizes[-1], 10)).to("cuda")
    opt = gk.optim.Adam(model.parameters(), lr=1e-3)
    ce = gk.nn.functional.cross_entropy
    rng = np.random.default_rng(0)
    x = gk.tensor(rng.random((batch, 784), dtype=np.float32), device="cuda")
    y = gk.tensor(rng.integers(0, 10, batch), device="cuda")

    def forward():
        with gk.no_grad():
            model(x)

    def loss():
        ce(model(x), y)

    def backward():
        opt.zero_grad()
        ce(model(x), y).backward()

    def step():
        opt.zero_grad()
        ce(model(x), y).backward()
        opt.step()

    return {"forward (no_grad)": forward, "forward+loss": loss, "+backward": backward,
            "full step": step}


def _torch_phases(torch, hidden, batch):
    sizes = (784, *hidden)
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], 10)).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ce = torch.nn.functional.cross_entropy
    x = torch.rand(batch, 784, device="cuda")
    y = torch.randint(0, 10, (batch,), device="cuda")

    def forward():
        with torch.no_grad():
            model(x)

    def loss():
        ce(model(x), y)

    def backward():
        opt.zero_grad(set_to_none=True)
        ce(model(x), y).backward()

    def step():
        opt.zero_grad(set_to_none=True)
        ce(model(x), y).backward()
        opt.step()

    return {"forward (no_grad)": forward, "forward+loss": loss, "+backward": backward,
            "full step": step}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", default="512,512")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=200)
    args = p.parse_args()
    hidden = tuple(int(h) for h in args.hidden.split(","))

    import cupyx
    from cupyx.profiler import benchmark

    import gradkit as gk

    contenders = {"gradkit": _gk_phases(gk, hidden, args.batch)}
    try:
        import torch

        contenders["torch"] = _torch_phases(torch, hidden, args.batch)
    except ImportError:
        pass
    print(f"784-{'-'.join(map(str, hidden))}-10 ReLU MLP, Adam, batch {args.batch}: "
          f"median µs per call over {args.steps} calls")
    print(f"{'phase':<20}" + "".join(f"{w + ' host':>14}{w + ' gpu':>14}" for w in contenders))
    for phase in contenders["gradkit"]:
        cells = ""
        for phases in contenders.values():
            r = benchmark(phases[phase], n_repeat=args.steps, n_warmup=20)
            cells += (f"{statistics.median(r.cpu_times) * 1e6:>14.1f}"
                      f"{statistics.median(r.gpu_times[0]) * 1e6:>14.1f}")
        print(f"{phase:<20}{cells}")
    step = contenders["gradkit"]["full step"]
    try:
        with cupyx.allow_synchronize(False):
            step()
        print("gradkit full step: no host synchronisation")
    except Exception as e:  # cupyx raises DeviceSynchronized at the offending call
        import traceback

        print(f"gradkit full step synchronises with the host: {type(e).__name__}: {e}")
        traceback.print_exc()


if __name__ == "__main__":
    main()
