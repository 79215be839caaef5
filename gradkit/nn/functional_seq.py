"""Functional forms of the sequence layers (`gradkit.nn.functional` re-exports them):
`embedding` and `scaled_dot_product_attention`, PyTorch's names and semantics."""

from __future__ import annotations

from ..ops.attention import scaled_dot_product_attention
from ..ops.sequence import embedding as _embedding
from ..tensor import Tensor

__all__ = ["embedding", "scaled_dot_product_attention"]


def embedding(input, weight, padding_idx: int | None = None) -> Tensor:
    """Rows of `weight` (num_embeddings, embedding_dim) picked by the int64 ids `input`
    (any shape; the result is input.shape + (embedding_dim,)). The row `padding_idx` receives
    no gradient. Ids outside [0, num_embeddings) raise a ValueError naming the range."""
    return _embedding(input, weight, padding_idx)
