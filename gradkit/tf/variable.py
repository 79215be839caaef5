"""`tf.Variable`: a mutable tensor that a `GradientTape` watches on its own.

A Variable is a leaf `tf.Tensor` (so it is usable in maths, and in every gradkit API that
takes tensors). A trainable floating Variable requires grad, like a `gk.nn.Parameter`:
gradkit's optimizers accept it and `tape.gradient` finds it. `assign`, `assign_add` and
`assign_sub` write in place outside the graph (and count a version, so a graph recorded
before the write refuses to be walked after it, instead of giving a wrong gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from ..backend.devices import to_device
from ..grad_mode import no_grad
from ..tensor_base import TensorBase, bump_version
from .tensor import Tensor, _infer, _numpy_text, retag, tf_array

__all__ = ["Variable"]


class Variable(Tensor):
    """`tf.Variable(initial_value, trainable=True, name=None, dtype=None, shape=None)`."""

    __slots__ = ("_name", "_trainable")

    def __init__(self, initial_value: Any = None, trainable: bool | None = None,
                 validate_shape: bool = True, caching_device: Any = None,
                 name: str | None = None, variable_def: Any = None, dtype: Any = None,
                 import_scope: Any = None, constraint: Any = None, synchronization: Any = None,
                 aggregation: Any = None, shape: Any = None,
                 experimental_enable_variable_lifting: bool = True) -> None:
        if initial_value is None:
            raise ValueError("tf.Variable: initial_value must be given")
        if callable(initial_value):
            initial_value = initial_value()
        arr = tf_array(initial_value, dtype, copy=True)
        if shape is not None and tuple(shape) != arr.shape and None not in tuple(shape):
            raise ValueError(f"tf.Variable: initial value of shape {arr.shape} does not "
                             f"match shape={tuple(shape)}")
        super().__init__(arr, dtype=arr.dtype)
        self._name = "Variable" if name is None else str(name)
        self._trainable = True if trainable is None else bool(trainable)
        if self._trainable and arr.dtype.kind == "f":
            self.requires_grad = True

    # ---- TF's metadata ----------------------------------------------------------------
    @property
    def name(self) -> str:
        """The name with TF's `:0` suffix (`'Variable:0'` unless `name=` was given)."""
        return f"{self._name}:0"

    @property
    def trainable(self) -> bool:
        """Whether tapes watch it on their own (and optimizers may update it)."""
        return self._trainable

    def numpy(self) -> Any:
        """A copy of the current values (later assignments do not change it)."""
        out = super().numpy()
        return out.copy() if isinstance(out, np.ndarray) else out

    def __repr__(self) -> str:
        return (f"<tf.Variable '{self.name}' shape={self.shape} dtype={self._data.dtype.name},"
                f" numpy={_numpy_text(self.numpy(), True)}>")

    __str__ = __repr__

    def value(self) -> Tensor:
        """The current value as a new tensor (differentiable: gradients reach the variable)."""
        return self.read_value()

    def read_value(self) -> Tensor:
        """The current value as a new tensor (differentiable: gradients reach the variable)."""
        return retag(self.astype(self._data.dtype))

    # ---- assignment -------------------------------------------------------------------
    def _write(self, value: Any, how: Callable[[Any, Any], None], opname: str) -> Variable:
        src = value._data if isinstance(value, TensorBase) else _infer(value)
        if type(src) is not type(self._data):  # copied to the variable's device, as TF does
            src = to_device(src, self.device)
        if src.shape != self._data.shape and src.ndim:
            raise ValueError(f"{opname}: cannot assign a value of shape {src.shape} to "
                             f"{self.name} of shape {self._data.shape}")
        with no_grad():
            how(self._data, src)
            bump_version(self)
        return self

    def assign(self, value: Any, use_locking: bool | None = None, name: str | None = None,
               read_value: bool = True) -> Variable:
        """Overwrite the values (same shape); returns the variable."""
        def put(dst: Any, src: Any) -> None:
            dst[...] = src
        return self._write(value, put, "assign")

    def assign_add(self, delta: Any, use_locking: bool | None = None,
                   name: str | None = None, read_value: bool = True) -> Variable:
        """Add `delta` in place; returns the variable."""
        return self._write(delta, lambda dst, src: dst.__iadd__(src), "assign_add")

    def assign_sub(self, delta: Any, use_locking: bool | None = None,
                   name: str | None = None, read_value: bool = True) -> Variable:
        """Subtract `delta` in place; returns the variable."""
        return self._write(delta, lambda dst, src: dst.__isub__(src), "assign_sub")

    def __iadd__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        raise _no_inplace()

    def __isub__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        raise _no_inplace()

    def __imul__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        raise _no_inplace()

    def __itruediv__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        raise _no_inplace()


def _no_inplace() -> RuntimeError:
    return RuntimeError(  # TensorFlow's own message (tf.Variable.__iadd__)
        "`variable += value` with `tf.Variable`s is not supported. Use "
        "`variable.assign_add(value)` to modify the variable, or `out = variable + value` "
        "if you need to get a new output Tensor.")


def is_variable(x: Any) -> bool:
    """Whether `x` is a tf.Variable."""
    return isinstance(x, Variable)

