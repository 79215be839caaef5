"""`torch.optim.Optimizer` and SGD, Adam, AdamW, RMSprop, Adagrad with PyTorch's signatures
and defaults, over gradkit's optimizers (the same update rules, in place on the arrays).

What the dialect adds: PyTorch's argument order and defaults (`SGD(params, lr=1e-3, momentum,
dampening, weight_decay, nesterov)`), parameters given as `named_parameters()`, PyTorch's
extra group options (`foreach`, `fused`, ... accepted, kept in `param_groups`, no effect),
`state` as a defaultdict (so a hand-written optimizer's `self.state[p]` works), a
`state_dict()` of tensors (`step` a 0-d float tensor, as PyTorch's) and PyTorch's repr.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from ... import optim as _gkoptim
from ...backend.devices import to_numpy
from ...tensor import Tensor as _Native
from ..tensor import from_array

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]


def _params(params: Any) -> Any:
    """`params` with (name, tensor) pairs (from `named_parameters()`) reduced to tensors."""
    if isinstance(params, (_Native, dict)):
        return params
    items = list(params)
    if items and isinstance(items[0], tuple) and len(items[0]) == 2 \
            and isinstance(items[0][0], str):
        return [p for _, p in items]
    return [{**g, "params": _params(g["params"])} if isinstance(g, dict) else g for g in items]


def _as_torch(key: str, value: Any) -> Any:
    """A state value as PyTorch keeps it: arrays as tensors (copies), `step` a float tensor."""
    if key == "step" and isinstance(value, (int, float, np.integer)):
        return from_array(np.array(float(value), dtype=np.float32))
    if isinstance(value, _Native):
        return from_array(value._data.copy())
    if hasattr(value, "__array_interface__") or hasattr(value, "__cuda_array_interface__"):
        return from_array(value.copy())
    return value


def _as_host(key: str, value: Any) -> Any:
    """A state value as gradkit's optimizers keep it (arrays, an int `step`)."""
    if key == "step":
        return int(float(value))
    if isinstance(value, _Native):
        return to_numpy(value._data)
    return value


class Optimizer(_gkoptim.Optimizer):
    """Base of the optimizers; subclass it as in PyTorch: `super().__init__(params,
    defaults)`, then a `step()` that reads `self.param_groups` and `self.state[p]`."""

    _EXTRAS: dict[str, Any] = {}  # PyTorch's group options that change nothing here

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        if defaults.get("differentiable"):
            raise NotImplementedError(f"{type(self).__name__}: differentiable=True is not "
                                      "supported by gradkit")
        super().__init__(_params(params), {**self._EXTRAS, **defaults})
        self.state = defaultdict(dict)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with "params" and its own options)."""
        super().add_param_group({**param_group, "params": _params(param_group["params"])})

    def state_dict(self) -> dict[str, Any]:
        """`{"state": {index: {name: tensor}}, "param_groups": [{..., "params": [index]}]}`."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: {k: _as_torch(k, v) for k, v in st.items()}
                 for p, st in self.state.items() if id(p) in index and st}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by `state_dict` (shapes and keys checked)."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected a dict with "
                             "'state' and 'param_groups', as state_dict() returns")
        groups = [{**self._EXTRAS, **g} for g in state_dict["param_groups"]]
        if self._STATE_KEYS:  # one of gradkit's optimizers: its checks and array state
            state = {k: {n: _as_host(n, v) for n, v in st.items()}
                     for k, st in state_dict["state"].items()}
            super().load_state_dict({"state": state, "param_groups": groups})
        else:  # a hand-written optimizer: its state as saved
            super().load_state_dict({"state": {}, "param_groups": groups})
            params = [p for g in self.param_groups for p in g["params"]]
            for k, st in state_dict["state"].items():
                self.state[params[int(k)]] = dict(st)
        self.state = defaultdict(dict, self.state)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join([*lines, ")"])


_SGD_EXTRAS = {"foreach": None, "differentiable": False, "fused": None}
_ADAM_EXTRAS = {"foreach": None, "capturable": False, "differentiable": False, "fused": None}


class SGD(_gkoptim.SGD, Optimizer):
    """Stochastic gradient descent with optional momentum (heavy-ball or Nesterov)."""

    _EXTRAS = _SGD_EXTRAS

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(_params(params), float(lr), momentum, dampening, nesterov,
                         weight_decay, maximize)
        _extras(self, foreach=foreach, differentiable=differentiable, fused=fused)


class Adam(_gkoptim.Adam, Optimizer):
    """Adam (optionally AMSGrad; `decoupled_weight_decay=True` is AdamW)."""

    _EXTRAS = {**_ADAM_EXTRAS, "decoupled_weight_decay": False}

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        super().__init__(_params(params), float(lr), tuple(betas), eps, weight_decay, amsgrad,
                         maximize)
        _extras(self, foreach=foreach, capturable=capturable, differentiable=differentiable,
                fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        if decoupled_weight_decay:
            self._DECOUPLED = True


class AdamW(_gkoptim.AdamW, Optimizer):
    """Adam with decoupled weight decay (default 0.01)."""

    _EXTRAS = {**_ADAM_EXTRAS, "decoupled_weight_decay": True}

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(_params(params), float(lr), tuple(betas), eps, weight_decay, amsgrad,
                         maximize)
        _extras(self, foreach=foreach, capturable=capturable, differentiable=differentiable,
                fused=fused)


class RMSprop(_gkoptim.RMSprop, Optimizer):
    """RMSprop, optionally centered and with momentum."""

    _EXTRAS = {"foreach": None, "capturable": False, "differentiable": False}

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        super().__init__(_params(params), float(lr), alpha, eps, weight_decay, momentum,
                         centered, maximize)
        _extras(self, foreach=foreach, capturable=capturable, differentiable=differentiable)


class Adagrad(_gkoptim.Adagrad, Optimizer):
    """Adagrad: per-coordinate steps that shrink with the summed squared gradients."""

    _EXTRAS = {"foreach": None, "differentiable": False, "fused": None}

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(_params(params), float(lr), lr_decay, weight_decay,
                         initial_accumulator_value, eps, maximize)
        _extras(self, foreach=foreach, differentiable=differentiable, fused=fused)


def _extras(opt: Optimizer, **values: Any) -> None:
    """Record PyTorch's no-effect options in the defaults and every group."""
    if values.get("differentiable"):
        raise NotImplementedError(f"{type(opt).__name__}: differentiable=True is not "
                                  "supported by gradkit")
    opt.defaults.update(values)
    for group in opt.param_groups:
        group.update(values)
