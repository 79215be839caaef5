"""`torch.nn.utils.rnn`: padding variable-length sequences into one tensor."""

from __future__ import annotations

from typing import Any

from ....nn import sequence_utils as _gkseq
from ...tensor import Tensor, retag

__all__ = ["pad_sequence"]


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences (L_i, *) into (L_max, N, *) (or (N, L_max, *) with `batch_first`),
    filling with `padding_value`. PackedSequence is not supported: pad and mask instead."""
    return retag(_gkseq.pad_sequence(sequences, batch_first, padding_value, padding_side))


def __getattr__(name: str) -> Any:
    if name in ("pack_padded_sequence", "pad_packed_sequence", "pack_sequence",
                "PackedSequence"):
        raise AttributeError(f"torch.nn.utils.rnn.{name} is not in gradkit.torch: gradkit has "
                             "no PackedSequence; pad with pad_sequence and read each "
                             "sequence's output at its own last step (or use a mask)")
    raise AttributeError(f"module 'gradkit.torch.nn.utils.rnn' has no attribute {name!r}")
