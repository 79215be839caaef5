"""The `Optimizer` base: parameter groups, validation, zero_grad, lr, state and state_dict,
and the loop of `step()` over groups and parameters.

`step()` visits every parameter that has a gradient; for each it creates the state on the
first visit (`_init_state`), counts `state["step"]` when the state keeps one, forms the
gradient to step along (`weight_decay` and `maximize`, by `backend.kernels.grad_term`) and
calls the subclass's update rule, `_update(p, g, state, opts, fresh)`: in place on `p._data`
and on the state buffers, with `opts` the group's options as Python floats. Gradient arrays
are only ever read. A subclass gives its defaults, `_validate`, `_init_state`,
`_required_state` and `_STATE_KEYS` (for `load_state_dict`), and `_update`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import enable_grad
from ..backend import kernels as ck
from ..backend.devices import to_device, to_numpy, xp_of
from ..errors import ShapeError
from ..tensor import Tensor
from ..tensor_base import bump_version

_SCHEDULER_KEYS = ("initial_lr",)  # group keys that lr schedulers add


def check_real(owner: str, name: str, value: Any) -> None:
    """Raise unless `value` is a finite real number (the message names `owner` and `name`)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: invalid {name}={value!r}; it must be finite")


def check_nonnegative(owner: str, name: str, value: Any) -> None:
    """Raise unless `value` is a finite real number >= 0."""
    check_real(owner, name, value)
    if not value >= 0:
        raise ValueError(f"{owner}: invalid {name}={value!r}; it must be >= 0")


def check_unit_interval(owner: str, name: str, value: Any) -> None:
    """Raise unless `value` is a real number in [0, 1)."""
    check_nonnegative(owner, name, value)
    if not value < 1:
        raise ValueError(f"{owner}: invalid {name}={value!r}; it must be in [0, 1)")


