"""The targets of issue 20 (CPU speed, round two) and those of issue 7 still measured.

Each ratio is paired: the median over repeats of the ratio within a repeat (the contenders
ran back to back in it, so a drift of the machine's load cancels).
"""

from __future__ import annotations

from . import measure

FIT = "gradkit fit"
JIT = "gradkit jit"


def paired(rows: dict | None, a: str, b: str, key: str):
    """a / b as the median over repeats of the ratio within each repeat, else the ratio of
    medians (None when either is missing)."""
    if not rows or a not in rows or b not in rows:
        return None
    ra, rb = rows[a].get("runs"), rows[b].get("runs")
    if ra and rb and len(ra) == len(rb):
        return measure.median([x / y for x, y in zip(ra, rb)])
    va, vb = rows[a].get(key), rows[b].get(key)
    return None if va is None or not vb else va / vb


def _rows(section: dict | None, bs: int) -> dict | None:
    if not section:
        return None
    return section.get(bs) or section.get(str(bs))


def ceiling_ratio(res: dict, workload: str, rows: dict | None, who: str = "gradkit"):
    """`who`'s samples/s over the workload's limit (its products at the best library's
    rate), from the gemm section."""
    c = res.get("gemm", {}).get("ceiling", {}).get(workload)
    if not c or not rows or who not in rows:
        return None
    return rows[who]["samples_per_s"] / c["limit_samples_per_s"]


def targets(res: dict) -> list[dict]:
    """Each target: value, goal, op, met (None: not measured), issue."""
    out = []

    def add(issue, name, value, goal, higher=True, note=""):
        met = None if value is None else (value >= goal if higher else value <= goal)
        out.append({"issue": issue, "target": name, "value": value, "goal": goal,
                    "op": ">=" if higher else "<=", "met": met, "note": note})

    mnist, wide = res.get("mnist"), (res.get("wide") or {}).get("rows")
    b128, b512 = _rows(mnist, 128), _rows(mnist, 512)
    add(20, "MLP batch 128: gradkit / torch samples/s",
        paired(b128, "gradkit", "torch", "samples_per_s"), 1.1)
    add(20, "MLP batch 128: gradkit / jax.jit samples/s",
        paired(b128, "gradkit", "jax.jit", "samples_per_s"), 1.0)
    add(20, "wide net batch 256: gradkit / torch samples/s",
        paired(wide, "gradkit", "torch", "samples_per_s"), 1.0)
    add(20, "wide net batch 256: gradkit / jax.jit samples/s",
        paired(wide, "gradkit", "jax.jit", "samples_per_s"), 1.0)
    add(20, "MLP batch 512: gradkit / its GEMM ceiling (best library)",
        ceiling_ratio(res, "mlp b512", b512), 0.9)
    _compiled(add, res, b128, wide, b512)
    inf = res.get("inference") or {}
    add(20, "inference batch 1: torch / gradkit latency (model(x), no_grad)",
        paired(inf.get("latency"), "torch", "gradkit", "us"), 1.0)
    add(20, f"inference batch {inf.get('batch', 1024)}: gradkit predict / torch samples/s",
        paired(inf.get("throughput"), FIT if FIT in (inf.get("throughput") or {})
               else "gradkit", "torch", "samples_per_s"), 1.0)
    add(7, "MLP batch 128: gradkit / numpy samples/s",
        paired(b128, "gradkit", "numpy", "samples_per_s"), 0.9)
    add(7, "MLP batch 32: gradkit / torch samples/s",
        paired(_rows(mnist, 32), "gradkit", "torch", "samples_per_s"), 1.0)
    fit_ratios = [paired(r, FIT, "gradkit", "samples_per_s") for r in (mnist or {}).values()]
    worst = None if not fit_ratios or None in fit_ratios else min(fit_ratios)
    add(7, "fit / hand-written loop samples/s (worst batch size)", worst, 0.95,
        note="" if FIT in res.get("contenders", []) else res.get("fit", "pending"))
    add(7, "2-10-2 Tanh, batch 16: torch / gradkit time per step",
        paired(res.get("tiny"), "torch", "gradkit", "us_per_step"), 3.0)
    mem = res.get("memory") or {}
    ratio = None
    if "gradkit" in mem and "torch" in mem:
        ratio = mem["gradkit"]["peak_mib"] / mem["torch"]["peak_mib"]
    add(7, "peak memory, MNIST epoch: gradkit / torch", ratio, 0.6, higher=False)
    imp = (res.get("import") or {}).get("gradkit")
    add(7, "import gradkit, seconds", imp["seconds"] if imp else None, 0.5, higher=False)
    return out


def _compiled(add, res: dict, b128, wide, b512) -> None:
    """Issue 20's training targets for the compiled loop (`gk.compile`), when it ran."""
    if JIT not in res.get("contenders", []):
        return
    add(20, "MLP batch 128: gradkit jit / torch samples/s",
        paired(b128, JIT, "torch", "samples_per_s"), 1.1)
    add(20, "MLP batch 128: gradkit jit / jax.jit samples/s",
        paired(b128, JIT, "jax.jit", "samples_per_s"), 1.0)
    add(20, "wide net batch 256: gradkit jit / torch samples/s",
        paired(wide, JIT, "torch", "samples_per_s"), 1.0)
    add(20, "wide net batch 256: gradkit jit / jax.jit samples/s",
        paired(wide, JIT, "jax.jit", "samples_per_s"), 1.0)
    add(20, "MLP batch 512: gradkit jit / its GEMM ceiling (best library)",
        ceiling_ratio(res, "mlp b512", b512, JIT), 0.9)
    add(20, "2-10-2 Tanh, batch 16: jax.jit / gradkit jit time per step",
        paired(res.get("tiny"), "jax.jit", JIT, "us_per_step"), 1.0)
    add(20, "inference batch 1: torch / gradkit jit latency (compiled no_grad forward)",
        paired((res.get("inference") or {}).get("latency"), "torch", JIT, "us"), 1.0)
