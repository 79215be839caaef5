"""PyTorch's legacy typed constructors: `torch.FloatTensor([1, 2])`, `torch.LongTensor(3)`,
`isinstance(t, torch.FloatTensor)` and `t.type(torch.DoubleTensor)`."""

from __future__ import annotations

from typing import Any

import numpy as np

from .creation import infer_array, tensor
from .tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


class _TypedMeta(type):
    """`isinstance(t, torch.FloatTensor)`: a torch tensor of that dtype (on the CPU)."""

    np_dtype: np.dtype

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls.np_dtype \
            and isinstance(obj._data, np.ndarray)

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:
        if not args or all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                           for a in args):
            return tensor(np.zeros(tuple(int(a) for a in args) or (0,), cls.np_dtype),
                          device=device)
        return tensor(infer_array(args[0]), dtype=cls.np_dtype, device=device)

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


def _typed(name: str, np_name: str) -> Any:
    return _TypedMeta(name, (), {"np_dtype": np.dtype(np_name),
                                 "__doc__": f"PyTorch's torch.{name} ({np_name})."})


FloatTensor = _typed("FloatTensor", "float32")
DoubleTensor = _typed("DoubleTensor", "float64")
HalfTensor = _typed("HalfTensor", "float16")
LongTensor = _typed("LongTensor", "int64")
IntTensor = _typed("IntTensor", "int32")
ShortTensor = _typed("ShortTensor", "int16")
CharTensor = _typed("CharTensor", "int8")
ByteTensor = _typed("ByteTensor", "uint8")
BoolTensor = _typed("BoolTensor", "bool")
