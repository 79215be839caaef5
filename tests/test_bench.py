"""The benchmark suite runs end to end (`--quick`: tiny subsets, no timing assertions) and
writes its tables and JSON; `gradkit bench --gemm` reports the GEMM seam.

Runs with the peers (jax.jit, Keras on JAX) are subprocesses: the suite imports Keras with
KERAS_BACKEND=jax, which must not happen in the test process (tests/keras use torch's)."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from benchmarks.suite import main
from gradkit.cli import main as cli_main

pytest.importorskip("torch")
CLASSIC = "gradkit,gradkit fit,torch,numpy"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAVE_PEERS = all(importlib.util.find_spec(m) for m in ("jax", "keras"))


def _suite(args, tmp_path) -> dict:
    """`python -m benchmarks ARGS --json` in a fresh interpreter; the saved results."""
    out = tmp_path / "results" / "latest.json"
    res = subprocess.run([sys.executable, "-m", "benchmarks", *args, "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "## Targets (issues 20 and 7)" in res.stdout and "## Machine" in res.stdout
    return json.loads(out.read_text())


def _targets(saved):
    return {t["target"]: t for t in saved["targets"]}


@pytest.mark.slow
def test_bench_quick_runs_every_section_with_every_contender(tmp_path):
    saved = _suite(["--quick"], tmp_path)
    for section in ("mnist", "wide", "tiny", "inference", "gemm", "memory", "import",
                    "scaling"):
        assert section in saved, section
    assert saved["memory"]["gradkit"]["peak_mib"] > 0
    assert saved["import"]["gradkit"]["seconds"] > 0
    assert len(saved["targets"]) == 20  # 13, and 7 for the compiled loop
    assert saved["command"].startswith("python -m benchmarks --quick")


def test_bench_quick_training_inference_and_gemm_sections(tmp_path, capsys):
    out = tmp_path / "r.json"
    main(["--quick", "--sections", "mnist,wide,inference,gemm", "--contenders", CLASSIC,
          "--json", str(out)])
    saved = json.loads(out.read_text())
    assert saved["contenders"] == CLASSIC.split(",")
    assert set(saved["mnist"]) == {"32", "128", "512"}
    for rows in [*saved["mnist"].values(), saved["wide"]["rows"]]:
        assert {"gradkit", "torch", "numpy"} <= set(rows)
        assert all(r["samples_per_s"] > 0 for r in rows.values())
    inf = saved["inference"]
    assert set(inf["latency"]) == set(CLASSIC.split(",")) and inf["latency"]["gradkit"]["us"] > 0
    assert all(r["samples_per_s"] > 0 for r in inf["throughput"].values())
    gemm = saved["gemm"]
    assert {"numpy", "torch"} <= set(gemm["libraries"])
    assert set(gemm["ceiling"]) == {"mlp b32", "wide b64"}
    for c in gemm["ceiling"].values():
        assert c["gflops"] > 0 and c["limit_samples_per_s"] > 0
    targets = _targets(saved)
    assert targets["MLP batch 128: gradkit / torch samples/s"]["value"] > 0
    assert targets["MLP batch 128: gradkit / jax.jit samples/s"]["met"] is None  # not run
    assert saved["machine"]["cpu"] and saved["machine"]["gemm"]["library"]
    table = capsys.readouterr().out
    assert "## GEMM ceilings" in table and "gradkit's GEMM:" in table
    assert "## Wide net 784-64-64-10" in table and "batch 1, µs per call" in table
    targets_table = table[table.index("## Targets"):]
    assert "(smoke run)" in targets_table and "| met |" not in targets_table.replace(
        "| issue | target | value | goal | met |", "")  # a smoke run says no target is met


@pytest.mark.skipif(not HAVE_PEERS, reason="jax and keras are not installed")
def test_bench_runs_the_peers(tmp_path):
    saved = _suite(["--quick", "--sections", "tiny,inference", "--contenders",
                    "gradkit,jax.jit,keras (jax)"], tmp_path)
    assert saved["contenders"] == ["gradkit", "jax.jit", "keras (jax)"], saved["missing"]
    assert set(saved["tiny"]) == {"gradkit", "jax.jit", "keras (jax)"}
    assert all(r["us"] > 0 for r in saved["inference"]["latency"].values())


def test_bench_sections_subset_contenders_and_help(tmp_path, capsys):
    results = main(["--quick", "--sections", "tiny", "--contenders", "gradkit,numpy",
                    "--json", str(tmp_path / "r.json")])
    assert "tiny" in results and "mnist" not in results
    assert set(results["tiny"]) == {"gradkit", "numpy"}
    assert {t["met"] for t in results["targets"]} == {None}
    with pytest.raises(SystemExit, match="unknown tensorflow"):
        main(["--contenders", "gradkit,tensorflow"])
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--quick" in capsys.readouterr().out


def test_gradkit_bench_gemm_reports_the_seam(capsys):
    assert cli_main(["bench", "--gemm"]) == 0
    out = capsys.readouterr().out
    assert "GEMM:" in out and "installed GEMM extras" in out
    assert cli_main(["bench", "--gemm", "--oops"]) == 2


def test_summarize_takes_the_median_over_runs(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "summarize.py"
    spec = importlib.util.spec_from_file_location("summarize", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    files = []
    for i, (a, b) in enumerate([(1.2, 0.7), (0.9, 0.5), (1.05, 0.65)]):
        f = tmp_path / f"r{i}.json"
        f.write_text(json.dumps({"targets": [
            {"target": "speed", "value": a, "goal": 1.0, "op": ">="},
            {"target": "memory", "value": b, "goal": 0.6, "op": "<="}]}))
        files.append(str(f))
    lines = mod.summarize(files).splitlines()
    assert lines[0] == "| target | run 1 | run 2 | run 3 | median | goal | met |"
    assert lines[2] == "| speed | 1.2 | 0.9 | 1.05 | **1.05** | >= 1 | met |"
    assert lines[3] == "| memory | 0.7 | 0.5 | 0.65 | **0.65** | <= 0.6 | NOT met |"


def test_the_compiled_contender_trains_and_infers_like_the_eager_loop():
    import numpy as np

    from benchmarks.suite.contenders import GradkitJit, GradkitLoop

    rng = np.random.default_rng(0)
    x = rng.random((96, 20), dtype=np.float32)
    y = rng.integers(0, 4, 96)
    trainers = [GradkitLoop([20, 16, 4]), GradkitJit([20, 16, 4])]
    for t in trainers:
        t.set_data(x, y, x[:40])
        t.steps(3, 32)
        t.epoch(32)
    eager, jit = ([p.data for p in t.model.parameters()] for t in trainers)
    for a, b in zip(eager, jit):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trainers[1].infer(16), trainers[0].infer(16), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(trainers[1].infer1(x[:1]), trainers[0].infer1(x[:1]),
                               rtol=1e-5, atol=1e-6)
    assert trainers[1].step.plans  # the step really was compiled


def test_the_jit_targets_appear_when_the_compiled_loop_ran(tmp_path):
    results = main(["--quick", "--sections", "mnist,tiny", "--contenders",
                    "gradkit,gradkit jit,numpy", "--json", str(tmp_path / "r.json")])
    names = {t["target"] for t in results["targets"]}
    assert "MLP batch 128: gradkit jit / torch samples/s" in names
    assert "2-10-2 Tanh, batch 16: jax.jit / gradkit jit time per step" in names
    assert set(results["tiny"]) == {"gradkit", "gradkit jit", "numpy"}
    assert results["mnist"][128]["gradkit jit"]["samples_per_s"] > 0


def test_the_numpy_floor_runs_numpy_blas_at_its_own_thread_count():
    """gradkit's GEMM seam limits NumPy's BLAS to one thread when it uses another library;
    the floor must not inherit that handicap (and must leave the limit as it found it)."""
    import numpy as np

    threadpoolctl = pytest.importorskip("threadpoolctl", reason="sets BLAS threads")
    from benchmarks.suite.reference import NumpyMLP
    from gradkit.backend.gemm import usable_cores

    cores = usable_cores()
    if cores < 2:
        pytest.skip("one usable core: one thread is the default")
    blas = threadpoolctl.ThreadpoolController().select(user_api="blas")

    def threads() -> set:
        return {d["num_threads"] for d in blas.info()}

    floor = NumpyMLP([8, 6, 3])
    x = np.random.default_rng(0).random((16, 8), dtype=np.float32)
    floor.set_data(x, np.arange(16) % 3, x)
    seen = []
    step = floor.step
    floor.step = lambda xb, yb: (seen.append(threads()), step(xb, yb))  # type: ignore
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        floor.steps(2, 8)
        floor.epoch(8)
        assert threads() == {1}
    assert len(seen) == 4 and all(s == {cores} for s in seen)


def test_the_numpy_floor_loss_is_the_cross_entropy_even_where_softmax_underflows():
    import numpy as np

    from benchmarks.suite.reference import NumpyMLP

    floor = NumpyMLP([4, 3], lr=0.0)
    floor.W[0][...] = np.array([[100, 0, 0, 0], [0, 0, 0, 0], [-100, 0, 0, 0]], np.float32)
    floor.b[0][...] = 0
    x = np.array([[1, 0, 0, 0], [0, 1, 0, 0]], np.float32)
    y = np.array([2, 0])  # the first sample's label has probability exp(-200): 0 in float32
    floor.step(x, y)
    logits = x.astype(np.float64) @ floor.W[0].T.astype(np.float64)
    logp = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1,
                           keepdims=True)) - logits.max(1, keepdims=True)
    assert np.isfinite(floor.loss)
    np.testing.assert_allclose(floor.loss, -logp[[0, 1], y].mean(), rtol=1e-5)


def test_the_settle_pause_keeps_the_core_busy_instead_of_sleeping(monkeypatch):
    """measure.interleaved pauses busy (a slept core ran one-thread contenders up to 1.9x
    slower right after, skewing ratios towards libraries with their own threads)."""
    import time

    from benchmarks.suite import measure

    def no_sleep(seconds):
        raise AssertionError("the settle pause must not sleep")

    monkeypatch.setattr(time, "sleep", no_sleep)
    calls = []
    t0 = time.perf_counter()
    got = measure.interleaved({"a": lambda: calls.append("a") or 1.0,
                               "b": lambda: calls.append("b") or 2.0}, 2, pause=0.02)
    assert time.perf_counter() - t0 >= 4 * 0.02
    assert got == {"a": [1.0, 1.0], "b": [2.0, 2.0]} and calls == ["a", "b", "b", "a"]
