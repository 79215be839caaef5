"""The text examples run in their quick modes: the character-level language models (on the
real Shakespeare text, skipped where it cannot be had) and the bracket classifier."""

import math

import numpy as np
import pytest

import gradkit as gk
from gradkit.datasets import DatasetUnavailable

from .test_examples import example, quiet  # noqa: F401 - the fixture


def test_char_lm_quick(example):  # noqa: F811
    try:
        res = example("char_lm").main(["--quick"], log=quiet)
    except DatasetUnavailable as exc:
        pytest.skip(f"Shakespeare is not available here: {exc}")
    for name in ("lstm", "transformer"):
        h = res[name]
        first, last = h["epochs"][0], h["epochs"][-1]
        assert last["val_loss"] < first["val_loss"]  # it learns, even in a few steps
        assert last["val_loss"] < math.log(len(h["vocab"]))  # better than uniform guessing
        assert last["sample"].startswith("KING.\n") and len(last["sample"]) == 6 + 40
        assert set(last["sample"]) <= set(h["vocab"].itos)


def test_char_lm_generation_continues_the_lstm_state(example):  # noqa: F811
    mod = example("char_lm")
    vocab = gk.datasets.CharVocab.fit("abcd\n")
    model = mod.CharLSTM(len(vocab), embed=4, hidden=8)
    text = mod.generate(model, vocab, "ab", 10, seed=1)
    assert text.startswith("ab") and len(text) == 12
    assert mod.generate(model, vocab, "ab", 10, seed=1) == text  # seeded
    logits, _ = model(gk.tensor(vocab.encode(text)[None, :]))
    stepwise, state = model(gk.tensor(vocab.encode(text[:1])[None, :]))
    for c in text[1:]:
        out, state = model(gk.tensor(vocab.encode(c)[None, :]), state)
        stepwise = gk.concatenate([stepwise, out], axis=1)
    np.testing.assert_allclose(stepwise.numpy(), logits.numpy(), rtol=1e-4, atol=1e-5)


def test_seq_classify_quick(example):  # noqa: F811
    mod = example("seq_classify")
    texts, labels = mod.make_set(400, 16, seed=3)
    assert [mod.is_balanced(s) for s in texts] == [bool(v) for v in labels]
    assert 0.4 < labels.mean() < 0.6 and max(map(len, texts)) <= 16
    res = mod.main(["--quick"], log=quiet)
    assert res["test_acc"] > 0.7  # chance is 0.5
