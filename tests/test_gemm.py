"""The CPU GEMM seam (gradkit/backend/gemm.py): NumPy by default with NumPy's numbers, the
choice from GRADKIT_GEMM / config / the cached probe, and the ops going through it."""

import itertools
import json
import os
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest

import gradkit as gk
from gradkit.backend import config, gemm, gemm_libs, gemm_probe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def numpy_gemm(monkeypatch):
    """A fresh seam state asking for NumPy (restored afterwards)."""
    monkeypatch.setattr(gemm, "_S", gemm._State())
    monkeypatch.setattr(gemm, "matmul", gemm._first_matmul)
    gemm.use("numpy")
    yield gemm
    gemm._restore_threads()


def _layouts(rng, m, k, n, dtype=np.float32):
    """(a, b) pairs in the layouts the ops pass: C-ordered, transposed views, row-strided."""
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    wide = rng.standard_normal((m, k + 7)).astype(dtype)
    return [(a, b), (np.ascontiguousarray(a.T).T, b), (a, np.ascontiguousarray(b.T).T),
            (wide[:, 3:3 + k], b), (a[::2], b), (a, b[:, ::2])]


def test_numpy_backend_is_numpys_matmul_bit_for_bit(numpy_gemm, rng):
    assert numpy_gemm.info()["library"] == "numpy"
    for a, b in _layouts(rng, 64, 48, 40):
        assert np.array_equal(numpy_gemm.matmul(a, b), a @ b)
        out = np.empty((a.shape[0], b.shape[1]), np.float32)
        assert numpy_gemm.matmul(a, b, out) is out and np.array_equal(out, a @ b)
    x = rng.standard_normal((3, 5, 4))
    assert np.array_equal(numpy_gemm.matmul(x, x.transpose(0, 2, 1)), x @ x.transpose(0, 2, 1))
    with pytest.raises(ValueError):
        numpy_gemm.matmul(np.ones((2, 3)), np.ones((2, 3)))


