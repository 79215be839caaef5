"""Text as token ids: a character vocabulary and next-token windows for language models.

    vocab = CharVocab.fit(text)                      # every character of the text, sorted
    ids = vocab.encode(text)                         # int64 ids, one per character
    windows = NextTokenWindows(ids, seq_len=128)     # sample i: (ids[s:s+128], ids[s+1:s+129])
    for x, y in DataLoader(windows, batch_size=32, shuffle=True): ...   # (32, 128) each
    vocab.decode(ids[:50]); vocab.save("vocab.json"); CharVocab.load("vocab.json")

Encoding and decoding are vectorised (one NumPy pass over the code points), so a whole
corpus of a few million characters encodes in well under a second.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..backend.devices import xp_of
from ..tensor import Tensor
from .dataset import Dataset

__all__ = ["CharVocab", "NextTokenWindows", "next_token_windows"]

_FORMAT = "gradkit.CharVocab"


def _code_points(text: str) -> np.ndarray:
    """The Unicode code points of `text` as a uint32 array (no Python loop)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


class CharVocab:
    """A character-level vocabulary: id `i` is `chars[i]`.

    `CharVocab(chars, unk=None)` takes the characters in id order; `CharVocab.fit(text)`
    builds one from a text (sorted by code point; `min_count` drops rare characters).
    With `unk` (a character, added when missing), `encode` maps characters outside the
    vocabulary to it; without, it raises a ValueError naming the character and where it is.
    """

    def __init__(self, chars: Iterable[str], unk: str | None = None) -> None:
        chars = list(chars)
        if unk is not None:
            if not (isinstance(unk, str) and len(unk) == 1):
                raise ValueError(f"CharVocab: unk must be one character, got {unk!r}")
            if unk not in chars:
                chars.append(unk)
        bad = [c for c in chars if not (isinstance(c, str) and len(c) == 1)]
        if bad:
            raise ValueError(f"CharVocab: every entry must be one character, got {bad[0]!r}")
        if len(set(chars)) != len(chars):
            dup = next(c for c in chars if chars.count(c) > 1)
            raise ValueError(f"CharVocab: character {dup!r} appears twice")
        if not chars:
            raise ValueError("CharVocab: the vocabulary is empty")
        self.itos: list[str] = chars
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(chars)}
        self.unk = unk
        self.unk_index: int | None = None if unk is None else self.stoi[unk]
        self._codes = _code_points("".join(chars)).copy()  # id -> code point
        order = np.argsort(self._codes, kind="stable")
        self._sorted_codes, self._sorted_ids = self._codes[order], order.astype(np.int64)

    @classmethod
    def fit(cls, text: str, *, min_count: int = 1, unk: str | None = None) -> CharVocab:
        """The characters of `text` seen at least `min_count` times, in code point order."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.fit: expected a str, got {type(text).__name__}")
        codes, counts = np.unique(_code_points(text), return_counts=True)
        kept = codes[counts >= min_count].astype("<u4")
        chars = list(kept.tobytes().decode("utf-32-le"))
        if not chars and unk is None:
            raise ValueError("CharVocab.fit: no character of the text is kept (empty text, "
                             "or min_count too high); pass unk= to keep a fallback")
        return cls(chars, unk=unk)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, char: object) -> bool:
        return char in self.stoi

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, CharVocab) and self.itos == other.itos
                and self.unk == other.unk)

    def __hash__(self) -> int:
        return hash((tuple(self.itos), self.unk))

    def __repr__(self) -> str:
        unk = "" if self.unk is None else f", unk={self.unk!r}"
        return f"CharVocab(size={len(self)}{unk})"

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of `text`, an int64 array of `len(text)`."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.encode: expected a str, got {type(text).__name__}")
        codes = _code_points(text)
        pos = np.searchsorted(self._sorted_codes, codes)
        pos_ok = np.minimum(pos, len(self._sorted_codes) - 1)
        known = self._sorted_codes[pos_ok] == codes
        ids = self._sorted_ids[pos_ok]
        if not known.all():
            if self.unk_index is None:
                where = int(np.argmin(known))
                raise ValueError(
                    f"CharVocab.encode: character {text[where]!r} (position {where}) is not "
                    f"in the vocabulary of {len(self)} characters; fit the vocabulary on "
                    "this text too, or build it with unk='?' to map unknown characters")
            ids = np.where(known, ids, self.unk_index)
        return ids

    def decode(self, ids: Any) -> str:
        """The text of a sequence of ids (a list, a NumPy array or a Tensor, 0-D or 1-D)."""
        if isinstance(ids, Tensor):
            arr = ids.numpy()
        elif hasattr(ids, "__cuda_array_interface__"):
            arr = ids.get()  # a CuPy array: its ids, on the host
        else:
            arr = np.asarray(ids)
        if arr.ndim > 1:
            raise ValueError(f"CharVocab.decode: expected one sequence of ids, got shape "
                             f"{arr.shape}; decode each row")
        arr = arr.reshape(-1)
        if arr.size and arr.dtype.kind not in "iu":
            raise TypeError(f"CharVocab.decode: ids must be integers, got {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= len(self)):
            bad = int(arr[(arr < 0) | (arr >= len(self))][0])
            raise ValueError(f"CharVocab.decode: id {bad} is outside 0..{len(self) - 1}")
        return self._codes[arr.astype(np.int64)].astype("<u4").tobytes().decode("utf-32-le")

    # ---- JSON ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-able description (`from_dict` reads it back)."""
        return {"format": _FORMAT, "version": 1, "chars": list(self.itos), "unk": self.unk}

    @classmethod
    def from_dict(cls, d: Any) -> CharVocab:
        """The vocabulary `to_dict` described; refuses anything else with a ValueError."""
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            raise ValueError(f"not a {_FORMAT} description")
        if d.get("version") != 1:
            raise ValueError(f"{_FORMAT}: unsupported version {d.get('version')!r}")
        chars, unk = d.get("chars"), d.get("unk")
        if not isinstance(chars, list):
            raise ValueError(f"{_FORMAT}: 'chars' must be a list of characters")
        return cls(chars, unk=unk if unk is None or isinstance(unk, str) else str(unk))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the vocabulary as a small JSON file (UTF-8)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, ensure_ascii=False)
            f.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CharVocab:
        """Read a vocabulary written by `save`."""
        with open(path, encoding="utf-8") as f:
            try:
                d = json.load(f)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{os.fspath(path)}: not JSON ({exc})") from None
        try:
            return cls.from_dict(d)
        except ValueError as exc:
            raise ValueError(f"{os.fspath(path)}: {exc}") from None


