"""Module (the base of every layer and model) and Parameter.

A Module keeps its Parameters, buffers and sub-Modules in three dicts (insertion-ordered)
*and* as plain instance attributes, so `self.weight` in `forward` is an ordinary attribute
lookup and calling a module costs one extra Python call, nothing more.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..backend.devices import to_device, to_numpy
from ..tensor import Tensor
from ..tensor_base import bump_version
from .summary import summarize
from .training import TrainingMixin

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

__all__ = ["Parameter", "Module", "StateDictError", "IncompatibleKeys"]


class Parameter(Tensor):
    """A leaf tensor that requires grad and is registered when set on a Module.

    `Parameter(t)` shares `t`'s data (no copy, same dtype and device).
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            data = data._data
            super().__init__(data, dtype=data.dtype, requires_grad=requires_grad)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter(" + super().__repr__()[len("tensor("):]


class StateDictError(ValueError):
    """A state dict that does not fit the module (keys, shapes or dtypes)."""

    def __init__(self, message: str, missing: Iterable[str] = (),
                 unexpected: Iterable[str] = (), mismatched: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.missing = list(missing)
        self.unexpected = list(unexpected)
        self.mismatched = list(mismatched)


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(..., strict=False)` skipped."""

    missing_keys: list
    unexpected_keys: list


_REGISTRIES = ("_parameters", "_buffers", "_modules")
_KINDS = {"_parameters": ("a parameter", "an nn.Parameter"), "_buffers": ("a buffer", "a Tensor"),
          "_modules": ("a sub-module", "a Module")}


class Module(TrainingMixin):
    """Base class of every layer and model: subclass it, set layers in `__init__`, write
    `forward`, and call the instance."""

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} has no forward() method")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ---- registration ---------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self._registry("_parameters", name, value)[name] = value
        elif isinstance(value, Module):
            self._registry("_modules", name, value)[name] = value
        else:
            kind = self._kind_of(name)
            if kind is None:
                self._check_plain(name, value)
            else:
                self._update_registered(kind, name, value)
        object.__setattr__(self, name, value)

    def _registry(self, kind: str, name: str, value) -> dict:
        """The dict `kind` to put `name` in, after dropping `name` from the other two."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{type(self).__name__}: {name!r} is not a valid name for "
                           "a parameter, buffer or sub-module (a non-empty string without '.')")
        shadowed = getattr(type(self), name, None)
        if callable(shadowed) or isinstance(shadowed, property):
            raise KeyError(f"{type(self).__name__}: the name {name!r} would hide the "
                           f"{type(self).__name__}.{name} method; choose another name")
        d = self.__dict__.get(kind)
        if d is None:
            raise AttributeError(
                f"cannot assign {type(value).__name__} '{name}' before Module.__init__(): call "
                f"super().__init__() first in {type(self).__name__}.__init__"
            )
        self._forget(name, keep=kind)
        return d

    def _forget(self, name: str, keep: str | None = None) -> None:
        for kind in _REGISTRIES:
            if kind != keep:
                self.__dict__.get(kind, {}).pop(name, None)

    def _kind_of(self, name: str) -> str | None:
        """Which registry holds `name` ('_parameters', '_buffers', '_modules'), if any."""
        d = self.__dict__
        for kind in _REGISTRIES:
            if name in d.get(kind, ()):
                return kind
        return None

    def _update_registered(self, kind: str, name: str, value) -> None:
        """None clears a registered name, a buffer takes a Tensor; anything else is refused."""
        if value is None or (kind == "_buffers" and isinstance(value, Tensor)):
            self.__dict__[kind][name] = value
            return
        holds, takes = _KINDS[kind]
        hint = " (to change its values use param._data[...] = ...)" if kind == "_parameters" else ""
        raise TypeError(
            f"cannot assign {type(value).__name__} to '{name}' of {type(self).__name__}: it "
            f"holds {holds}, so it takes {takes} or None{hint}; `del` it first to reuse the name"
        )

    def _check_plain(self, name: str, value) -> None:
        """Catch the two classic slips: a list of layers, a Tensor meant as a Parameter."""
        if isinstance(value, (list, tuple)) and any(isinstance(v, Module) for v in value):
            raise TypeError(
                f"{type(self).__name__}.{name}: a {type(value).__name__} of Modules is not "
                "registered (its parameters would be invisible to parameters() and "
                "optimizers); use nn.ModuleList([...]) or nn.Sequential(...)"
            )
        if isinstance(value, Tensor) and value.requires_grad and value.is_leaf:
            warnings.warn(
                f"{type(self).__name__}.{name} is a Tensor that requires grad but not an "
                "nn.Parameter, so parameters() will not find it; wrap it: "
                "nn.Parameter(tensor)", stacklevel=3)

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register a Parameter (or None, e.g. a layer without bias) under `name`."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: expected a Parameter or None, got "
                            f"{type(param).__name__}")
        self._registry("_parameters", name, param)[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Register non-trainable state (e.g. running statistics), saved in state_dict."""
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(tensor)
        self._registry("_buffers", name, tensor)[name] = tensor
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-Module under `name` (names may be any string, e.g. '0')."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} is a {type(module).__name__}, not a Module")
        self._registry("_modules", name, module)[name] = module
        object.__setattr__(self, name, module)

    # ---- traversal ----------------------------------------------------------------------
    def named_modules(self, prefix: str = "", memo: set | None = None) -> Iterator:
        """(dotted name, module) for this module and every descendant, each once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator:
        """(name, module) for the direct sub-modules."""
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, m in self.named_children():
            yield m

    def _named_tensors(self, kind: str, recurse: bool) -> Iterator:
        seen = set()
        mods = self.named_modules() if recurse else [("", self)]
        for prefix, m in mods:
            for name, t in getattr(m, kind).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{prefix}.{name}" if prefix else name), t

    def named_parameters(self, recurse: bool = True) -> Iterator:
        """(dotted name, Parameter), e.g. ('0.weight', ...); shared parameters once."""
        return self._named_tensors("_parameters", recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter of this module and (with `recurse`) its descendants."""
        for _, p in self.named_parameters(recurse):
            yield p

    def named_buffers(self, recurse: bool = True) -> Iterator:
        """(dotted name, buffer tensor)."""
        return self._named_tensors("_buffers", recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (non-trainable state such as running statistics)."""
        for _, b in self.named_buffers(recurse):
            yield b

    # ---- state ----------------------------------------------------------------------------
    def _state_tensors(self) -> dict:
        """Dotted name -> tensor: each module's parameters, then its buffers, pre-order."""
        out = {}
        for prefix, m in self.named_modules():
            for kind in ("_parameters", "_buffers"):
                for name, t in getattr(m, kind).items():
                    if t is not None:
                        out[f"{prefix}.{name}" if prefix else name] = t
        return out

    def state_dict(self) -> dict:
        """name -> NumPy array (a copy) for every parameter and buffer."""
        return {name: _host_copy(t._data) for name, t in self._state_tensors().items()}

    def load_state_dict(self, state_dict: Mapping, strict: bool = True) -> IncompatibleKeys:
        """Copy values into the existing parameters and buffers, in place.

        `strict`: keys must match exactly. Shapes must always match; values are cast to
        each parameter's dtype (a float into an integer buffer is refused). Nothing is
        changed when an error is raised.
        """
        own = self._state_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        values, problems, mismatched = {}, [], []
        for name, t in own.items():
            if name in state_dict:
                arr, problem = _checked_value(name, t, state_dict[name])
                if problem:
                    problems.append(problem)
                    mismatched.append(name)
                else:
                    values[name] = arr
        if problems or (strict and (missing or unexpected)):
            raise self._state_error(missing, unexpected, problems, mismatched, strict)
        for name, arr in values.items():
            t = own[name]
            t._data[...] = to_device(arr, t.device)
            bump_version(t)
        return IncompatibleKeys(missing, unexpected)

    def _state_error(self, missing, unexpected, problems, mismatched, strict):
        lines = [f"cannot load the state dict into {type(self).__name__}:"]
        if strict and missing:
            lines.append("  missing keys: " + ", ".join(map(repr, missing)))
        if strict and unexpected:
            lines.append("  unexpected keys: " + ", ".join(map(repr, unexpected)))
        lines += ["  " + p for p in problems]
        if strict and (missing or unexpected):
            lines.append("  (load_state_dict(d, strict=False) skips missing and unexpected keys)")
        return StateDictError("\n".join(lines), missing, unexpected, mismatched)

    # ---- modes, gradients, devices ----------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active, BatchNorm on batch statistics) recursively."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode recursively (same as train(False))."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Reset every parameter's gradient to None."""
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, device: str | None = None, dtype: DTypeLike | None = None) -> Module:
        """Move parameters and buffers to `device` (and floating ones to `dtype`) in place.

        The Parameter objects stay the same (their `.data` is replaced), so an optimizer
        built on them keeps working.
        """
        dtype = None if dtype is None else np.dtype(dtype)
        for t in [*self.parameters(), *self.buffers()]:
            t._data = _moved(t._data, device, dtype)
            if t.grad is not None:
                t.grad = Tensor._wrap(_moved(t.grad._data, device, dtype))
        return self

    def cpu(self) -> Module:
        """Move to the CPU in place."""
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Module:
        """Move to GPU `index` in place."""
        return self.to(f"cuda:{index}")

    # ---- description --------------------------------------------------------------------
    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many scalars the parameters hold (only those requiring grad, if asked)."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def summary(self, input_shape: int | tuple[int, ...] | None = None,
                print_fn: Callable[[str], object] | None = print) -> str:
        """Print (with `print_fn`; None prints nothing) and return a Keras-like table.

        `input_shape` excludes the batch axis; with it, a zero batch runs through the model
        (under no_grad, in eval mode) to find each layer's output shape. When omitted and
        the first layer is a Linear, it is inferred from `in_features`.
        """
        text = summarize(self, input_shape)
        if print_fn is not None:
            print_fn(text)
        return text

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + _indent(repr(m)) for name, m in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _host_copy(arr) -> np.ndarray:
    return arr.copy() if isinstance(arr, np.ndarray) else to_numpy(arr)


def _checked_value(name: str, t: Tensor, value):
    """(array ready to copy into t, None), or (None, text of the problem)."""
    arr = value._data if isinstance(value, Tensor) else value
    if not hasattr(arr, "__cuda_array_interface__"):
        arr = np.asarray(arr)
    if tuple(arr.shape) != t.shape:
        return None, (f"shape mismatch for {name!r}: the model expects {t.shape}, the state "
                      f"dict has {tuple(arr.shape)}")
    if not np.can_cast(arr.dtype, t.dtype, casting="same_kind"):
        return None, (f"dtype mismatch for {name!r}: the model holds {t.dtype}, the state dict "
                      f"has {arr.dtype} (refusing to cast {arr.dtype} to {t.dtype})")
    return arr, None


def _moved(arr, device, dtype):
    if device is not None:
        arr = to_device(arr, device)
    if dtype is not None and arr.dtype.kind == "f" and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")
