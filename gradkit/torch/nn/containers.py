"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict.

`Sequential` and `ModuleList` are gradkit's (indexing, `append`, an OrderedDict of names);
`Sequential.forward` runs a Linear/Conv followed by ReLU/Tanh as one fused node, as
gradkit's does, when neither layer is customised (a subclass's `forward`, a hook).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ... import nn as _gknn
from .conv import Conv1d, Conv2d
from .layers import Linear, ReLU, Tanh
from .module import COUNTERPARTS, Module, Parameter, framed, indent

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]

_FUSING = (Linear, Conv1d, Conv2d)
_FUSIBLE = ((ReLU, "relu"), (Tanh, "tanh"))


def _plain(m: Any, base: type) -> bool:
    """Whether calling `m` runs `base.forward` with nothing around it (no subclass forward
    or __call__, no hooks)."""
    cls: Any = type(m)
    wanted: Any = base
    return (isinstance(m, base) and cls.forward is wanted.forward
            and cls.__call__ is Module.__call__ and "forward" not in vars(m)
            and not cls._forward_hooks and not getattr(m, "_forward_hooks", ())
            and not getattr(m, "_forward_pre_hooks", ()))


def _fused_activation(m: Any, nxt: Any) -> str | None:
    if not any(_plain(m, base) for base in _FUSING):
        return None
    for cls, name in _FUSIBLE:
        if _plain(nxt, cls):
            return name
    return None


class Sequential(_gknn.Sequential, Module):
    """Layers applied in order: `nn.Sequential(nn.Linear(2, 10), nn.ReLU(), ...)`, or from an
    OrderedDict of name -> layer (then `model.fc1`, and state dict keys `fc1.weight`)."""

    def forward(self, input: Any) -> Any:
        layers: list[Any] = list(self._modules.values())
        x, n, i = input, len(layers), 0
        while i < n:
            m = layers[i]
            activation = _fused_activation(m, layers[i + 1]) if i + 1 < n else None
            if activation is None:
                x = m(x)
                i += 1
            else:  # the two layers as one node: the same numbers, fewer arrays
                x = m._forward_fused(x, activation)
                i += 2
        return x

    def __getitem__(self, index: int | slice) -> Any:
        named: list[Any] = list(self._modules.items())
        if isinstance(index, slice):
            return type(self)(OrderedDict(named[index]))
        return super().__getitem__(index)

    def __setitem__(self, index: int, module: _gknn.Module) -> None:
        name = list(self._modules)[_position(index, len(self))]
        self.add_module(name, module)

    def __delitem__(self, index: int | slice) -> None:
        names = list(self._modules)
        chosen = names[index] if isinstance(index, slice) else [names[_position(index, len(self))]]
        for name in chosen:
            delattr(self, name)
        self._renumber()

    def insert(self, index: int, module: _gknn.Module) -> Sequential:
        """Insert a layer before position `index`."""
        items = list(self._modules.values())
        items.insert(index, module)
        for name in list(self._modules):
            delattr(self, name)
        for i, m in enumerate(items):
            self.add_module(str(i), m)
        return self

    def pop(self, index: int = -1) -> Any:
        """Remove and return the layer at `index`."""
        m = self[index]
        del self[index]
        return m

    def _renumber(self) -> None:
        if all(name.isdigit() for name in self._modules):
            items = list(self._modules.values())
            for name in list(self._modules):
                delattr(self, name)
            for i, m in enumerate(items):
                self.add_module(str(i), m)


def _position(index: int, n: int) -> int:
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range for {n} modules")
    return i % n


class ModuleList(_gknn.ModuleList, Module):
    """A list of layers whose parameters are registered (names '0', '1', ...)."""

    def __repr__(self) -> str:
        """Runs of layers that print the same shown once, as `(0-2): 3 x Linear(...)`."""
        blocks: list[list[Any]] = []  # [first index, last index, repr]
        for i, m in enumerate(self._modules.values()):
            r = repr(m)
            if blocks and blocks[-1][2] == r:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = [indent(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}")
                 for a, b, r in blocks]
        return framed(type(self).__name__, [], lines)


class ModuleDict(Module):
    """A dict of layers whose parameters are registered under their keys."""

    def __init__(self, modules: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None
                 ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Any:
        return self._modules[key]

    def __setitem__(self, key: str, module: Any) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The names, in insertion order."""
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Any]]:
        """(name, layer) pairs."""
        return self._modules.items()

    def values(self) -> Iterable[Any]:
        """The layers."""
        return self._modules.values()

    def update(self, modules: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add (or replace) layers from a mapping or (name, layer) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, m in pairs:
            self.add_module(str(key), m)

    def pop(self, key: str) -> Any:
        """Remove the layer `key` and return it."""
        m = self._modules[key]
        delattr(self, key)
        return m

    def clear(self) -> None:
        """Remove every layer."""
        for key in list(self._modules):
            delattr(self, key)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict is a container, not a layer: index it in your "
                                  "forward()")


class ParameterList(Module):
    """A list of parameters, registered under '0', '1', ..."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        for v in values or ():
            self.append(v)

    def append(self, value: Any) -> ParameterList:
        """Add a parameter (a tensor is wrapped in `nn.Parameter`)."""
        p = value if isinstance(value, _gknn.Parameter) else Parameter(value)
        self.register_parameter(str(len(self)), p)
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add several parameters."""
        for v in values:
            self.append(v)
        return self

    def __getitem__(self, index: int) -> Any:
        return list(self._parameters.values())[index]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._parameters.values()))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ParameterList is a container: index it in your forward()")


class ParameterDict(Module):
    """A dict of parameters registered under their keys."""

    def __init__(self, parameters: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        for k, v in (parameters or {}).items():
            self[k] = v

    def __setitem__(self, key: str, value: Any) -> None:
        p = value if isinstance(value, _gknn.Parameter) else Parameter(value)
        self.register_parameter(key, p)

    def __getitem__(self, key: str) -> Any:
        return self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __contains__(self, key: object) -> bool:
        return key in self._parameters

    def keys(self) -> Iterable[str]:
        """The names."""
        return self._parameters.keys()

    def items(self) -> Iterable[tuple[str, Any]]:
        """(name, parameter) pairs."""
        return self._parameters.items()

    def values(self) -> Iterable[Any]:
        """The parameters."""
        return self._parameters.values()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ParameterDict is a container: index it in your forward()")


COUNTERPARTS.update({_gknn.Sequential: Sequential, _gknn.ModuleList: ModuleList})