def test_linear_and_matmul_keep_numpys_numbers(numpy_gemm, rng):
    x = rng.standard_normal((32, 20)).astype(np.float32)
    w = rng.standard_normal((16, 20)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    xt, wt, bt = (gk.tensor(v, requires_grad=True) for v in (x, w, b))
    y = gk.ops.neural.linear(xt, wt, bt)
    assert np.array_equal(y.data, (x @ w.T) + b)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(gk.tensor(g))
    assert np.array_equal(xt.grad.data, g @ w) and np.array_equal(wt.grad.data, g.T @ x)
    z = gk.matmul(gk.tensor(x), gk.tensor(w.T))
    assert np.array_equal(z.data, x @ w.T)


def test_use_and_config_check_their_arguments(numpy_gemm):
    with pytest.raises(ValueError, match="unknown library 'fastest'"):
        gemm.use("fastest")
    with pytest.raises(ValueError, match="threads"):
        gemm.use("numpy", threads=0)
    config.config.gemm = "numpy"
    assert config.config.gemm == "numpy" and gemm.info()["source"] == "gk.config.gemm"
    config.config.gemm_threads = 1
    assert config.config.gemm_threads == 1
    assert "gemm='numpy'" in repr(config.config)


def test_env_variable_names_the_library(monkeypatch):
    monkeypatch.setenv("GRADKIT_GEMM", "NumPy")
    state = gemm._State()
    assert state.requested == "numpy" and state.from_env
    monkeypatch.delenv("GRADKIT_GEMM")
    assert gemm._State().requested == "auto"


def test_env_variable_with_a_missing_library_warns_and_uses_numpy(monkeypatch):
    monkeypatch.setenv("GRADKIT_GEMM", "mkl")
    monkeypatch.setattr(gemm, "_S", gemm._State())
    monkeypatch.setattr(gemm, "matmul", gemm._first_matmul)

    def missing(name):
        raise gemm_libs.LibraryError("gemm: mkl needs Intel MKL (pip install mkl)")

    monkeypatch.setattr(gemm_libs, "load", missing)
    with pytest.warns(UserWarning, match="GRADKIT_GEMM=mkl ignored"):
        gemm.resolve()
    assert gemm.info()["library"] == "numpy" and gemm.matmul is gemm._numpy_matmul


def test_auto_without_extras_is_numpy_and_probes_nothing(monkeypatch):
    monkeypatch.setattr(gemm, "_S", gemm._State())
    monkeypatch.setattr(gemm, "matmul", gemm._first_matmul)
    monkeypatch.setattr(gemm_libs, "available", lambda: [])
    monkeypatch.setattr(gemm_probe, "probe", lambda *a: pytest.fail("probed"))
    gemm._S.requested = "auto"
    a = np.ones((32, 32), np.float32)
    assert np.array_equal(gemm.matmul(a, a), a @ a)
    assert gemm.info()["library"] == "numpy"
    assert "only NumPy" in gemm.info()["source"]


def _fake_child(results):
    def run_child(name, threads, shapes=None, dtypes=None, timeout=120.0):
        return results[name]
    return run_child


def _result(speedup, agrees=True, threads=2):
    r = {"gflops": 10 * speedup, "numpy_gflops": 10.0, "speedup": speedup, "shapes": {},
         "numpy_shapes": {}, "error": 1e-7, "numpy_error": 1e-7, "agrees": agrees}
    return {"float32": r, "float64": dict(r, speedup=1.0), "threads": threads,
            "detail": "fake"}


def test_probe_chooses_the_fastest_that_agrees_and_beats_the_margin(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADKIT_DATA", str(tmp_path))
    results = {"openblas32": _result(1.05), "mkl": _result(3.0, agrees=False),
               "blis": _result(1.6, threads=1)}
    monkeypatch.setattr(gemm_probe, "run_child", _fake_child(results))
    monkeypatch.setattr(gemm_probe, "_load", lambda: 0.0)  # a quiet machine
    record, where = gemm_probe.cached_or_probe(list(results), 2)
    assert record["choice"] == {"name": "blis", "threads": 1, "dtypes": ["float32"]}
    assert where.startswith("probe") and str(tmp_path) in where
    saved = list((tmp_path / "gemm").glob("probe-*.json"))
    assert len(saved) == 1 and json.loads(saved[0].read_text())["choice"]["name"] == "blis"
    # the second time: the cache, no children
    monkeypatch.setattr(gemm_probe, "run_child", lambda *a, **k: pytest.fail("re-probed"))
    again, where = gemm_probe.cached_or_probe(list(results), 2)
    assert again["choice"] == record["choice"] and where.startswith("cached probe")
    assert gemm_probe.cache_path(list(results), 1) != saved[0]  # the key has the threads
    gemm_probe.forget_cache(list(results), 2)
    assert not saved[0].exists()


def test_a_probe_on_a_busy_machine_is_used_but_not_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADKIT_DATA", str(tmp_path))
    results = {"blis": _result(1.6, threads=1)}
    monkeypatch.setattr(gemm_probe, "run_child", _fake_child(results))
    monkeypatch.setattr(gemm_probe, "_load", lambda: 4.0 * (os.cpu_count() or 1))
    record, where = gemm_probe.cached_or_probe(list(results), 2)
    assert record["choice"]["name"] == "blis" and "not saved: the machine was busy" in where
    assert not list(tmp_path.glob("gemm/probe-*.json"))


def test_probe_keeps_numpy_when_nothing_is_10_percent_faster(monkeypatch):
    results = {"openblas32": _result(1.08), "blis": {"error": "crashed"}}
    monkeypatch.setattr(gemm_probe, "run_child", _fake_child(results))
    record = gemm_probe.probe(list(results), 2)
    assert record["choice"]["name"] == "numpy"
    lines = gemm.rates_table(record)
    assert any("openblas32" in line and "1.08x NumPy" in line for line in lines)
    assert any("blis" in line and "failed: crashed" in line for line in lines)


def test_numpy_child_measures_in_a_fresh_process():
    r = gemm_probe.run_child("numpy", 1, shapes=[("s", 64, 64, 64, False, True)],
                             dtypes="float32")
    assert "error" not in r, r
    assert r["float32"]["gflops"] > 0 and r["float32"]["agrees"]
    assert r["threads"] == 1


def test_step_shapes_are_an_mlp_steps_products():
    shapes = gemm_probe.step_shapes(128, (784, 512, 10))
    assert [s[0] for s in shapes] == ["fwd 128x784x512", "gW 512x128x784",
                                      "fwd 128x512x10", "gW 10x128x512", "gx 128x10x512"]
    assert len(gemm_probe.probe_shapes()) == 3


def test_show_config_reports_the_gemm_choice(numpy_gemm, capsys):
    d = config.show_config()
    out = capsys.readouterr().out
    assert "GEMM: numpy" in out and "NumPy" in out and d["gemm"]["library"] == "numpy"
    assert d["cores"] >= 1


def test_env_variable_in_a_fresh_process():
    code = ("import numpy as np; from gradkit.backend import gemm; "
            "a = np.ones((4, 4), np.float32); gemm.matmul(a, a); "
            "i = gemm.info(); print(i['library'], i['source'])")
    env = dict(os.environ, GRADKIT_GEMM="numpy")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=ROOT, check=True)
    assert res.stdout.split() == ["numpy", "GRADKIT_GEMM"]


def test_numpy_only_says_which_products_never_reach_a_library():
    small = np.ones((16, 2), np.float32)
    big = np.ones((128, 784), np.float32)
    w = np.ones((512, 784), np.float32)
    for f in (gemm._library_matmul, gemm._first_matmul):
        assert gemm.numpy_only(f, small, small.T)  # below MIN_FLOPS
        assert not gemm.numpy_only(f, big, w.T)  # a library's when one is chosen
        assert not gemm.numpy_only(f, big[:, :512], w[:10, :512].T)  # a 10-wide output layer
        assert gemm.numpy_only(f, big, w[:4].T)  # four columns: a GEMV, NumPy's
        assert gemm.numpy_only(f, big.astype(np.int64), w.T.astype(np.int64))
    assert gemm.numpy_only(gemm._numpy_matmul, big, w.T)
    assert not gemm.numpy_only(np.matmul, small, small.T)  # not a seam function


def test_probe_times_each_library_in_blocks_of_calls():
    """A library's first call after another's pays that one's spinning threads (Intel
    OpenMP), so `compare` alternates blocks of calls, never single ones."""
    order = []
    real = np.matmul

    def lib(a, b, out):
        order.append("lib")
        real(a, b, out=out)

    def spy(a, b, out=None):
        order.append("numpy")
        return real(a, b, out=out)

    shapes = [("s", 32, 32, 32, False, False)]
    with mock.patch.object(np, "matmul", spy):
        r = gemm_probe.compare(lib, shapes, np.float32, rounds=4, block=3)
    timed = order[2:-2]  # after the warm-up pair, before the error checks' pair
    runs = [len(list(g)) for _, g in itertools.groupby(timed)]
    assert sum(runs) == 2 * 4 * 3 and min(runs) >= 3
    assert r["speedup"] > 0 and r["error"] < 1e-5


def test_the_numpy_child_keeps_its_faster_thread_count(monkeypatch):
    from gradkit.backend import gemm_child

    threadpoolctl = pytest.importorskip("threadpoolctl", reason="sets NumPy's BLAS threads")

    def compare(fn, shapes, dtype):  # NumPy against itself: speed-up 1 at either count
        blas = threadpoolctl.ThreadpoolController().select(user_api="blas")
        threads = blas.info()[0]["num_threads"]
        return dict(_result(1.0)["float32"], gflops=100.0 * threads,
                    speedup=1.0 + 0.01 / threads)

    monkeypatch.setattr(gemm_child, "compare", compare)
    r = gemm_child.child(["numpy", "2", json.dumps([["s", 64, 64, 64, False, True]]),
                          "float32"])
    assert r["threads"] == 2 and r["float32"]["gflops"] == 200.0
