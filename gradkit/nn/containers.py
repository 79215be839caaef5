"""Containers: Sequential (layers applied in order) and ModuleList (a registered list)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, cast

from ..backend.autocast import is_autocast_enabled
from ..grad_mode import GRAD_MODE
from . import inference
from .conv import Conv1d, Conv2d
from .layers import Linear, ReLU, Tanh
from .module import Module

__all__ = ["Sequential", "ModuleList"]

# activation layers that fold into a Linear before them (`linear(..., activation=name)`)
_FUSIBLE: tuple[tuple[type[Module], str], ...] = ((ReLU, "relu"), (Tanh, "tanh"))
_FUSING: tuple[type[Module], ...] = (Linear, Conv1d, Conv2d)  # layers with _forward_fused


def _check_module(m: Any, where: str) -> Module:
    if not isinstance(m, Module):
        hint = " (wrap a function in a Module subclass)" if callable(m) else ""
        raise TypeError(f"{where}: expected a Module, got {type(m).__name__}{hint}")
    return m


_C = TypeVar("_C", bound="_Container")


class _Container(Module):
    """What Sequential and ModuleList share: numbered sub-modules, len, iteration, growth."""

    def _items(self) -> list[Module]:
        return cast("list[Module]", list(self._modules.values()))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items())

    def append(self: _C, module: Module) -> _C:
        """Add a module at the end; returns self."""
        where = f"{type(self).__name__}.append"
        self.add_module(str(len(self)), _check_module(module, where))
        return self

    def extend(self: _C, modules: Iterable[Module]) -> _C:
        """Add modules at the end; returns self."""
        for m in modules:
            self.append(m)
        return self


class Sequential(_Container):
    """Layers applied in order: `Sequential(Linear(4, 8), ReLU(), Linear(8, 3))`.

    Also takes one OrderedDict of name -> layer. Indexing gives a layer (a slice gives a
    Sequential), `len()` counts layers, `append()` adds one.
    """

    def __init__(self, *layers: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (OrderedDict, dict)):
            for name, m in layers[0].items():
                self.add_module(str(name), _check_module(m, f"Sequential layer {name!r}"))
        else:
            for i, m in enumerate(layers):
                self.add_module(str(i), _check_module(m, f"Sequential layer {i}"))

    def forward(self, x: Any) -> Any:
        layers: list[Any] = list(self._modules.values())
        if not GRAD_MODE.enabled and not is_autocast_enabled():  # inference on arrays
            out = inference.run(self, layers, x, _fusible)
            if out is not NotImplemented:
                return out
        n, i = len(layers), 0
        while i < n:
            m = layers[i]
            activation = _fusible(m, layers[i + 1]) if i + 1 < n else None
            if activation is None:
                x = m(x)
                i += 1
            else:  # Linear/Conv then ReLU/Tanh: one node, the same numbers
                x = m._forward_fused(x, activation)
                i += 2
        return x

    def __getitem__(self, index: int | slice) -> Module:
        named = cast("list[tuple[str, Module]]", list(self._modules.items()))
        if isinstance(index, slice):
            return Sequential(OrderedDict(named[index]))
        return named[_index(index, len(self), "Sequential")][1]



def _runs_forward_of(m: Module, base: type[Module]) -> bool:
    """Whether calling `m` runs `base.forward`: an instance of `base` (a subclass too) whose
    class overrides neither `forward` nor `__call__` and that has no per-instance `forward`
    (such as `summary`'s spy)."""
    cls = type(m)
    return (isinstance(m, base) and cls.forward is base.forward
            and cls.__call__ is Module.__call__ and "forward" not in m.__dict__)


def _fusible(m: Module, nxt: Module) -> str | None:
    """The fused activation's name when `m` behaves as a Linear, Conv1d or Conv2d and `nxt`
    as a ReLU or Tanh (judged by the forward they run, not by their exact types), so that the
    pair can run as one node with the same numbers; else None."""
    if not any(_runs_forward_of(m, base) for base in _FUSING):
        return None
    for cls, name in _FUSIBLE:
        if _runs_forward_of(nxt, cls):
            return name
    return None


def _index(i: Any, n: int, owner: str) -> int:
    i = int(i)
    if not -n <= i < n:
        raise IndexError(f"{owner}: index {i} is out of range for {n} modules")
    return i % n


class ModuleList(_Container):
    """A list of Modules whose parameters are registered (names '0', '1', ...)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleList is a container, not a layer: iterate over it in your forward()"
        )

    def _reset(self, items: list[Module]) -> None:
        for name in list(self._modules):
            delattr(self, name)
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return type(self)(self._items()[index])
        return self._items()[_index(index, len(self), "ModuleList")]

    def __setitem__(self, index: int, module: Module) -> None:
        i = _index(index, len(self), "ModuleList")
        self.add_module(str(i), _check_module(module, "ModuleList"))

    def __delitem__(self, index: int | slice) -> None:
        items = self._items()
        del items[index if isinstance(index, slice) else _index(index, len(self), "ModuleList")]
        self._reset(items)

    def insert(self, index: int, module: Module) -> None:
        """Insert a module before `index`."""
        items = self._items()
        items.insert(index, _check_module(module, "ModuleList.insert"))
        self._reset(items)
