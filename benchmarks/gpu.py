"""GPU training throughput: gradkit (CuPy) vs PyTorch (CUDA, eager), samples per second.

    python benchmarks/gpu.py [--repeats 5] [--json benchmarks/results/gpu.json]

Cases (float32, Adam, softmax cross-entropy, MNIST-shaped synthetic data kept on the GPU):
  mlp-b128    784-512-512-10 MLP (ReLU), batch 128
  mlp-b1024   784-512-512-10 MLP (ReLU), batch 1024
  wide-b1024  784-4096-4096-10 MLP (ReLU), batch 1024
Contenders, interleaved within each repeat (the table shows medians):
  gradkit       a hand-written loop: zero_grad, forward, cross_entropy, backward, Adam step
  gradkit-fit   model.fit on device tensors (the Keras-style loop, metrics and progress off)
  torch         the same loop in PyTorch eager mode
Each timing runs a fixed number of steps between two device synchronisations, so queued
kernels are counted. Matrix products are full float32 on both sides (no TF32) unless --tf32.
Without a CUDA GPU (gk.cuda.is_available() is False) it exits with a message and status 2;
`--device cpu --quick` runs the same harness on the CPU (a smoke test, not a GPU result).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

CASES = {  # name: (hidden widths, batch size, timed steps per repeat)
    "mlp-b128": ((512, 512), 128, 300),
    "mlp-b1024": ((512, 512), 1024, 150),
    "wide-b1024": ((4096, 4096), 1024, 60),
}
QUICK = {"mlp-b128": ((64, 64), 128, 5), "mlp-b1024": ((64, 64), 1024, 3),
         "wide-b1024": ((256, 256), 1024, 2)}
N_SAMPLES, N_FEATURES, N_CLASSES = 60_000, 784, 10
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "gpu.json"


def _data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, N_FEATURES), dtype=np.float32)
    y = rng.integers(0, N_CLASSES, n).astype(np.int64)
    return x, y


# ---- gradkit -------------------------------------------------------------------------------


def _gk_model(gk, hidden, device):
    nn = gk.nn
    sizes = (N_FEATURES, *hidden)
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], N_CLASSES)).to(device)


def gradkit_contenders(gk, hidden, batch, steps, x, y, device):
    """{'gradkit': run(), 'gradkit-fit': run()}: each trains `steps` batches, synchronised."""
    model = _gk_model(gk, hidden, device)
    opt = gk.optim.Adam(model.parameters(), lr=1e-3)
    ce = gk.nn.functional.cross_entropy
    xd, yd = gk.tensor(x, device=device), gk.tensor(y, device=device)
    n = len(x)
    gen, xp = gk.random.generator(device), gk.backend.namespace(device)

    def loop():
        perm = gk.Tensor(xp.argsort(gen.random(n))[: steps * batch])  # made on the device
        for i in range(steps):
            idx = perm[i * batch:(i + 1) * batch]
            opt.zero_grad()
            loss = ce(model(xd[idx]), yd[idx])
            loss.backward()
            opt.step()
        gk.cuda.synchronize()

    fit_model = _gk_model(gk, hidden, device)
    fit_model.compile(optimizer=gk.optim.Adam(fit_model.parameters(), lr=1e-3),
                      loss="cross_entropy")
    xs, ys = xd[: steps * batch], yd[: steps * batch]

    def fit():
        fit_model.fit(xs, ys, epochs=1, batch_size=batch, shuffle=True, verbose=0)
        gk.cuda.synchronize()

    return {"gradkit": loop, "gradkit-fit": fit}


# ---- PyTorch -------------------------------------------------------------------------------


def torch_contender(torch, hidden, batch, steps, x, y, device):
    sizes = (N_FEATURES, *hidden)
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], N_CLASSES)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ce = torch.nn.functional.cross_entropy
    xd = torch.from_numpy(x).to(device)
    yd = torch.from_numpy(y).to(device)
    n = len(x)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def loop():
        perm = torch.randperm(n, device=device)[: steps * batch]
        for i in range(steps):
            idx = perm[i * batch:(i + 1) * batch]
            opt.zero_grad(set_to_none=True)
            loss = ce(model(xd[idx]), yd[idx])
            loss.backward()
            opt.step()
        sync()

    return loop


# ---- measuring -----------------------------------------------------------------------------


def measure(contenders: dict, repeats: int, samples_per_run: int, warmup: int = 2) -> dict:
    """Median samples/s of each contender over `repeats` interleaved runs (after warm-up
    runs, which compile kernels and fill the memory pools)."""
    for _ in range(warmup):
        for fn in contenders.values():
            fn()
    runs = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            fn()
            runs[name].append(samples_per_run / (time.perf_counter() - t0))
    return {name: {"median": statistics.median(v), "runs": v} for name, v in runs.items()}


def _versions(gk, torch) -> dict:
    out = {"python": platform.python_version(), "numpy": np.__version__,
           "gradkit": getattr(gk, "__version__", None),
           "torch": getattr(torch, "__version__", None)}
    try:
        cp = gk.backend.cupy_module()
        out["cupy"] = cp.__version__
        out["cuda_runtime"] = cp.cuda.runtime.runtimeGetVersion()
        props = cp.cuda.runtime.getDeviceProperties(0)
        name = props["name"]
        out["gpu"] = name.decode() if isinstance(name, bytes) else str(name)
    except Exception:  # no CuPy (the --device cpu smoke test)
        pass
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    p.add_argument("--json", default=str(DEFAULT_JSON), help="write the results here "
                   "('' for nowhere)")
    p.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu for a "
                   "smoke test of this script")
    p.add_argument("--tf32", action="store_true", help="let both libraries use TF32 matmuls")
    p.add_argument("--quick", action="store_true", help="tiny sizes and few steps (smoke test)")
    p.add_argument("--no-torch", action="store_true", help="time gradkit alone")
    args = p.parse_args(argv)
    if args.tf32:
        os.environ["CUPY_TF32"] = "1"  # read by CuPy when it loads (gradkit loads it lazily)

    import gradkit as gk

    on_gpu = args.device != "cpu"
    if on_gpu and not gk.cuda.is_available():
        print("benchmarks/gpu.py: no CUDA GPU here (gk.cuda.is_available() is False: CuPy is "
              "missing or sees no GPU; pip install 'gradkit[cuda]'). Run it on a GPU machine, "
              "or pass --device cpu --quick to smoke-test the script.", file=sys.stderr)
        raise SystemExit(2)
    device = args.device if args.device != "cuda" else "cuda:0"
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: timing gradkit alone", file=sys.stderr)
        else:
            if on_gpu and not torch.cuda.is_available():
                print("PyTorch sees no CUDA GPU: timing gradkit alone", file=sys.stderr)
                torch = None
            elif on_gpu:
                torch.backends.cuda.matmul.allow_tf32 = args.tf32
                torch.backends.cudnn.allow_tf32 = args.tf32
    cases = QUICK if args.quick else CASES
    repeats = 1 if args.quick else args.repeats
    x, y = _data(2_048 if args.quick else N_SAMPLES)
    gk.manual_seed(0)
    results = {}
    for name in args.cases:
        hidden, batch, steps = cases[name]
        steps = min(steps, len(x) // batch)
        contenders = gradkit_contenders(gk, hidden, batch, steps, x, y, device)
        if torch is not None:
            torch.manual_seed(0)
            contenders["torch"] = torch_contender(torch, hidden, batch, steps, x, y, device)
        res = measure(contenders, repeats, steps * batch, warmup=1 if args.quick else 2)
        results[name] = {"hidden": list(hidden), "batch": batch, "steps": steps, **res}
        if "torch" in res:
            for who in ("gradkit", "gradkit-fit"):
                results[name][f"{who}/torch"] = res[who]["median"] / res["torch"]["median"]
    info = {"device": device, "dtype": "float32", "tf32": args.tf32, "repeats": repeats,
            "quick": args.quick, "command": "python benchmarks/gpu.py " + " ".join(
                argv if argv is not None else sys.argv[1:]),
            "versions": _versions(gk, torch), "unit": "samples/s (median)"}
    _print(results, info)
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**info, "results": results}, indent=1) + "\n")
        print(f"wrote {path}")
    return results


def _print(results: dict, info: dict) -> None:
    v = info["versions"]
    print(f"training throughput on {v.get('gpu', info['device'])} ({info['device']}), "
          f"samples/s, median of {info['repeats']} (higher is better)")
    print(f"gradkit {v['gradkit']}, cupy {v.get('cupy')}, torch {v['torch']}, "
          f"numpy {v['numpy']}, tf32 {info['tf32']}")
    who = ["gradkit", "gradkit-fit", "torch"]
    print(f"{'case':<12}{'net':<18}{'batch':>6}" + "".join(f"{w:>14}" for w in who)
          + f"{'gradkit/torch':>15}")
    for name, r in results.items():
        net = "-".join(map(str, (N_FEATURES, *r["hidden"], N_CLASSES)))
        cells = "".join(f"{r[w]['median']:>14,.0f}" if w in r else f"{'-':>14}" for w in who)
        ratio = f"{r['gradkit/torch']:>14.2f}x" if "gradkit/torch" in r else f"{'-':>15}"
        print(f"{name:<12}{net:<18}{r['batch']:>6}{cells}{ratio}")


if __name__ == "__main__":
    main()
