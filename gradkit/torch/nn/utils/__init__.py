"""`torch.nn.utils`: gradient clipping, parameters <-> one vector, and `rnn.pad_sequence`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ....nn import utils as _gkutils
from ....ops.shape import concatenate, reshape
from ....tensor_base import bump_version
from ...tensor import Tensor, retag
from . import rnn

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters", "rnn"]


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most `max_norm`;
    returns the norm before clipping (a 0-d tensor)."""
    return retag(_gkutils.clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite))


def clip_grad_value_(parameters: Any, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    _gkutils.clip_grad_value_(parameters, clip_value)


def parameters_to_vector(parameters: Iterable[Any]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (differentiable)."""
    return retag(concatenate([reshape(p, (-1,)) for p in parameters]))


def vector_to_parameters(vec: Any, parameters: Iterable[Any]) -> None:
    """Copy consecutive slices of the 1-D `vec` into the parameters, in place."""
    data, start = vec._data, 0
    for p in parameters:
        n = p._data.size
        p._data[...] = data[start:start + n].reshape(p.shape)
        bump_version(p)
        start += n
    if start != data.size:
        raise ValueError(f"vector_to_parameters: the vector has {data.size} values, the "
                         f"parameters {start}")