class Optimizer:
    """Base class of gradkit's optimizers (PyTorch's interface, NumPy/CuPy arrays inside).

    `params` is an iterable of tensors that require grad, or of dicts (parameter groups)
    with a "params" entry and per-group options that override `defaults`.
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        if isinstance(params, (Tensor, dict)):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of tensors or of dicts "
                f"(parameter groups), got a single {type(params).__name__}; wrap it in a list"
            )
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            opts = ", ".join(f"{k}={v!r}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} params, {opts}")
        return "\n".join(lines + [")"])

    # ---- parameter groups ---------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with "params" and optional per-group options)."""
        name = type(self).__name__
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"{name}: a parameter group must be a dict with a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        index = len(self.param_groups)
        self._check_params(group["params"], index)
        unknown = set(group) - set(self.defaults) - {"params", *_SCHEDULER_KEYS}
        if unknown:
            raise ValueError(
                f"{name}: unknown option(s) {sorted(unknown)} in parameter group {index}; "
                f"the options are {sorted(self.defaults)}"
            )
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._validate(group)
        self.param_groups.append(group)

    def _check_params(self, params: list, index: int) -> None:
        name = type(self).__name__
        if not params:
            raise ValueError(f"{name}: parameter group {index} has an empty parameter list")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for j, p in enumerate(params):
            where = f"parameter {j} of group {index}"
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: {where} is a {type(p).__name__}, not a Tensor")
            if not p.requires_grad:
                raise ValueError(
                    f"{name}: {where} (shape {p.shape}) does not require grad; create it with "
                    "requires_grad=True (or call .requires_grad_()) before optimizing it"
                )
            if not p.is_leaf:
                raise ValueError(f"{name}: {where} is not a leaf tensor (it is the result of "
                                 "an op); optimize the tensors it was computed from")
            if id(p) in seen:
                raise ValueError(f"{name}: {where} appears more than once in the parameters")
            seen.add(id(p))

    _NONNEGATIVE: tuple[str, ...] = ()  # options that must be finite numbers >= 0 (besides lr)

    def _validate(self, group: dict[str, Any]) -> None:
        """Check a group's options (subclasses extend; the base checks lr and _NONNEGATIVE)."""
        name = type(self).__name__
        check_nonnegative(name, "lr", group["lr"])
        for key in self._NONNEGATIVE:
            check_nonnegative(name, key, group[key])

    # ---- learning rate ------------------------------------------------------------------
    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        check_nonnegative(type(self).__name__, "lr", value)
        for group in self.param_groups:
            group["lr"] = float(value)

    # ---- stepping -----------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear gradients: `None` by default, else fresh zero tensors (never zeroed in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    g = p.grad._data
                    p.grad = Tensor._wrap(xp_of(g).zeros_like(g))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns `closure()` when given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        """Update every parameter of `group` that has a gradient (see the module docstring)."""
        opts = _options(group)
        wd, maximize = opts.get("weight_decay", 0.0), opts.get("maximize", False)
        decay = bool(wd or maximize) and not self._DECAYS_ITSELF
        stateful = self._keeps_state(opts)
        grad_of, update = self._grad_of, self._update
        for p in group["params"]:
            g = grad_of(p)
            if g is None:
                continue
            state = self._state_of(p, group) if stateful else {}
            if "step" in state:
                state["step"] += 1
            fresh = False
            if decay:
                g, fresh = ck.grad_term(p._data, g, wd, maximize)
            update(p, g, state, opts, fresh)
            bump_version(p)  # a graph built before this step no longer matches `p`

    _DECAYS_ITSELF = False  # True: `_update` gets the raw gradient and applies weight decay

    def _update(self, p: Tensor, g: Any, state: dict[str, Any], opts: dict[str, Any],
                fresh: bool) -> None:
        """The update rule for one parameter: change `p._data` (and `state`) in place.

        `g` is the gradient to step along (decayed and negated as the options say, unless
        `_DECAYS_ITSELF`); `fresh` says it is a temporary of this step that may be
        overwritten (otherwise it is the gradient itself, never to be written).
        """
        raise NotImplementedError(f"{type(self).__name__} has no update rule (_update)")

    def _keeps_state(self, opts: dict[str, Any]) -> bool:
        """Whether parameters under these options keep state (plain SGD keeps none)."""
        return True

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The buffers of `p` before its first update (lazily, on `p`'s device and dtype)."""
        return {}

    _STATE_KEYS: frozenset[str] = frozenset()  # every state key the optimizer may keep

    def _required_state(self, group: dict[str, Any]) -> set[str]:
        """The state keys a parameter of `group` must have to be updated."""
        return set()

    def _state_of(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        st = self.state.get(p)
        if st is None:
            st = self.state[p] = self._init_state(p, group)
        return st

    @staticmethod
    def _grad_of(p: Tensor):
        """The raw gradient array of `p` (None when it has none), checked against its shape."""
        grad = p.grad
        if grad is None:
            return None
        g = grad._data
        if g.shape != p._data.shape:
            raise ShapeError(
                f"optimizer step: gradient of shape {g.shape} for a parameter of shape "
                f"{p._data.shape}"
            )
        return g

    # ---- state_dict ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """`{"state": {index: {"step": int, name: ndarray}}, "param_groups": [...]}`.

        Parameters are numbered across groups in order; buffers are NumPy host copies.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: _host_copy(v) for k, v in st.items()}
            for p, st in self.state.items() if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and buffers saved by `state_dict` (checked before anything changes)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups' entries, as returned by state_dict()")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter "
                f"groups but this optimizer has {len(self.param_groups)}"
            )
        new_groups, by_index = [], {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"{name}.load_state_dict: parameter group {i} of the state "
                                 "dict is not a dict with a 'params' entry")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(saved['params'])} "
                    f"parameters in the state dict but {len(group['params'])} here"
                )
            new_groups.append(self._restored_group(saved, group))
            for k, p in zip(saved["params"], group["params"]):
                by_index[int(k)] = (p, new_groups[-1])
        new_state = {}
        for k, st in state_dict["state"].items():
            if int(k) not in by_index:
                raise ValueError(f"{name}.load_state_dict: state for parameter {k}, which "
                                 "no parameter group lists")
            p, group = by_index[int(k)]
            new_state[p] = self._restored_state(int(k), st, p, group)
        self.param_groups[:] = new_groups
        self.state = new_state

    def _restored_group(self, saved: dict[str, Any], group: dict[str, Any]) -> dict[str, Any]:
        new = {k: v for k, v in saved.items() if k != "params"}
        for k, v in group.items():  # JSON turns tuples (betas) into lists
            if isinstance(v, tuple) and isinstance(new.get(k), list):
                new[k] = tuple(new[k])
        missing = set(self.defaults) - set(new)
        if missing:
            raise ValueError(f"{type(self).__name__}.load_state_dict: a parameter group "
                             f"lacks the option(s) {sorted(missing)}")
        self._validate(new)
        new["params"] = group["params"]
        return new

    def _restored_state(self, k: int, saved: dict, p: Tensor, group: dict) -> dict[str, Any]:
        name = type(self).__name__
        unknown = set(saved) - self._STATE_KEYS
        missing = self._required_state(group) - set(saved)
        if unknown or missing:
            raise ValueError(
                f"{name}.load_state_dict: the state of parameter {k} has "
                f"{sorted(saved)}; {name} with these options needs "
                f"{sorted(self._required_state(group))} (unknown: {sorted(unknown)}, "
                f"missing: {sorted(missing)})"
            )
        out = {}
        for key, value in saved.items():
            if key == "step":
                out[key] = int(value)
                continue
            host = np.array(to_numpy(value), dtype=p.dtype)  # always a copy
            if host.shape != p.shape:
                raise ValueError(
                    f"{name}.load_state_dict: {key} of parameter {k} has shape {host.shape} "
                    f"but the parameter has shape {p.shape}"
                )
            out[key] = to_device(host, p.device)
        return out


def _options(group: dict[str, Any]) -> dict[str, Any]:
    """A group's options as the update reads them: numbers as Python floats (weak scalars in
    NumPy 2 and CuPy, so float32 parameters stay float32), tuples of them (betas) too."""
    opts = dict(group)
    del opts["params"]
    for k, v in opts.items():
        if type(v) is not float and type(v) is not bool:
            opts[k] = _as_float(v)
    return opts


_FLOATS = (float, int, np.floating, np.integer)  # the common numbers, checked first (fast)


def _as_float(value: Any) -> Any:
    if type(value) is float or isinstance(value, bool):
        return value
    if isinstance(value, _FLOATS):
        return float(value)
    if isinstance(value, tuple):
        return tuple(_as_float(v) for v in value)
    return float(value) if isinstance(value, numbers.Real) else value  # e.g. Fraction


def _host_copy(value):
    """A NumPy copy of an array buffer (scalars pass through)."""
    if isinstance(value, (int, float)):
        return value
    arr = to_numpy(value)
    return arr.copy() if arr is value else arr
