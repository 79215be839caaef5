"""`KerasVariable`: a layer weight as Keras shows it (name, path, assign, numpy, trainable),
and still a gradkit `Parameter` (so optimizers, `state_dict` and `gk.save` see it)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend.devices import to_device
from ..nn.module import Parameter
from ..tensor import Tensor
from ..tensor_base import bump_version


class KerasVariable(Parameter):
    """A weight of a Keras layer. `trainable=False` weights (BatchNormalization's moving
    statistics) have `requires_grad=False`, so no optimizer updates them."""

    __slots__ = ("name", "path")

    def __init__(self, data: Any, name: str = "variable", path: str | None = None,
                 trainable: bool = True) -> None:
        super().__init__(data, requires_grad=trainable and np.dtype(
            getattr(data, "dtype", np.float32)).kind == "f")
        self.name = name
        self.path = path or name

    @property
    def trainable(self) -> bool:
        """Whether an optimizer updates this weight (same as `requires_grad`)."""
        return bool(self.requires_grad)

    @property
    def value(self) -> Tensor:
        """The weight itself (Keras's `variable.value`)."""
        return self

    def assign(self, value: Any) -> KerasVariable:
        """Overwrite the values in place (same shape), as `tf.Variable.assign`."""
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        if tuple(arr.shape) != self.shape:
            raise ValueError(f"assign: variable {self.path!r} has shape {self.shape}, the "
                             f"value has shape {tuple(arr.shape)}")
        self._data[...] = to_device(arr, self.device)
        bump_version(self)
        return self

    def assign_add(self, value: Any) -> KerasVariable:
        """self += value, in place."""
        return self.assign(self.numpy() + (value.numpy() if isinstance(value, Tensor)
                                           else np.asarray(value)))

    def assign_sub(self, value: Any) -> KerasVariable:
        """self -= value, in place."""
        return self.assign(self.numpy() - (value.numpy() if isinstance(value, Tensor)
                                           else np.asarray(value)))

    def __repr__(self) -> str:
        return (f"<KerasVariable shape={self.shape}, dtype={self.dtype}, path={self.path}>")
