"""erf (behind gelu) with and without SciPy."""

import math

import numpy as np
import pytest

from gradkit.ops import elementwise


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fallback_erf_without_scipy(monkeypatch, dtype):
    monkeypatch.setitem(elementwise._special, "numpy", None)
    x = np.linspace(-6, 6, 1001).astype(dtype)
    got = elementwise.erf(np, x)
    want = np.array([math.erf(float(v)) for v in x])
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, atol=2e-7 if dtype == np.float32 else 1e-15)
