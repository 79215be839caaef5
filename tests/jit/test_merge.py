"""jit/merge.py on hand-made plan entries: runs merge into one call per op on flat arrays,
with the same numbers, views remade, and nothing merged that must not be."""

from __future__ import annotations

import numpy as np

from gradkit.jit.merge import merge_runs


def _run(entries):
    for _, f, args, kwargs, _ in entries:
        f(*args, **kwargs)


def _sgd(ws, gs, ts, lr=0.1):
    out = []
    for w, g, t in zip(ws, gs, ts):
        out += [("call", np.multiply, [g, lr], {"out": (t,)}, [t]),
                ("call", np.subtract, [w, t], {"out": (w,)}, [w])]
    return out


def _arrays(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def test_runs_merge_and_give_the_same_numbers():
    shapes = [(10, 2), (10,), (2, 10), (2,)]
    ws, gs = _arrays(shapes, 0), _arrays(shapes, 1)
    ts = [np.empty_like(w) for w in ws]
    wt = ws[0].T  # a view baked into the plan (x @ W.T)
    reader = ("call", np.negative, [wt], {"out": (np.empty((2, 10), np.float32),)}, [])
    entries = [reader, *_sgd(ws, gs, ts)]
    expect = [w.copy() for w in ws]
    for w, g in zip(expect, gs):
        w -= g * np.float32(0.1)
    owned = {id(a) for a in (*ws, *gs, *ts)}
    merged = merge_runs(entries, [], [], owned)
    assert len(merged) == 3 and [e[1] for e in merged[1:]] == [np.multiply, np.subtract]
    assert merged[2][2][0].shape == (52,)
    new_wt = merged[0][2][0]
    assert new_wt is not wt and new_wt.base is merged[2][2][0]  # the view, remade
    assert np.array_equal(new_wt, ws[0].T)  # with the values moved along
    _run(merged[1:])
    got = merged[2][2][0]
    assert np.array_equal(got, np.concatenate([w.ravel() for w in expect]))
    assert np.array_equal(new_wt.T.ravel(), expect[0].ravel())


def test_nothing_merges_that_broadcasts_reads_an_input_or_shares_an_output():
    ws, gs = _arrays([(4, 3), (4, 3)], 0), _arrays([(3,), (3,)], 1)
    broadcast = [("call", np.add, [w, g], {"out": (w,)}, [w]) for w, g in zip(ws, gs)]
    owned = {id(a) for a in (*ws, *gs)}
    assert merge_runs(broadcast, [], [], owned) == broadcast
    xs = _arrays([(4, 3), (4, 3)], 2)
    inputs = [("call", np.add, [w, x], {"out": (w,)}, [w]) for w, x in zip(ws, xs)]
    assert merge_runs(inputs, [], [], owned) == inputs  # xs are not the plan's to move
    acc = np.zeros((), np.float32)
    shared = [("call", np.add, [acc, 1.0], {"out": (acc,)}, [acc]) for _ in range(2)]
    assert merge_runs(shared, [], [], owned | {id(acc)}) == shared
