"""Embedding: a lookup table of vectors, one row per token id (torch.nn.Embedding)."""

from __future__ import annotations

import numpy as np

from ..backend.devices import to_device
from ..ops.sequence import embedding
from ..tensor import Tensor
from . import init
from .module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """`Embedding(num_embeddings, embedding_dim, padding_idx=None)`: maps int64 token ids of
    any shape to vectors, shape ids.shape + (embedding_dim,).

    The weight (num_embeddings, embedding_dim) starts N(0, 1), as in PyTorch, with the row
    `padding_idx` (negative counts from the end) zeroed; that row never receives a gradient,
    so padding stays a zero vector while training. Ids outside [0, num_embeddings) and
    non-integer ids are refused with an error naming the layer and the range.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 _weight=None, _freeze: bool = False, device="cpu", dtype=None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if self.num_embeddings <= 0 or self.embedding_dim <= 0:
            raise ValueError(f"Embedding: num_embeddings and embedding_dim must be positive, "
                             f"got {num_embeddings} and {embedding_dim}")
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx must lie in [-{num_embeddings}, "
                                 f"{num_embeddings}), got {padding_idx}")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            arr = np.zeros(shape, dtype=np.dtype(dtype or np.float32))
            self.weight = Parameter(Tensor._wrap(to_device(arr, device)))
            self.reset_parameters()
        else:
            w = _weight if isinstance(_weight, Tensor) else Tensor(np.asarray(_weight))
            if w.shape != shape:
                raise ValueError(f"Embedding: _weight must have shape {shape}, got {w.shape}")
            self.weight = Parameter(w.detach(), requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """N(0, 1) entries, the padding row zero (PyTorch's initialisation)."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True,
                        padding_idx: int | None = None) -> Embedding:
        """An Embedding holding `embeddings` (2-D), frozen unless `freeze=False`."""
        w = embeddings if isinstance(embeddings, Tensor) else Tensor(np.asarray(embeddings))
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{w.shape}")
        return cls(w.shape[0], w.shape[1], padding_idx, _weight=w, _freeze=freeze)

    def forward(self, x):
        return embedding(x, self.weight, self.padding_idx, layer=self)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
