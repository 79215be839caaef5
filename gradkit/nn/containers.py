"""Containers: Sequential (layers applied in order) and ModuleList (a registered list)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator

from .layers import Linear, ReLU, Tanh
from .module import Module

__all__ = ["Sequential", "ModuleList"]

_FUSIBLE = {ReLU: "relu", Tanh: "tanh"}  # activation layers that fold into a Linear before them


def _check_module(m, where: str) -> Module:
    if not isinstance(m, Module):
        hint = " (wrap a function in a Module subclass)" if callable(m) else ""
        raise TypeError(f"{where}: expected a Module, got {type(m).__name__}{hint}")
    return m


class Sequential(Module):
    """Layers applied in order: `Sequential(Linear(4, 8), ReLU(), Linear(8, 3))`.

    Also takes one OrderedDict of name -> layer. Indexing gives a layer (a slice gives a
    Sequential), `len()` counts layers, `append()` adds one.
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (OrderedDict, dict)):
            for name, m in layers[0].items():
                self.add_module(str(name), _check_module(m, f"Sequential layer {name!r}"))
        else:
            for i, m in enumerate(layers):
                self.add_module(str(i), _check_module(m, f"Sequential layer {i}"))

    def forward(self, x):
        layers = list(self._modules.values())
        n, i = len(layers), 0
        while i < n:
            m = layers[i]
            activation = _fusible(m, layers[i + 1]) if i + 1 < n else None
            if activation is None:
                x = m(x)
                i += 1
            else:  # Linear then ReLU/Tanh: one node, the same numbers
                x = m._forward_fused(x, activation)
                i += 2
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_index(index, len(self), "Sequential")]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def append(self, module: Module) -> Sequential:
        """Add a layer at the end; returns self."""
        self.add_module(str(len(self)), _check_module(module, "Sequential.append"))
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Add several layers at the end; returns self."""
        for m in modules:
            self.append(m)
        return self


def _fusible(m: Module, nxt: Module) -> str | None:
    """The activation of `nxt` when `m` is a plain Linear and `nxt` a plain ReLU or Tanh (not
    subclasses, no per-instance `forward`), so that the pair can run as one fused node."""
    if type(m) is not Linear or "forward" in m.__dict__ or "forward" in nxt.__dict__:
        return None
    return _FUSIBLE.get(type(nxt))


def _index(i, n: int, owner: str) -> int:
    i = int(i)
    if not -n <= i < n:
        raise IndexError(f"{owner}: index {i} is out of range for {n} modules")
    return i % n


class ModuleList(Module):
    """A list of Modules whose parameters are registered (names '0', '1', ...)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ModuleList is a container, not a layer: iterate over it in your forward()"
        )

    def _items(self) -> list[Module]:
        return list(self._modules.values())

    def _reset(self, items: list[Module]) -> None:
        for name in list(self._modules):
            delattr(self, name)
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(self._items()[index])
        return self._items()[_index(index, len(self), "ModuleList")]

    def __setitem__(self, index, module: Module) -> None:
        i = _index(index, len(self), "ModuleList")
        self.add_module(str(i), _check_module(module, "ModuleList"))

    def __delitem__(self, index) -> None:
        items = self._items()
        del items[index if isinstance(index, slice) else _index(index, len(self), "ModuleList")]
        self._reset(items)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items())

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end; returns self."""
        self.add_module(str(len(self)), _check_module(module, "ModuleList.append"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add modules at the end; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert a module before `index`."""
        items = self._items()
        items.insert(index, _check_module(module, "ModuleList.insert"))
        self._reset(items)
