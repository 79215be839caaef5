"""The benchmark suite runs end to end (`--quick`: tiny subsets, every section, no timing
assertions) and writes its table and JSON."""

import json

import pytest

from benchmarks.suite import main

pytest.importorskip("torch")


def test_bench_quick_runs_every_section(tmp_path, capsys):
    out = tmp_path / "results" / "latest.json"
    results = main(["--quick", "--json", str(out)])
    saved = json.loads(out.read_text())
    for section in ("mnist", "gemm", "tiny", "inference", "memory", "import", "scaling"):
        assert section in saved, section
    assert set(saved["mnist"]) == {"32", "128", "512"}
    for rows in saved["mnist"].values():
        assert {"gradkit", "torch", "numpy"} <= set(rows)
        assert all(r["samples_per_s"] > 0 for r in rows.values())
    assert saved["memory"]["gradkit"]["peak_mib"] > 0
    assert saved["import"]["gradkit"]["seconds"] > 0
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["cpu"]
    names = [t["target"] for t in saved["targets"]]
    assert len(names) == 9 and any("2-10-2" in n for n in names)
    assert results["command"].startswith("python -m benchmarks --quick")
    table = capsys.readouterr().out
    assert "## Targets (issue 7)" in table and "## Machine" in table


def test_bench_sections_subset_and_help(tmp_path, capsys):
    results = main(["--quick", "--sections", "tiny", "--json", str(tmp_path / "r.json")])
    assert "tiny" in results and "mnist" not in results
    assert {t["met"] for t in results["targets"] if "2-10-2" not in t["target"]} == {None}
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--quick" in capsys.readouterr().out


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
