"""The benchmark's tables (Markdown, readable in a terminal) and the targets of issue 7."""

from __future__ import annotations

from . import measure

FIT = "gradkit fit"


def brief(rows: dict, key: str) -> str:
    return ", ".join(f"{n} {_num(r[key])}" for n, r in rows.items())


def _num(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def _ratio(a, b) -> float | None:
    return None if a is None or not b else a / b


def _paired(rows: dict | None, a: str, b: str, key: str):
    """a / b as the median over repeats of the ratio within each repeat (both contenders ran
    back to back, so a drift of the machine's load cancels), else the ratio of medians."""
    if not rows or a not in rows or b not in rows:
        return None
    ra, rb = rows[a].get("runs"), rows[b].get("runs")
    if ra and rb and len(ra) == len(rb):
        return measure.median([x / y for x, y in zip(ra, rb)])
    return _ratio(rows[a][key], rows[b][key])


def _get(rows: dict | None, name: str, key: str):
    if not rows or name not in rows:
        return None
    return rows[name][key]


def _table(head: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)


def targets(res: dict) -> list[dict]:
    """Each target of issue 7: value, goal and whether it is met (None: not measured)."""
    out = []

    def add(name, value, goal, higher=True, note=""):
        met = None if value is None else (value >= goal if higher else value <= goal)
        out.append({"target": name, "value": value, "goal": goal,
                    "op": ">=" if higher else "<=", "met": met, "note": note})

    mnist = res.get("mnist", {})
    for bs, name, goal in ((128, "torch", 1.1), (128, "numpy", 0.9), (32, "torch", 1.0)):
        rows = mnist.get(bs) or mnist.get(str(bs))
        add(f"MNIST training, batch {bs}: gradkit / {name} samples/s",
            _paired(rows, "gradkit", name, "samples_per_s"), goal)
    rows = mnist.get(512) or mnist.get("512")
    ceiling = res.get("gemm", {}).get("gflops")
    add("MNIST training, batch 512: gradkit GFLOP/s / GEMM ceiling",
        _ratio(_get(rows, "gradkit", "gflops"), ceiling), 0.8)
    fit_ratios = [_paired(r, FIT, "gradkit", "samples_per_s") for r in mnist.values()]
    worst = None if not fit_ratios or None in fit_ratios else min(fit_ratios)
    add("fit / hand-written loop samples/s (worst batch size)", worst, 0.95,
        note="" if FIT in res.get("contenders", []) else res.get("fit", "pending"))
    tiny = res.get("tiny")
    add("2-10-2 Tanh, batch 16: torch / gradkit time per step",
        _paired(tiny, "torch", "gradkit", "us_per_step"), 3.0)
    inf = res.get("inference")
    who = FIT if inf and FIT in inf else "gradkit"
    add(f"inference: {'predict' if who == FIT else 'gradkit forward'} / torch samples/s",
        _paired(inf, who, "torch", "samples_per_s"), 1.0)
    mem = res.get("memory")
    add("peak memory, MNIST epoch: gradkit / torch",
        _ratio(_get(mem, "gradkit", "peak_mib"), _get(mem, "torch", "peak_mib")), 0.6,
        higher=False)
    add("import gradkit, seconds", _get(res.get("import"), "gradkit", "seconds"), 0.5,
        higher=False)
    return out


def render(res: dict) -> str:
    m = res["machine"]
    parts = [
        "## Machine",
        f"- CPU: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable)",
        f"- BLAS: {measure.blas_summary(m['blas'])}",
        f"- Python {m['python']}, NumPy {m['numpy']}, gradkit {m['gradkit']}, "
        f"PyTorch {m['torch'] or 'not installed'}"
        + (f" with torch.set_num_threads({m['torch_threads']})" if m["torch_threads"] else ""),
        f"- data: {res['data']['source']}, {res['data']['train']} training and "
        f"{res['data']['test']} test images; fit: {res['fit']}",
        f"- command: `{res['command']}` ({res['seconds']:.0f} s); load average (1/5/15 min) "
        f"before {m.get('load_before')}, after {m.get('load_after')}",
    ]
    if res.get("quick"):
        parts.append("- **--quick: a smoke test on tiny subsets; its numbers mean nothing**")
    names = res["contenders"]
    if "mnist" in res:
        parts += ["", _mnist(res, names)]
    if "tiny" in res:
        t = res["tiny"]
        cols = [n for n in names if n in t]
        parts += ["", "## 2-10-2 Tanh network, batch 16, plain SGD: microseconds per training "
                  f"step (median of {res['config']['tiny_repeats']} x "
                  f"{res['config']['tiny_steps']} steps)", "",
                  _table(cols + ["torch / gradkit"],
                         [[_num(t[n]["us_per_step"]) for n in cols]
                          + [_num(_paired(t, "torch", "gradkit", "us_per_step"))]])]
    if "inference" in res:
        t = res["inference"]
        cols = [n for n in names if n in t]
        label = {"gradkit": "gradkit (forward, no_grad)", FIT: "gradkit predict"}
        parts += ["", f"## Inference: samples/s on the {res['data']['test']} test images, "
                  f"batches of 256, no gradients (median of {res['config']['infer_repeats']})",
                  "", _table([label.get(n, n) for n in cols] + ["gradkit / torch"],
                             [[_num(t[n]["samples_per_s"]) for n in cols]
                              + [_num(_paired(t, FIT if FIT in t else "gradkit", "torch",
                                              "samples_per_s"))]])]
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
    parts += ["", "## Targets (issue 7)", "", _table(
        ["target", "value", "goal", "met"],
        [[t["target"], _num(t["value"]), f"{t['op']} {t['goal']}",
          {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
          if not (t["note"] and t["met"] is None) else f"pending ({t['note']})"]
         for t in res["targets"]])]
    return "\n".join(parts)


def _mnist(res: dict, names: list[str]) -> str:
    ceiling = res["gemm"]["gflops"]
    cols = ["gradkit", FIT, "torch", "numpy"]
    head = (["batch"] + [f"{c} samples/s" for c in cols]
            + ["gradkit / torch", "gradkit / numpy", "fit / loop",
               "GFLOP/s gradkit / torch / numpy", "gradkit % of GEMM ceiling"])
    body = []
    for bs, rows in res["mnist"].items():
        sp = {c: _get(rows, c, "samples_per_s") for c in cols}
        gf = {c: _get(rows, c, "gflops") for c in cols}
        body.append(
            [str(bs)] + [_num(sp[c]) if c in names else "pending" for c in cols]
            + [_num(_paired(rows, "gradkit", "torch", "samples_per_s")),
               _num(_paired(rows, "gradkit", "numpy", "samples_per_s")),
               _num(_paired(rows, FIT, "gradkit", "samples_per_s")) if FIT in names
               else "pending",
               " / ".join(_num(gf[c]) for c in ("gradkit", "torch", "numpy")),
               f"{100 * gf['gradkit'] / ceiling:.0f}%"])
    return "\n".join([
        "## MNIST MLP 784-512-512-10 ReLU, cross-entropy, SGD momentum 0.9: training "
        f"samples/s (one epoch of {res['data']['train']} images per repeat, median of "
        f"{res['config']['repeats']})", "", _table(head, body), "",
        f"GEMM ceiling: NumPy float32 {res['gemm']['n']}x{res['gemm']['n']} matmul, "
        f"{_num(ceiling)} GFLOP/s (median of {len(res['gemm']['runs'])}, same run). "
        "GFLOP/s count the matmuls of a training step (forward, weight gradients, input "
        "gradients of layers 2 and 3). Ratios here and below: the median over repeats of "
        "the ratio within a repeat (the contenders run back to back in each)."])


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
            cells = []
            for bs in batches:
                r = scaling.get(f"{w}/{bs}", {}).get(n)
                cells.append(_num(r["samples_per_s"]) if r else "-")
            body.append([str(w), n] + cells)
        ratio = []
        for bs in batches:
            rows = scaling.get(f"{w}/{bs}", {})
            ratio.append(_num(_paired(rows, "gradkit", "torch", "samples_per_s")))
        body.append([str(w), "gradkit / torch"] + ratio)
    return "\n".join([
        f"## Scaling: training samples/s, 784-W-W-10 ReLU (median of {len(first['runs'])} "
        "repeat(s) of one epoch on the first " + ", ".join(f"{samples[w]}" for w in widths)
        + " training images for widths " + ", ".join(map(str, widths)) + ")", "",
        _table(["width", "contender"] + [f"batch {b}" for b in batches], body)])
