"""Character vocabulary and next-token windows (gradkit/data/text.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradkit as gk
from gradkit.data import DataLoader
from gradkit.data.text import CharVocab, NextTokenWindows, next_token_windows

TEXT = "To be, or not to be: that is the question.\nWhether 'tis nobler, æ 😀\n"


def test_fit_encode_decode_round_trip():
    vocab = CharVocab.fit(TEXT)
    assert vocab.itos == sorted(set(TEXT)) and len(vocab) == len(set(TEXT))
    ids = vocab.encode(TEXT)
    assert ids.dtype == np.int64 and ids.shape == (len(TEXT),)
    assert [vocab.itos[i] for i in ids] == list(TEXT)  # id i is itos[i]
    assert all(vocab.stoi[c] == i for c, i in zip(TEXT, ids.tolist()))
    assert vocab.decode(ids) == TEXT and vocab.decode(gk.tensor(ids)) == TEXT
    assert vocab.decode(ids.tolist()) == TEXT and vocab.decode(int(ids[3])) == TEXT[3]
    assert vocab.encode("").shape == (0,) and vocab.decode([]) == ""
    assert "q" in vocab and "Q" not in vocab


def test_given_order_is_kept():
    vocab = CharVocab(["z", "a", "\n", "m"])
    np.testing.assert_array_equal(vocab.encode("maz\n"), [3, 1, 0, 2])
    assert vocab.decode([0, 1, 2, 3]) == "za\nm"


def test_unknown_characters():
    vocab = CharVocab.fit("abc")
    with pytest.raises(ValueError, match=r"character 'x' \(position 2\) is not in the "
                                         r"vocabulary.*unk="):
        vocab.encode("abxc")
    with_unk = CharVocab.fit("abc", unk="?")
    assert len(with_unk) == 4 and with_unk.unk_index == with_unk.stoi["?"]
    assert with_unk.decode(with_unk.encode("axbyc")) == "a?b?c"
    kept = CharVocab(list("ab?"), unk="?")  # unk already there: not added twice
    assert len(kept) == 3 and kept.unk_index == 2


def test_min_count_drops_rare_characters():
    vocab = CharVocab.fit("aaabbc", min_count=2, unk="_")
    assert vocab.itos == ["a", "b", "_"]
    assert vocab.decode(vocab.encode("abc")) == "ab_"
    with pytest.raises(ValueError, match="no character"):
        CharVocab.fit("abc", min_count=5)


def test_bad_vocabularies_and_ids():
    for chars, match in ((["a", "a"], "appears twice"), (["ab"], "one character"),
                         ([], "empty")):
        with pytest.raises(ValueError, match=match):
            CharVocab(chars)
    with pytest.raises(ValueError, match="unk must be one character"):
        CharVocab(["a"], unk="??")
    vocab = CharVocab.fit("abc")
    with pytest.raises(ValueError, match=r"id 3 is outside 0\.\.2"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match="one sequence"):
        vocab.decode(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(TypeError, match="integers"):
        vocab.decode(np.array([0.5]))
    with pytest.raises(TypeError, match="expected a str"):
        vocab.encode(["a"])  # type: ignore[arg-type]


def test_save_and_load_json(tmp_path):
    vocab = CharVocab.fit(TEXT, unk="\ufffd")
    path = tmp_path / "vocab.json"
    vocab.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "gradkit.CharVocab" and data["chars"] == vocab.itos
    loaded = CharVocab.load(path)
    assert loaded == vocab and loaded.unk == vocab.unk and hash(loaded) == hash(vocab)
    np.testing.assert_array_equal(loaded.encode(TEXT), vocab.encode(TEXT))
    path.write_text(json.dumps({"format": "something else"}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a gradkit.CharVocab"):
        CharVocab.load(path)
    path.write_text("{oops", encoding="utf-8")
    with pytest.raises(ValueError, match="not JSON"):
        CharVocab.load(path)


def test_windows_are_shifted_by_one():
    ids = np.arange(20, dtype=np.int64) * 3
    w = NextTokenWindows(ids, seq_len=4)  # stride = seq_len: no overlap
    assert len(w) == 4  # windows start at 0, 4, 8, 12 (the 16th one needs a 21st id)
    x, y = w[1]
    np.testing.assert_array_equal(x, ids[4:8])
    np.testing.assert_array_equal(y, ids[5:9])
    bx, by = w.__getitems__(np.array([3, 0]))
    np.testing.assert_array_equal(bx, np.stack([ids[12:16], ids[0:4]]))
    np.testing.assert_array_equal(by, np.stack([ids[13:17], ids[1:5]]))
    overlapping = NextTokenWindows(ids, seq_len=4, stride=1)
    assert len(overlapping) == 16
    np.testing.assert_array_equal(overlapping[-1][1], ids[16:20])
    with pytest.raises(IndexError):
        overlapping[16]


def test_windows_through_the_dataloader_and_all_at_once():
    ids = CharVocab.fit(TEXT).encode(TEXT * 3)
    w = NextTokenWindows(ids, seq_len=8, stride=5)
    batches = list(DataLoader(w, batch_size=4, shuffle=True, seed=0))
    assert sum(len(xb) for xb, _ in batches) == len(w)
    for xb, yb in batches:
        assert xb.dtype == np.int64 and xb.shape[1:] == (8,)
        np.testing.assert_array_equal(xb.numpy()[:, 1:], yb.numpy()[:, :-1])
    x, y = next_token_windows(ids, 8, stride=5)
    assert x.shape == (len(w), 8) and x.flags.c_contiguous
    starts = sorted(int(np.flatnonzero((xb.numpy()[i] == x).all(axis=1))[0])
                    for xb, _ in batches for i in range(len(xb)))
    assert starts == list(range(len(w)))  # each window exactly once per epoch


def test_window_arguments_are_checked():
    with pytest.raises(ValueError, match="too few"):
        NextTokenWindows(np.arange(4), seq_len=4)
    with pytest.raises(ValueError, match="1-D integer"):
        NextTokenWindows(np.zeros((2, 5), dtype=np.int64), seq_len=2)
    with pytest.raises(ValueError, match="stride must be a positive int"):
        NextTokenWindows(np.arange(10), seq_len=2, stride=0)
    assert len(NextTokenWindows(gk.tensor(np.arange(10)), seq_len=3)) == 3
