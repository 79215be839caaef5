"""SGD, Adam, AdamW, RMSprop and Adagrad: PyTorch's update rules (its foreach=False path).

Each class writes only its update rule, `_update`, for one parameter; the base class
(`optimizer.py`) loops over groups and parameters, makes the state and applies weight decay
and `maximize`. Every update works on raw arrays: in place on `p._data` and on the state
buffers (in-place ufuncs, `out=`), with at most one or two temporaries per parameter, never
writing to a gradient array. Adam's rule is `backend.kernels.adam_update_`, one kernel on a
GPU.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..backend import kernels as ck
from ..backend.devices import xp_of
from ..backend.updates import sgd_update_
from ..tensor import Tensor
from .optimizer import Optimizer, check_real, check_unit_interval


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (heavy-ball or Nesterov)."""

    _NONNEGATIVE = ("momentum", "weight_decay")
    _STATE_KEYS = frozenset({"momentum_buffer"})

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        check_real("SGD", "dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: nesterov=True requires momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _keeps_state(self, opts: dict[str, Any]) -> bool:
        return opts["momentum"] != 0

    def _update(self, p: Tensor, g: Any, state: dict[str, Any], opts: dict[str, Any],
                fresh: bool) -> None:
        momentum, buf, first = opts["momentum"], None, False
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:  # the first gradient, as PyTorch starts it
                buf = state["momentum_buffer"] = g if fresh else g.copy()
                first = True
        sgd_update_(p._data, g, buf, lr=opts["lr"], momentum=momentum,
                       dampening=opts["dampening"], nesterov=opts["nesterov"], first=first)


class Adam(Optimizer):
    """Adam (Kingma & Ba), with optional AMSGrad; AdamW's decoupled decay in the subclass."""

    _DECOUPLED = False
    _DECAYS_ITSELF = True  # adam_update_ applies weight decay and maximize (in its kernel)
    _NONNEGATIVE = ("eps", "weight_decay")
    _STATE_KEYS = frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        super()._validate(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            check_unit_interval(name, f"betas[{i}]", beta)
        group["betas"] = tuple(betas)

    def _required_state(self, group: dict[str, Any]) -> set[str]:
        keys = {"step", "exp_avg", "exp_avg_sq"}
        return keys | {"max_exp_avg_sq"} if group["amsgrad"] else keys

    def _init_state(self, p, group: dict[str, Any]) -> dict[str, Any]:
        xp = xp_of(p._data)
        st = {"step": 0, "exp_avg": xp.zeros_like(p._data), "exp_avg_sq": xp.zeros_like(p._data)}
        if group["amsgrad"]:
            st["max_exp_avg_sq"] = xp.zeros_like(p._data)
        return st

    def _update(self, p: Tensor, g: Any, state: dict[str, Any], opts: dict[str, Any],
                fresh: bool) -> None:
        beta1, beta2 = opts["betas"]
        ck.adam_update_(p._data, g, state["exp_avg"], state["exp_avg_sq"], lr=opts["lr"],
                        beta1=beta1, beta2=beta2, eps=opts["eps"], step=state["step"],
                        weight_decay=opts["weight_decay"], decoupled=self._DECOUPLED,
                        maximize=opts["maximize"],
                        max_v=state["max_exp_avg_sq"] if opts["amsgrad"] else None)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): `w *= 1 - lr * weight_decay`."""

    _DECOUPLED = True

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centered and with momentum."""

    _NONNEGATIVE = ("alpha", "eps", "weight_decay", "momentum")
    _STATE_KEYS = frozenset({"step", "square_avg", "grad_avg", "momentum_buffer"})

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, maximize: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _required_state(self, group: dict[str, Any]) -> set[str]:
        keys = {"step", "square_avg"}
        if group["momentum"] > 0:
            keys.add("momentum_buffer")
        if group["centered"]:
            keys.add("grad_avg")
        return keys

    def _init_state(self, p, group: dict[str, Any]) -> dict[str, Any]:
        xp = xp_of(p._data)
        return {"step": 0, **{k: xp.zeros_like(p._data) for k in self._required_state(group)
                              if k != "step"}}

    def _update(self, p: Tensor, g: Any, state: dict[str, Any], opts: dict[str, Any],
                fresh: bool) -> None:
        alpha, xp = opts["alpha"], xp_of(g)
        sq = state["square_avg"]
        tmp = xp.multiply(g, 1 - alpha)  # sq = alpha * sq + (1 - alpha) * g * g
        tmp *= g
        sq *= alpha
        sq += tmp
        if opts["centered"]:
            ga = state["grad_avg"]
            xp.subtract(g, ga, out=tmp)  # ga.lerp_(g, 1 - alpha)
            tmp *= 1 - alpha
            ga += tmp
            xp.multiply(ga, ga, out=tmp)
            xp.subtract(sq, tmp, out=tmp)
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(sq, out=tmp)
        tmp += opts["eps"]
        xp.divide(g, tmp, out=tmp)
        if opts["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= opts["momentum"]
            buf += tmp
            xp.multiply(buf, opts["lr"], out=tmp)
        else:
            tmp *= opts["lr"]
        w = p._data
        w -= tmp


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): per-coordinate steps shrinking with the summed squared grads."""

    _NONNEGATIVE = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    _STATE_KEYS = frozenset({"step", "sum"})

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _required_state(self, group: dict[str, Any]) -> set[str]:
        return {"step", "sum"}

    def _init_state(self, p, group: dict[str, Any]) -> dict[str, Any]:
        init = float(group["initial_accumulator_value"])
        return {"step": 0, "sum": xp_of(p._data).full_like(p._data, init)}

    def _update(self, p: Tensor, g: Any, state: dict[str, Any], opts: dict[str, Any],
                fresh: bool) -> None:
        xp = xp_of(g)
        clr = opts["lr"] / (1 + (state["step"] - 1) * opts["lr_decay"])
        tmp = xp.multiply(g, g)
        state["sum"] += tmp
        xp.sqrt(state["sum"], out=tmp)
        tmp += opts["eps"]
        xp.divide(g, tmp, out=tmp)
        tmp *= clr
        w = p._data
        w -= tmp
