"""`torch.nn.Module` and `torch.nn.Parameter` over gradkit's Module and Parameter.

The dialect's Module *is* a gradkit Module (same registries, training, saving); what it
adds is PyTorch's surface: calling it returns `torch.Tensor`s, its parameters are
`nn.Parameter`s that are `torch.Tensor`s, `state_dict()` holds tensors (PyTorch's key names
and shapes), and the methods take PyTorch's arguments (`to(device)`, `zero_grad(set_to_none)`,
`apply`, `named_parameters(prefix=...)`, forward hooks).

Built-in layers are gradkit's own classes under a dialect class (`class Linear(gk.nn.Linear,
Module)`); a gradkit layer, parameter or buffer set on a dialect module is *adopted*: it takes
its dialect class in place (`__class__`, no copy), so the layers a gradkit layer builds
inside itself (the `out_proj` of an attention layer) print and behave like PyTorch's too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ... import nn as _gknn
from ...backend.devices import xp_of
from ...tensor import Tensor as _Native
from ..tensor import Tensor, from_array, retag, retag_all
from ._args import dtype_of, split_to_args

__all__ = ["Module", "Parameter", "adopt", "COUNTERPARTS", "indent", "framed"]

#: gradkit layer class -> its dialect class (filled by the files that define the layers)
COUNTERPARTS: dict[type, type] = {}


class Parameter(_gknn.Parameter, Tensor):
    """A tensor that is a module parameter: `nn.Parameter(torch.randn(3, 2))` (shares the
    tensor's storage; `requires_grad=True` unless told otherwise)."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        arr = data._data if isinstance(data, _Native) else np.asarray(data)
        _Native.__init__(self, arr, dtype=arr.dtype, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__


class _Keys(_gknn.IncompatibleKeys):
    """What `load_state_dict` returns, printed as PyTorch prints it."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")


def _adopt_tensor(t: Any) -> None:
    if type(t) is _gknn.Parameter:
        t.__class__ = Parameter
    elif type(t) is _Native:
        t.__class__ = Tensor


def adopt(module: _gknn.Module) -> None:
    """Give `module` and every layer inside it its dialect class (in place), and make their
    parameters `nn.Parameter`s and buffers `torch.Tensor`s. Classes with no dialect
    counterpart (a user's gradkit Module) keep theirs."""
    for m in module.modules():
        cls = COUNTERPARTS.get(type(m))
        if cls is not None:
            object.__setattr__(m, "__class__", cls)
            m._adopted()  # type: ignore[attr-defined]  # now a dialect Module
        for registry in (m._parameters, m._buffers):
            for t in registry.values():
                _adopt_tensor(t)


class _Handle:
    """Returned by `register_forward_hook`: `.remove()` takes the hook off."""

    def __init__(self, module: Module, attr: str, hook: Callable) -> None:
        self.module, self.attr, self.hook = module, attr, hook

    def remove(self) -> None:
        hooks = tuple(h for h in getattr(self.module, self.attr) if h is not self.hook)
        object.__setattr__(self.module, self.attr, hooks)


class Module(_gknn.Module):
    """Base class of every PyTorch-style layer and model: subclass it, call
    `super().__init__()`, set layers and `nn.Parameter`s as attributes, write `forward`."""

    _forward_pre_hooks: tuple = ()
    _forward_hooks: tuple = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}: Module.__init__() takes no arguments "
                            "(call super().__init__() with none)")
        super().__init__()

    def _adopted(self) -> None:
        """Called when a gradkit layer has just become this dialect class (a hook for the
        few that differ, such as MultiheadAttention's `out_proj`)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        out = self.forward(*args, **kwargs)
        if type(out) is _Native:
            out.__class__ = Tensor
            return out
        return retag_all(out) if isinstance(out, (tuple, list, dict)) else out

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in self._forward_pre_hooks:
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        out = retag_all(self.forward(*args, **kwargs))
        for hook in self._forward_hooks:
            changed = hook(self, args, out)
            if changed is not None:
                out = changed
        return out

    def register_forward_hook(self, hook: Callable) -> _Handle:
        """Call `hook(module, inputs, output)` after each forward (a non-None return
        replaces the output); returns a handle with `.remove()`."""
        object.__setattr__(self, "_forward_hooks", (*self._forward_hooks, hook))
        return _Handle(self, "_forward_hooks", hook)

    def register_forward_pre_hook(self, hook: Callable) -> _Handle:
        """Call `hook(module, inputs)` before each forward (a non-None return replaces the
        inputs); returns a handle with `.remove()`."""
        object.__setattr__(self, "_forward_pre_hooks", (*self._forward_pre_hooks, hook))
        return _Handle(self, "_forward_pre_hooks", hook)

    # ---- registration: adopt gradkit layers, parameters and buffers ------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, _gknn.Module):
            adopt(value)
        elif type(value) is _gknn.Parameter:
            value.__class__ = Parameter
        super().__setattr__(name, value)

    def add_module(self, name: str, module: _gknn.Module | None) -> None:
        if isinstance(module, _gknn.Module):
            adopt(module)
        super().add_module(name, module)

    register_module = add_module

    def register_parameter(self, name: str, param: _gknn.Parameter | None) -> None:
        _adopt_tensor(param)
        super().register_parameter(name, param)

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register non-trainable state; `persistent=False` keeps it out of state_dict."""
        super().register_buffer(name, tensor)
        retag(self._buffers[name])
        hidden = self.__dict__.setdefault("_non_persistent", set())
        (hidden.discard if persistent else hidden.add)(name)

    def _state_tensors(self) -> dict:
        out = super()._state_tensors()
        for prefix, m in self.named_modules():
            for name in m.__dict__.get("_non_persistent", ()):
                out.pop(f"{prefix}.{name}" if prefix else name, None)
        return out

    # ---- traversal with PyTorch's arguments ----------------------------------------------
    def named_parameters(  # type: ignore[override]  # PyTorch's argument order
            self, prefix: str = "", recurse: bool = True,
            remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter), e.g. ('0.weight', ...), each shared parameter once."""
        return _prefixed(self._named_tensors("_parameters", recurse), prefix)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (of the sub-modules too, unless `recurse=False`)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(  # type: ignore[override]  # PyTorch's argument order
            self, prefix: str = "", recurse: bool = True,
            remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) such as ('0.running_mean', ...)."""
        return _prefixed(self._named_tensors("_buffers", recurse), prefix)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (running statistics and other non-trainable state)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> _gknn.Module:
        """The sub-module at a dotted path such as "encoder.0" ("" is this module)."""
        m: _gknn.Module = self
        for part in target.split(".") if target else ():
            child = m._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(m).__name__} has no sub-module {part!r} "
                                     f"(looking for {target!r})")
            m = child
        return m

    def apply(self, fn: Callable[[Any], Any]) -> Module:
        """Call `fn` on every sub-module (children first) and then on this module."""
        _apply(self, fn)
        return self

    # ---- state -------------------------------------------------------------------------
    def state_dict(self, destination: Any = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """name -> tensor for every parameter and buffer, PyTorch's keys and shapes.

        Unlike PyTorch, the tensors are copies (PyTorch's share storage with the model), so
        a state dict kept while training stays as it was; `keep_vars=True` gives the
        parameters themselves."""
        out = OrderedDict() if destination is None else destination
        for name, t in self._state_tensors().items():
            out[prefix + name] = t if keep_vars else from_array(t._data.copy())
        return out

    def load_state_dict(self, state_dict: Mapping, strict: bool = True,
                        assign: bool = False) -> _Keys:
        """Copy the values into the parameters and buffers, in place (keys must match
        when `strict`; shapes always)."""
        return _Keys(*super().load_state_dict(state_dict, strict))

    # ---- modes, gradients, devices and dtypes ---------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None by default, else to zeros."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                g = p.grad._data
                p.grad = from_array(xp_of(g).zeros_like(g))

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move to a device and/or cast floating parameters to a dtype, in place:
        `to("cuda")`, `to(torch.float64)`, `to(device, dtype)`, `to(tensor)`."""
        device, dtype = split_to_args(args, dict(kwargs), "Module.to")
        super().to(device, dtype)
        return self

    def cuda(self, device: Any = None) -> Module:
        """Move to a GPU (GPU 0 by default), in place."""
        return self.to("cuda" if device is None else device)

    def cpu(self) -> Module:
        """Move to the CPU, in place."""
        return self.to("cpu")

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32."""
        return self.to(dtype=np.float32)

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64."""
        return self.to(dtype=np.float64)

    def half(self) -> Module:
        """Cast floating parameters and buffers to float16."""
        return self.to(dtype=np.float16)

    def type(self, dst_type: Any) -> Module:
        """Cast floating parameters and buffers to `dst_type`."""
        return self.to(dtype=dtype_of(dst_type))

    def num_parameters(self, trainable_only: bool = False) -> int:
        """How many scalars the parameters hold (only those requiring grad, if asked)."""
        return sum(p._data.size for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    def share_memory(self) -> Module:
        """Nothing to do in one process (kept so PyTorch code runs)."""
        return self

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + indent(repr(m)) for name, m in self._modules.items()]
        return framed(type(self).__name__, extra_lines, child_lines)


def indent(text: str, spaces: int = 2) -> str:
    """Every line of `text` but the first indented (PyTorch's `_addindent`)."""
    first, *rest = text.split("\n")
    return "\n".join([first, *(" " * spaces + line for line in rest)])


def framed(name: str, extra_lines: list[str], child_lines: list[str]) -> str:
    """`Name(extra)` or `Name(\\n  lines...\\n)`, as PyTorch's Module.__repr__ lays it out."""
    lines = extra_lines + child_lines
    if not lines:
        return name + "()"
    if len(extra_lines) == 1 and not child_lines:
        return f"{name}({extra_lines[0]})"
    return name + "(\n  " + "\n  ".join(lines) + "\n)"


def _apply(m: _gknn.Module, fn: Callable[[Any], Any]) -> None:
    for child in m.children():
        _apply(child, fn)
    fn(m)


def _prefixed(items: Iterator[tuple[str, Any]], prefix: str) -> Iterator[tuple[str, Any]]:
    for name, t in items:
        yield (f"{prefix}.{name}" if prefix else name), t
