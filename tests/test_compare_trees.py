"""The pure helpers of benchmarks/compare_trees.py (ratios, medians, the table); no timing runs."""

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_trees.py"


@pytest.fixture(scope="module")
def ct():
    spec = importlib.util.spec_from_file_location("_compare_trees_under_test", _PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while it is executed
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_median_and_per_repeat_ratios(ct):
    assert ct.median([3.0, 1.0, 2.0]) == 2.0
    assert ct.median([1.0, 2.0, 3.0, 4.0]) == 2.5
    assert ct.median([]) is None
    # one ratio per repeat; failed (None) or non-positive old values are skipped
    assert ct.per_repeat_ratios([2.0, None, 4.0, 0.0], [3.0, 1.0, 2.0, 1.0]) == [1.5, 0.5]


def test_summarize_time_and_throughput(ct):
    # a time: new is half of old in each of 6 repeats -> ratio 0.5, new twice as fast, clearly
    old = [10.0, 12.0, 8.0, 10.0, 9.0, 11.0]
    s = ct.summarize(old, [v / 2 for v in old], "lower")
    assert s["ratio_median"] == pytest.approx(0.5)
    assert (s["ratio_min"], s["ratio_max"]) == (pytest.approx(0.5), pytest.approx(0.5))
    assert (s["old_median"], s["new_median"]) == (10.0, 5.0)
    assert s["speedup"] == pytest.approx(2.0) and s["clear"]
    assert ct.change_text(s) == "2.00x faster"
    # the same with 3 repeats is not enough to call it
    s = ct.summarize(old[:3], [v / 2 for v in old[:3]], "lower")
    assert s["speedup"] == pytest.approx(2.0) and not s["clear"]
    assert ct.change_text(s) == "2.00x faster (noisy)"

    # the median of the ratios is not the ratio of the medians
    s = ct.summarize([1.0, 10.0, 100.0], [3.0, 10.0, 50.0], "higher")
    assert s["ratio_median"] == pytest.approx(1.0)
    assert s["new_median"] / s["old_median"] == pytest.approx(1.0)
    s = ct.summarize([1.0, 2.0, 4.0], [1.2, 1.0, 6.0], "higher")
    assert s["ratio_median"] == pytest.approx(1.2)
    assert s["speedup"] == pytest.approx(1.2) and not s["clear"]  # one repeat went 0.5
    assert ct.change_text(s) == "1.20x faster (noisy)"

    # a throughput that drops: slower
    s = ct.summarize([100.0] * 7, [80.0] * 7, "higher")
    assert ct.change_text(s) == "1.25x slower"
    assert ct.change_text(ct.summarize([1.0, 1.0], [1.001, 0.999], "lower")) == "~same"

    with pytest.raises(ValueError):
        ct.summarize([1.0], [1.0], "faster")


def test_sign_test_p(ct):
    assert ct.sign_test_p([]) == 1.0
    assert ct.sign_test_p([1.0, 1.0]) == 1.0  # ties carry no direction
    assert ct.sign_test_p([0.9] * 5) == pytest.approx(2 / 32)
    assert ct.sign_test_p([1.1] * 6) == pytest.approx(2 / 64)
    assert ct.sign_test_p([1.1] * 6 + [0.9]) == pytest.approx(2 * 8 / 128)
    assert ct.sign_test_p([1.1, 0.9, 1.2, 0.8]) == 1.0


def test_busy_warning(ct):
    m = {"usable_cores": 2, "env": {}, "load_before": [0.2, 0.1, 0.1],
         "load_after": [0.4, 0.2, 0.1], "load_during": [0.3, None]}
    assert ct.busy_warning(m) is None
    m["load_during"] = [0.3, 2.5]
    text = ct.busy_warning(m)
    assert "2.50 on 2 cores" in text and "OPENBLAS_NUM_THREADS=1" in text
    m["env"] = {"OPENBLAS_NUM_THREADS": "1"}
    assert "OPENBLAS_NUM_THREADS" not in ct.busy_warning(m)


def test_summarize_failures(ct):
    s = ct.summarize([1.0, 2.0], [None, None], "lower")
    assert s["ratio_median"] is None and s["failed_new"] == 2 and s["n_pairs"] == 0
    assert s["old_median"] == 1.5 and s["new_median"] is None
    assert ct.change_text(s) == "failed"


def test_fmt_value(ct):
    assert ct.fmt_value(None) == "-"
    assert ct.fmt_value(0.0) == "0"
    assert ct.fmt_value(0.01234) == "0.0123"
    assert ct.fmt_value(3.14159) == "3.14"
    assert ct.fmt_value(153.4) == "153"
    assert ct.fmt_value(19341.2) == "19341"
    assert ct.fmt_value(2.5e7) == "2.5e+07"


def test_format_table(ct):
    rows = [
        {"label": "a + b", "unit": "us/op", "better": "lower",
         "summary": ct.summarize([4.0] * 6, [2.0] * 6, "lower")},
        {"label": "fit", "unit": "samples/s", "better": "higher",
         "summary": ct.summarize([100.0, 100.0], [None, None], "higher")},
    ]
    lines = ct.format_table(rows).splitlines()
    assert lines[0].startswith("| workload | old | new | unit | ratio new/old |")
    assert lines[1].startswith("|---|")
    assert lines[2] == ("| a + b | 4.00 | 2.00 | us/op | 0.500 | < 1 (time) | 0.500-0.500 | "
                        "2.00x faster |")
    assert lines[3] == "| fit | 100 | - | samples/s | - | > 1 (throughput) | - | failed |"
    assert all(line.count("|") == lines[0].count("|") for line in lines)


def test_every_workload_is_well_formed(ct):
    names = [w.name for w in ct.WORKLOADS]
    assert len(names) == len(set(names))
    assert {w.better for w in ct.WORKLOADS} <= {"lower", "higher"}
    for w in ct.WORKLOADS:
        assert (w.better == "higher") == (w.unit == "samples/s"), w.name
    assert set(ct.SIZES["quick"]) == set(ct.SIZES["full"])


def test_parse_args_rejects_a_root_without_gradkit(ct, tmp_path, capsys):
    with pytest.raises(SystemExit):
        ct.parse_args([str(tmp_path), str(tmp_path)])
    assert "no gradkit/__init__.py" in capsys.readouterr().err
    (tmp_path / "gradkit").mkdir()
    (tmp_path / "gradkit" / "__init__.py").write_text("")
    args = ct.parse_args([str(tmp_path), str(tmp_path), "--quick"])
    assert args.repeats == 3 and args.quick
    assert ct.parse_args([str(tmp_path), str(tmp_path), "--repeats", "5"]).repeats == 5
