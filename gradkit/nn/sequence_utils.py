"""Variable-length batches: `pad_sequence` (PyTorch's) and `padding_mask`.

A batch of sequences of different lengths is padded to one length; the padded positions
are then masked: MultiheadAttention / TransformerEncoderLayer take
`key_padding_mask=padding_mask(lengths)` (True at padding), and a recurrent layer's result
for each sequence is read at its own last step, `output[lengths - 1, arange(N)]`
(time-major), since gradkit has no PackedSequence.
"""

from __future__ import annotations

import numpy as np

from ..backend.devices import to_device, xp_of
from ..ops.shape import pad, stack, swapaxes
from ..tensor import Tensor, as_tensor

__all__ = ["pad_sequence", "padding_mask"]


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences (L_i, *) of one trailing shape into (L_max, N, *) (or (N, L_max, *)
    with `batch_first`), filling with `padding_value` on the `padding_side` ("right" or
    "left"). Tensors that require grad stay differentiable; dtypes are kept (int64 token ids
    stay int64)."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got "
                         f"{padding_side!r}")
    seqs = [as_tensor(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_sequence: needs at least one sequence")
    trail = seqs[0].shape[1:]
    for i, s in enumerate(seqs):
        if s.ndim == 0 or s.shape[1:] != trail:
            raise ValueError(f"pad_sequence: sequence {i} has shape {s.shape}; every sequence "
                             f"must be (length, *{trail}) like the first")
        if s.device != seqs[0].device or s.dtype != seqs[0].dtype:
            raise ValueError(f"pad_sequence: sequence {i} is {s.dtype} on {s.device}, the "
                             f"first {seqs[0].dtype} on {seqs[0].device}")
    longest = max(s.shape[0] for s in seqs)
    if any(s.requires_grad for s in seqs):
        widths = [((longest - s.shape[0], 0) if padding_side == "left" else
                   (0, longest - s.shape[0]),) + ((0, 0),) * len(trail) for s in seqs]
        out = stack([pad(s, w, value=padding_value) for s, w in zip(seqs, widths)], axis=0)
        return out if batch_first else swapaxes(out, 0, 1)
    xp = seqs[0]._xp
    out = xp.full((len(seqs), longest) + trail, padding_value, dtype=seqs[0].dtype)
    for i, s in enumerate(seqs):
        n = s.shape[0]
        if padding_side == "left":
            out[i, longest - n:] = s._data
        else:
            out[i, :n] = s._data
    return Tensor._wrap(out if batch_first else xp.ascontiguousarray(xp.swapaxes(out, 0, 1)))


def padding_mask(lengths, max_length: int | None = None, device=None) -> Tensor:
    """A bool (N, max_length) mask, True at the padded positions (position >= length): the
    `key_padding_mask` of attention for right-padded sequences of these `lengths`."""
    data = lengths._data if isinstance(lengths, Tensor) else lengths
    lens = np.asarray(data) if xp_of(data) is np else data
    if lens.ndim != 1 or (lens.size and lens.dtype.kind not in "iu"):
        raise ValueError(f"padding_mask: lengths must be a 1-D array of ints, got shape "
                         f"{lens.shape} and dtype {lens.dtype}")
    xp = xp_of(lens)
    top = int(lens.max()) if lens.size else 0
    width = top if max_length is None else int(max_length)
    if width < top:
        raise ValueError(f"padding_mask: max_length {width} is shorter than the longest "
                         f"length {top}")
    mask = xp.arange(width)[None, :] >= lens[:, None]
    if device is not None:
        mask = to_device(mask, device)
    elif isinstance(lengths, Tensor):
        mask = to_device(mask, lengths.device)
    return Tensor._wrap(mask)
