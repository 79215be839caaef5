"""jit/loops.py: runs of element-wise ufunc calls fused into one Numba loop, bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradkit as gk
from gradkit.backend import fusion
from gradkit.jit.loops import fuse_loops
from gradkit.jit.recorder import Ref

from .helpers import same_state, train

pytest.importorskip("numba", reason="the fused loops need Numba (the jit extra)")

SPECIAL = np.array([-np.inf, -1.5, -0.0, 0.0, 2.5, np.inf, np.nan, -np.nan, 1e-45, 3e38],
                   np.float32)


def _call(f, args, out):
    return ("call", f, list(args), {"out": (out,)}, [out])


def _run(entries, scalars=()):
    for e in entries:
        args = [scalars[a.slot] if type(a) is Ref else a for a in e[2]]
        e[1](*args, **e[3])


def _both(make, scalars=(), keep=None):
    """(arrays after the NumPy calls, after the fused entries, the fused entries)."""
    entries, arrays = make(np.random.default_rng(0))
    fused_entries, fused_arrays = make(np.random.default_rng(0))
    external = {id(a) for a in (fused_arrays if keep is None else fused_arrays[:keep])}
    fused, where = fuse_loops(fused_entries, external)
    with np.errstate(all="ignore"):
        _run(entries, scalars)
        _run(fused, scalars)
    return arrays, fused_arrays, fused, where


def _same_bits(a, b):
    return a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_bias_relu_is_one_loop_with_numpys_nan_and_signed_zero_results():
    def make(rng):
        h = rng.standard_normal((64, 40)).astype(np.float32)
        h.ravel()[:100] = np.tile(SPECIAL, 10)
        b = rng.standard_normal(40).astype(np.float32)
        b[:10] = np.where(np.arange(10) % 2, -0.0, 0.0)
        return [_call(np.add, [h, b], h), _call(np.maximum, [h, 0], h)], [h]

    want, got, fused, where = _both(make)
    assert where == [0] and len(fused) == 1 and fused[0][1].gk_ops == ("add", "maximum")
    assert _same_bits(want[0], got[0])


def test_maximum_and_minimum_of_every_pair_of_special_values():
    def make(rng):
        a = np.repeat(SPECIAL, len(SPECIAL))[None].repeat(4, 0)
        b = np.tile(SPECIAL, len(SPECIAL))[None].repeat(4, 0)
        hi, lo, s = np.empty_like(a), np.empty_like(a), np.empty_like(a)
        return [_call(np.maximum, [a, b], hi), _call(np.minimum, [a, b], lo),
                _call(np.divide, [hi, lo], s)], [hi, lo, s]

    want, got, fused, _ = _both(make)
    assert len(fused) == 1
    assert all(_same_bits(w, g) for w, g in zip(want, got))


def test_the_relu_mask_that_only_its_product_reads_is_never_stored():
    def make(rng):
        h = rng.standard_normal((8, 16)).astype(np.float32)
        g = rng.standard_normal((8, 16)).astype(np.float32)
        mask, o = np.zeros(h.shape, bool), np.empty_like(g)
        return [_call(np.greater, [h, 0], mask), _call(np.multiply, [g, mask], o)], [o, mask]

    want, got, fused, _ = _both(make, keep=1)
    assert _same_bits(want[0], got[0])
    assert not got[1].any() and want[1].any()  # the mask was not written
    assert [w.base is got[0] or w is got[0] for w in fused[0][4]] == [True]


def test_the_momentum_update_with_a_scalar_input_and_broadcast_operands():
    def make(rng):
        v, g, p = (rng.standard_normal((6, 50)).astype(np.float32) for _ in range(3))
        t = np.empty_like(p)
        col = rng.standard_normal((6, 1)).astype(np.float32)
        one = np.array([0.5], np.float32)
        return [_call(np.multiply, [v, 0.9], v), _call(np.add, [v, g], v),
                _call(np.multiply, [v, Ref(0)], t), _call(np.subtract, [p, t], p),
                _call(np.multiply, [p, col], p), _call(np.add, [p, one], p)], [v, p]

    want, got, fused, _ = _both(make, scalars=[0.1])
    assert len(fused) == 1 and len(fused[0][4]) == 2  # v and p; t stays unwritten
    assert all(_same_bits(w, g) for w, g in zip(want, got))


def test_python_numbers_infinities_and_nan_as_operands():
    def make(rng):
        a = rng.standard_normal((8, 8)).astype(np.float32)
        o = np.empty_like(a)
        return [_call(np.maximum, [a, -np.inf], o), _call(np.minimum, [o, np.inf], o),
                _call(np.add, [o, 3], o), _call(np.multiply, [o, float("nan")], a)], [a, o]

    want, got, fused, where = _both(make)
    assert where == [0] and all(_same_bits(w, g) for w, g in zip(want, got))


def test_float64_runs_and_operations_that_numpy_rounds_its_own_way_stay_apart():
    def make(rng):
        a = rng.standard_normal((5, 7))
        o = np.empty_like(a)
        return [_call(np.multiply, [a, a], o), _call(np.sqrt, [o], o),
                _call(np.exp, [o], o), _call(np.negative, [o], o)], [o]

    want, got, fused, where = _both(make)
    assert [e[1] for e in fused][1:] == [np.exp, np.negative] and where == [0]
    assert _same_bits(want[0], got[0])


def test_an_out_that_overlaps_what_the_run_reads_elsewhere_ends_the_run():
    def make(rng):
        a = rng.standard_normal(32).astype(np.float32)
        t = np.empty(31, np.float32)
        return [_call(np.multiply, [a[1:], 2.0], t), _call(np.add, [t, a[:-1]], a[1:])], [a]

    want, got, fused, where = _both(make)
    assert where == [] and [e[1] for e in fused] == [np.multiply, np.add]
    assert _same_bits(want[0], got[0])

    def broadcast(rng):  # a written array read back along another axis
        a = rng.standard_normal((4, 4)).astype(np.float32)
        r = np.empty((4,), np.float32)
        o = np.empty_like(a)
        return [_call(np.add, [a, 1.0], a), _call(np.add, [a, a[0]], o),
                _call(np.negative, [r], r)], [a, o]

    want, got, fused, where = _both(broadcast)
    assert where == [] and all(_same_bits(w, g) for w, g in zip(want, got))


@pytest.mark.parametrize("opt_name", ["sgd", "momentum", "adam"])
def test_compiled_training_with_fused_loops_is_the_eager_one_bit_for_bit(opt_name):
    eager = train("relu_4_16_16_3", opt_name, compiled=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", gk.jit.CompileWarning)
        compiled = train("relu_4_16_16_3", opt_name, compiled=True)
    assert compiled[2] == eager[2]
    same_state(eager, compiled)
    plan = compiled[3].plans[0]
    at = [i for i, e in enumerate(plan.entries) if hasattr(e[1], "gk_ops")]
    loops = [plan.entries[i] for i in at]
    assert loops and set(at) <= set(plan.fused)
    assert ("add", "maximum") in [e[1].gk_ops for e in loops]  # the bias and the ReLU


def test_config_fuse_off_and_no_numba_give_plans_of_numpy_calls(monkeypatch):
    assert gk.config.fuse is True
    with pytest.raises(TypeError, match="True or False"):
        gk.config.fuse = "no"  # type: ignore[assignment]
    eager = train("relu_4_16_16_3", "momentum", compiled=False)
    for off in ("config", "numba"):
        if off == "config":
            monkeypatch.setattr(fusion._State, "on", False)
        else:
            monkeypatch.setattr(fusion._State, "on", True)
            monkeypatch.setattr(fusion._State, "available", False)
        compiled = train("relu_4_16_16_3", "momentum", compiled=True)
        same_state(eager, compiled)
        assert not any(hasattr(e[1], "gk_ops") for e in compiled[3].plans[0].entries)
    assert "fuse=True" in repr(gk.config)


def test_each_loop_source_is_cached_in_a_file_and_compiled_once(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADKIT_DATA", str(tmp_path))
    monkeypatch.setattr(fusion, "_LOOPS", {})
    src = ("def loop(o0, a0):\n    for r in range(o0.shape[0]):\n"
           "        for c in range(o0.shape[1]):\n            o0[r, c] = a0[r, c] * 2\n")
    loop = fusion.compiled(src, ("multiply",))
    assert fusion.compiled(src, ("multiply",)) is loop
    files = list((tmp_path / "loops").glob("loop_*.py"))
    assert len(files) == 1 and files[0].read_text().endswith(src)
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    o = np.empty_like(a)
    loop(o, a)
    assert np.array_equal(o, a * 2)
    files[0].write_text("raise SystemExit\n")  # a damaged file is written again
    monkeypatch.setattr(fusion, "_LOOPS", {})
    fusion.compiled(src, ("multiply",))(o, a)
    assert files[0].read_text().endswith(src)


def test_a_loop_numba_cannot_compile_leaves_the_numpy_calls(monkeypatch):
    import numba

    def broken(source, ops):
        def loop(o0, a0):
            o0[0, 0] = a0.no_such_attribute

        return numba.njit(loop)

    monkeypatch.setattr(fusion, "compiled", broken)

    def make(rng):
        a = rng.standard_normal((3, 4)).astype(np.float32)
        return [_call(np.add, [a, 1.0], a), _call(np.multiply, [a, 2.0], a)], [a]

    want, got, fused, where = _both(make)
    assert where == [] and [e[1] for e in fused] == [np.add, np.multiply]
    assert _same_bits(want[0], got[0])


def test_a_second_signature_fuses_the_update_of_parameters_that_are_views_of_one_array():
    """The first plan merged the parameters into one flat array (jit/merge.py); a plan for
    another batch size updates them one by one, on views: each update is still one loop."""
    sizes = [32, 32, 8] * 4
    eager = train("relu_4_16_16_3", "momentum", compiled=False, batches=sizes)
    compiled = train("relu_4_16_16_3", "momentum", compiled=True, batches=sizes)
    assert compiled[2] == eager[2]
    same_state(eager, compiled)
    plans = compiled[3].plans
    assert len(plans) == 2
    updates = [[e for e in p.entries if getattr(e[1], "gk_ops", None) ==
                ("multiply", "add", "multiply", "subtract")] for p in plans]
    assert [len(u) for u in updates] == [1, 6]  # merged: one; on views: one per parameter
    assert all(w.base is not None for e in updates[1] for w in e[4])


def test_a_numba_that_does_not_import_warns_once_and_plans_stay_numpy(monkeypatch):
    import builtins

    real = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name == "numba":
            raise ImportError("Numba needs NumPy 2.3 or less")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(fusion._State, "available", None)
    monkeypatch.setattr(builtins, "__import__", refuse)
    with pytest.warns(UserWarning, match="does not import.*NumPy 2.3.*without fused loops"):
        assert fusion.enabled() is False
    assert fusion.info()["numba"] is None
    compiled = train("relu_4_16_16_3", "sgd", compiled=True)
    assert not any(hasattr(e[1], "gk_ops") for e in compiled[3].plans[0].entries)


def test_by_default_only_runs_of_4096_elements_or_more_are_fused(monkeypatch):
    """Below that a loop saves about a microsecond a call, not worth starting Numba."""
    monkeypatch.delenv("GRADKIT_FUSE_MIN", raising=False)
    monkeypatch.setattr(fusion._State, "min_size", fusion._env_min_size())
    assert fusion.min_size() == 4096
    tiny = train("tanh_2_10_2", "momentum", compiled=True)
    assert not any(hasattr(e[1], "gk_ops") for e in tiny[3].plans[0].entries)
    wide = train("relu_4_16_16_3", "momentum", compiled=True, batch=256, steps=6)
    ops = [e[1].gk_ops for e in wide[3].plans[0].entries if hasattr(e[1], "gk_ops")]
    assert ops == [("add", "maximum"), ("add", "maximum"), ("greater", "multiply"),
                   ("greater", "multiply")]  # (256, 16) arrays; the 428-weight update is not
    monkeypatch.setenv("GRADKIT_FUSE_MIN", "many")
    with pytest.warns(UserWarning, match="GRADKIT_FUSE_MIN='many'.*4096"):
        assert fusion._env_min_size() == 4096
    monkeypatch.setenv("GRADKIT_FUSE_MIN", "0")
    assert fusion._env_min_size() == 1


def test_a_cache_numba_cannot_write_compiles_the_loop_in_memory(tmp_path, monkeypatch):
    import numba

    real = numba.njit

    def no_cache(*args, **kwargs):
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function 'loop': no locator available")
        return real(*args, **kwargs)

    monkeypatch.setenv("GRADKIT_DATA", str(tmp_path))
    monkeypatch.setattr(fusion, "_LOOPS", {})
    monkeypatch.setattr(numba, "njit", no_cache)
    src = ("def loop(o0, a0):\n    for r in range(o0.shape[0]):\n"
           "        for c in range(o0.shape[1]):\n            o0[r, c] = a0[r, c] + 1\n")
    a = np.zeros((2, 2), np.float32)
    o = np.empty_like(a)
    fusion.compiled(src, ("add",))(o, a)
    assert np.array_equal(o, a + 1)
