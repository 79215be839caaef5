"""The benchmark suite runs end to end (`--quick`: tiny subsets, every section, no timing
assertions) and writes its table and JSON."""

import json

import pytest

from gradkit.bench import main

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
