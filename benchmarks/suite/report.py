"""The benchmark's tables (Markdown, readable in a terminal) and its targets (targets.py)."""

from __future__ import annotations

from . import measure
from .targets import FIT, JIT, paired, targets

__all__ = ["brief", "render", "targets"]
PEERS = ("torch", "jax.jit", "keras (jax)", "numpy")
JIT_PEERS = ("gradkit", "torch", "jax.jit", "numpy")  # the compiled loop's columns


def brief(rows: dict, key: str) -> str:
    return ", ".join(f"{n} {_num(r[key])}" for n, r in rows.items())


def _num(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def _table(head: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def _machine(res: dict) -> list[str]:
    m = res["machine"]
    g = m.get("gemm") or {}
    probe = "; ".join(f"{n} {r.get('float32', '-')}x" for n, r in g.get("probe", {}).items())
    lines = [
        "## Machine",
        f"- CPU: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable); flags: "
        + (", ".join(m.get("cpu_flags") or []) or "unknown"),
        f"- BLAS libraries: {measure.blas_summary(m['blas'])}",
        f"- gradkit's GEMM: {g.get('library', '?')} ({g.get('detail', '')}), "
        f"{g.get('threads') or 'NumPy'} thread(s), {g.get('source', '')}"
        + (f"; probe, float32 speed-up over NumPy: {probe}" if probe else ""),
        "- gk.compile's fused element-wise loops: " + (
            f"Numba {m['fusion']['numba']}" if (m.get("fusion") or {}).get("numba") and
            m["fusion"]["requested"] else "off (one NumPy call per op)"),
        f"- Python {m['python']}, NumPy {m['numpy']}, gradkit {m['gradkit']}, "
        f"PyTorch {m['torch'] or 'not installed'}"
        + (f" with torch.set_num_threads({m['torch_threads']})" if m["torch_threads"] else ""),
        f"- data: {res['data']['source']}, {res['data']['train']} training and "
        f"{res['data']['test']} test images; contenders: {', '.join(res['contenders'])}",
        f"- command: `{res['command']}` ({res['seconds']:.0f} s); load average (1/5/15 min) "
        f"before {m.get('load_before')}, after {m.get('load_after')}",
    ]
    lines += [f"- not run: {n}: {why}" for n, why in (res.get("missing") or {}).items()]
    if res.get("quick"):
        lines.append("- **--quick: a smoke test on tiny subsets; its numbers mean nothing**")
    return lines


def _training_rows(res: dict, label: str, rows: dict, names: list[str], workload: str):
    """One table row of a training section: samples/s each, ratios, % of the ceiling."""
    c = (res.get("gemm") or {}).get("ceiling", {}).get(workload)
    cells = [label] + [_num(rows[n]["samples_per_s"]) if n in rows else "-" for n in names]
    cells += [_num(paired(rows, "gradkit", p, "samples_per_s")) for p in PEERS if p in names]
    if JIT in names:
        cells += [_num(paired(rows, JIT, p, "samples_per_s")) for p in JIT_PEERS
                  if p in names]
    cells.append(_num(paired(rows, FIT, "gradkit", "samples_per_s")) if FIT in rows else "-")
    for who in ("gradkit", JIT) if JIT in names else ("gradkit",):
        g = rows.get(who, {}).get("samples_per_s")
        cells.append(f"{100 * g / c['limit_samples_per_s']:.0f}% ({c['library']})"
                     if c and g else "-")
    return cells


def _training(res: dict, names: list[str]) -> list[str]:
    head = (["batch"] + [f"{n}" for n in names]
            + [f"gradkit / {p}" for p in PEERS if p in names]
            + ([f"jit / {p}" for p in JIT_PEERS if p in names]
               if JIT in names else [])
            + ["fit / loop", "gradkit % of GEMM ceiling"]
            + (["jit % of GEMM ceiling"] if JIT in names else []))
    parts = []
    if "mnist" in res:
        body = [_training_rows(res, str(bs), rows, names, f"mlp b{bs}")
                for bs, rows in res["mnist"].items()]
        parts += ["", "## MNIST MLP 784-512-512-10 ReLU, cross-entropy, SGD momentum 0.9: "
                  f"training samples/s (one epoch of {res['data']['train']} images per repeat, "
                  f"median of {res['config']['repeats']})", "", _table(head, body)]
    if "wide" in res:
        w = res["wide"]
        body = [_training_rows(res, str(w["batch"]), w["rows"], names,
                               f"wide b{w['batch']}")]
        parts += ["", f"## Wide net {'-'.join(map(str, w['sizes']))}: training samples/s "
                  f"(a pass over {w['samples']} images per repeat, median of "
                  f"{res['config']['repeats']})", "", _table(head, body)]
    if parts:
        parts += ["", "Ratios: the median over repeats of the ratio within a repeat. The GEMM "
                  "ceiling: the step's matrix products alone at the best library's rate "
                  "(the gemm section), as samples/s."]
    return parts


def _tiny(res: dict, names: list[str]) -> list[str]:
    t = res["tiny"]
    cols = [n for n in names if n in t]
    pairs = [("gradkit", p) for p in PEERS if p in cols]
    pairs += [(JIT, p) for p in JIT_PEERS if p in cols] if JIT in cols else []
    return ["", "## 2-10-2 Tanh network, batch 16, plain SGD: microseconds per training "
            f"step (median of {res['config']['tiny_repeats']} x {res['config']['tiny_steps']} "
            "steps)", "",
            _table(cols + [f"{p} / {g}" for g, p in pairs],
                   [[_num(t[n]["us_per_step"]) for n in cols]
                    + [_num(paired(t, p, g, "us_per_step")) for g, p in pairs]])]


def _inference(res: dict, names: list[str]) -> list[str]:
    inf = res["inference"]
    lat, thr = inf["latency"], inf["throughput"]
    cols = [n for n in names if n in lat]
    label = {"gradkit": "gradkit model(x)", FIT: "gradkit predict",
             JIT: "gradkit jit model(x)"}
    body = [["batch 1, µs per call"] + [_num(lat[n]["us"]) for n in cols]
            + [_num(paired(lat, p, "gradkit", "us")) for p in PEERS if p in cols],
            [f"batch {inf['batch']}, samples/s"] + [_num(thr[n]["samples_per_s"]) for n in cols]
            + [_num(paired(thr, "gradkit", p, "samples_per_s")) for p in PEERS if p in cols]]
    return ["", "## Inference, MNIST MLP, no gradients: one sample's latency "
            f"({inf['latency_calls']} calls) and throughput on the {res['data']['test']} "
            f"test images (median of {res['config']['infer_repeats']})", "",
            _table(["", *(label.get(n, n) for n in cols)]
                   + [f"gradkit vs {p}" for p in PEERS if p in cols], body),
            "", "gradkit vs X: X's latency / gradkit's (batch 1), gradkit's samples/s / X's "
            "(batch 1024): above 1, gradkit is faster."]


def _gemm(res: dict) -> list[str]:
    g = res["gemm"]
    loads = list(g["ceiling"])
    body = []
    for name, r in g["libraries"].items():
        if "error" in r:
            body.append([name, f"failed: {r['error']}"] + [""] * (len(loads) - 1))
            continue
        body.append([f"{name} ({r['detail']}, {r['threads'] or '-'} thr.)"]
                    + [_num(r["workloads"][w]) for w in loads])
    body.append(["**ceiling (best)**"] + [f"**{_num(g['ceiling'][w]['gflops'])}** "
                                          f"({g['ceiling'][w]['library']})" for w in loads])
    body.append(["limit, samples/s"] + [_num(g["ceiling"][w]["limit_samples_per_s"])
                                        for w in loads])
    return ["", "## GEMM ceilings: GFLOP/s of each library on each training step's own products "
            "(float32, best of 5 each)", "", _table(["library"] + loads, body)]


def _classic(res: dict) -> list[str]:
    parts = []
    if "memory" in res:
        t = res["memory"]
        parts += ["", "## Peak resident memory of one MNIST epoch at batch 128, each in a fresh "
                  "process (MiB)", "",
                  _table(["contender", "after imports + data", "peak", "training adds"],
                         [[n, _num(r["loaded_mib"]), _num(r["peak_mib"]),
                           _num(r["peak_mib"] - r["loaded_mib"])] for n, r in t.items()])]
    if "import" in res:
        t = res["import"]
        parts += ["", f"## Import time in a fresh interpreter, seconds (median of "
                  f"{res['config']['import_repeats']})", "",
                  _table(list(t), [[f"{r['seconds']:.3f}" for r in t.values()]])]
    if "scaling" in res:
        parts += ["", _scaling(res["scaling"])]
    return parts


def render(res: dict) -> str:
    names = res["contenders"]
    parts = _machine(res) + _training(res, names)
    if "tiny" in res:
        parts += _tiny(res, names)
    if "inference" in res:
        parts += _inference(res, names)
    if "gemm" in res:
        parts += _gemm(res)
    parts += _classic(res)
    status = {True: "met", False: "NOT met", None: "not measured"}
    if res.get("quick"):  # tiny subsets: a smoke test, not a measurement of any target
        status = {True: "(smoke run)", False: "(smoke run)", None: "not measured"}
    parts += ["", "## Targets (issues 20 and 7)", "", _table(
        ["issue", "target", "value", "goal", "met"],
        [[str(t["issue"]), t["target"], _num(t["value"]), f"{t['op']} {t['goal']}",
          status[t["met"]] if not (t["note"] and t["met"] is None)
          else f"pending ({t['note']})"] for t in res["targets"]])]
    return "\n".join(parts)


def _scaling(scaling: dict) -> str:
    widths = sorted({r["width"] for rows in scaling.values() for r in rows.values()})
    batches = sorted({r["batch"] for rows in scaling.values() for r in rows.values()})
    names = list(next(iter(scaling.values())))
    first = next(iter(next(iter(scaling.values())).values()))
    samples = {w: next(r["samples"] for rows in scaling.values() for r in rows.values()
                       if r["width"] == w) for w in widths}
    body = []
    for w in widths:
        for n in names:
            cells = [_num(r["samples_per_s"]) if (r := scaling.get(f"{w}/{bs}", {}).get(n))
                     else "-" for bs in batches]
            body.append([str(w), n] + cells)
        body.append([str(w), "gradkit / torch"] + [
            _num(paired(scaling.get(f"{w}/{bs}", {}), "gradkit", "torch", "samples_per_s"))
            for bs in batches])
    return "\n".join([
        f"## Scaling: training samples/s, 784-W-W-10 ReLU (median of {len(first['runs'])} "
        "repeat(s) of one epoch on the first " + ", ".join(f"{samples[w]}" for w in widths)
        + " training images for widths " + ", ".join(map(str, widths)) + ")", "",
        _table(["width", "contender"] + [f"batch {b}" for b in batches], body)])