def _check_ids(ids: Any, seq_len: int, stride: int | None, where: str):
    if isinstance(ids, Tensor):
        ids = ids._data  # its array, NumPy or CuPy
    xp = xp_of(ids)
    ids = xp.asarray(ids)
    if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
        raise ValueError(f"{where}: ids must be a 1-D integer array, got {ids.dtype} with "
                         f"shape {ids.shape}")
    for name, v in (("seq_len", seq_len), ("stride", 1 if stride is None else stride)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"{where}: {name} must be a positive int, got {v!r}")
    if ids.shape[0] < seq_len + 1:
        raise ValueError(f"{where}: {ids.shape[0]} ids are too few for one window of "
                         f"seq_len={seq_len} (needs seq_len + 1)")
    return xp, ids.astype(np.int64, copy=False)


class NextTokenWindows(Dataset):
    """Windows of a token sequence and the same windows shifted by one, for next-token
    prediction: sample `i` is `(ids[s:s + seq_len], ids[s + 1:s + seq_len + 1])` with
    `s = i * stride` (`stride` defaults to `seq_len`: windows that do not overlap).

    Batches are gathered with one fancy index (`__getitems__`), so `DataLoader(windows,
    batch_size=32, shuffle=True)` yields `(x, y)` int64 Tensors of shape (32, seq_len) with
    no per-sample Python loop; nothing is copied up front.
    """

    def __init__(self, ids: Any, seq_len: int, stride: int | None = None) -> None:
        self._xp, self.ids = _check_ids(ids, seq_len, stride, "NextTokenWindows")
        self.seq_len = int(seq_len)
        self.stride = self.seq_len if stride is None else int(stride)
        self._offsets = self._xp.arange(self.seq_len + 1, dtype=np.int64)

    def __len__(self) -> int:
        return (self.ids.shape[0] - self.seq_len - 1) // self.stride + 1

    def __getitem__(self, index: int) -> tuple:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"NextTokenWindows: index {index} out of range for {n} windows")
        s = (index % n) * self.stride
        w = self.ids[s:s + self.seq_len + 1]
        return w[:-1], w[1:]

    def __getitems__(self, indices: Any) -> tuple:
        """The batch `(x, y)`, each (len(indices), seq_len)."""
        starts = self._xp.asarray(indices, dtype=np.int64) * self.stride
        w = self.ids[starts[:, None] + self._offsets]
        xp = self._xp
        return xp.ascontiguousarray(w[:, :-1]), xp.ascontiguousarray(w[:, 1:])

    def __repr__(self) -> str:
        return (f"NextTokenWindows(n={len(self)}, seq_len={self.seq_len}, "
                f"stride={self.stride}, tokens={self.ids.shape[0]})")


def next_token_windows(ids: Any, seq_len: int, stride: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Every window of `NextTokenWindows(ids, seq_len, stride)` at once: `(x, y)` arrays of
    shape (n_windows, seq_len), y one token ahead of x (what `model.fit(x, y)` takes)."""
    windows = NextTokenWindows(ids, seq_len, stride)
    xp = windows._xp
    return windows.__getitems__(xp.arange(len(windows)))
