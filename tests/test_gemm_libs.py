"""Each installed GEMM library (the optional extras of gradkit/backend/gemm_libs.py) through
the seam: results within float32 (float64) rounding of NumPy's for every layout the ops pass,
`out=` buffers written in place, small or odd products left to NumPy, threads coordinated,
and the ops (linear forward and backward, batched matmul, conv2d) agreeing with NumPy.

Each library runs in a fresh interpreter (`_check` below): a BLAS, once loaded, stays.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gradkit.backend import gemm_libs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBS = gemm_libs.available()


def _close(got, ref, k, dtype) -> float:
    """The error of `got` in units of k * eps * (|a| @ |b|), the float rounding bound."""
    return float(np.max(np.abs(got - ref[0]) / (k * np.finfo(dtype).eps * ref[1] + 1e-30)))


def _ref(a, b):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return a64 @ b64, np.abs(a64) @ np.abs(b64)


def _check(name: str) -> dict:
    """Run in a fresh process: the seam on library `name`; returns what the test asserts."""
    import gradkit as gk
    from gradkit.backend import gemm

    info = gemm.use(name, threads=2)
    out: dict = {"info": {k: info[k] for k in ("library", "dtypes", "coordination")}}
    rng = np.random.default_rng(0)
    worst = {}
    for dt in info["dtypes"]:
        m, k, n = 96, 130, 80
        a = rng.standard_normal((m, k)).astype(dt)
        b = rng.standard_normal((k, n)).astype(dt)
        wide = rng.standard_normal((m, k + 5)).astype(dt)
        cases = {"C": (a, b), "a.T": (np.ascontiguousarray(a.T).T, b),
                 "b.T": (a, np.ascontiguousarray(b.T).T), "strided rows": (wide[:, 2:2 + k], b)}
        errs = {}
        for label, (x, y) in cases.items():
            errs[label] = _close(gemm.matmul(x, y), _ref(x, y), k, dt)
            buf = np.full((m, n), np.nan, dt)
            assert gemm.matmul(x, y, buf) is buf
            errs[label + " out="] = _close(buf, _ref(x, y), k, dt)
        xb = rng.standard_normal((3, m, k)).astype(dt)
        errs["batched"] = max(_close(r, _ref(xi, b), k, dt)
                              for r, xi in zip(gemm.matmul(xb, b), xb))
        worst[dt] = errs
    out["errors"] = worst
    small = rng.standard_normal((8, 8)).astype(np.float32)
    odd = rng.standard_normal((64, 64)).astype(np.float32)[:, ::2]
    out["fallback_exact"] = bool(
        np.array_equal(gemm.matmul(small, small), small @ small)
        and np.array_equal(gemm.matmul(odd, odd.T), odd @ odd.T)
        and np.array_equal(gemm.matmul(np.arange(6).reshape(2, 3), np.ones((3, 2), int)),
                           np.arange(6).reshape(2, 3) @ np.ones((3, 2), int)))
    x = gk.tensor(rng.standard_normal((64, 200)).astype(np.float32), requires_grad=True)
    lin = gk.nn.Linear(200, 100)
    y = lin(x)  # 2.6 MFLOP products: the library's
    y.sum().backward()
    w = lin.weight.data
    ones = np.ones((64, 100), np.float32)
    out["linear"] = [_close(y.data - lin.bias.data, _ref(x.data, w.T), 200, np.float32),
                     _close(x.grad.data, _ref(ones, w), 100, np.float32),
                     _close(lin.weight.grad.data, _ref(ones.T, x.data), 64, np.float32)]
    img = gk.tensor(rng.standard_normal((4, 16, 12, 12)).astype(np.float32))
    conv = gk.nn.Conv2d(16, 32, 3)
    got = conv(img).data
    gemm.use("numpy")
    out["conv"] = float(np.max(np.abs(got - conv(img).data)) / np.max(np.abs(got)))
    out["restored"] = gemm.info()["coordination"] == ""
    return out


@pytest.mark.parametrize("name", LIBS or [pytest.param("none", marks=pytest.mark.skip(
    reason="no GEMM extra installed (pip install scipy-openblas32, mkl or blis)"))])
def test_library_matches_numpy_to_rounding(name):
    code = ("import json, sys; sys.path.insert(0, {root!r}); "
            "from tests.test_gemm_libs import _check; print(json.dumps(_check({name!r})))")
    res = subprocess.run([sys.executable, "-c", code.format(root=ROOT, name=name)],
                         capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, GRADKIT_GEMM="numpy"), timeout=120)
    if res.returncode != 0 and "LibraryError" in res.stderr:
        pytest.skip(res.stderr.strip().splitlines()[-1])
    assert res.returncode == 0, res.stderr[-2000:]
    r = json.loads(res.stdout.strip().splitlines()[-1])
    assert r["info"]["library"] == name and "float32" in r["info"]["dtypes"]
    for dt, errs in r["errors"].items():
        for label, e in errs.items():
            assert e <= 1.0, f"{name} {dt} {label}: {e:.2f} x the rounding bound"
    assert r["fallback_exact"]
    assert max(r["linear"]) <= 1.0, r["linear"]
    assert r["conv"] < 1e-5
    assert r["restored"]
    if "threads" in r["info"]["coordination"]:
        assert "2 thread(s)" in r["info"]["coordination"]


def test_unknown_library_is_refused():
    with pytest.raises(gemm_libs.LibraryError, match="unknown library 'fastblas'"):
        gemm_libs.load("fastblas")


def test_layouts_are_read_without_copies():
    from gradkit.backend.gemm import _layout

    a = np.zeros((6, 4), np.float32)
    assert _layout(a, False) == (False, 4)
    assert _layout(a.T, False) == (True, 4)
    wide = np.zeros((6, 10), np.float32)[:, 2:6]
    assert _layout(wide, False) == (False, 10) and _layout(wide, True) is None
    assert _layout(a[:, ::2], False) is None
    assert _layout(np.broadcast_to(np.zeros(4, np.float32), (6, 4)), False) is None
