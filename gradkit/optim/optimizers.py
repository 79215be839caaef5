"""SGD, Adam, AdamW, RMSprop and Adagrad: PyTorch's update rules (its foreach=False path).

Every update works on raw arrays: in place on `p.data` and on the state buffers (in-place
ufuncs, `out=`), with at most one or two temporaries per parameter, never writing to a
gradient array. Hyper-parameters are turned into Python floats, which NumPy 2 and CuPy treat
as weak scalars, so float32 parameters stay float32 all the way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..backend.devices import xp_of
from ..backend.kernels import adam_update_
from .optimizer import Optimizer, check_nonnegative, check_real, check_unit_interval


def _grad_term(w, g, weight_decay: float, maximize: bool):
    """`±g + weight_decay * w` as PyTorch forms it; returns (array, whether it is a new one)."""
    if weight_decay:
        d = w * weight_decay
        if maximize:
            d -= g
        else:
            d += g
        return d, True
    if maximize:
        return -g, True
    return g, False


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (heavy-ball or Nesterov)."""

    _STATE_KEYS = frozenset({"momentum_buffer"})

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        check_nonnegative("SGD", "momentum", group["momentum"])
        check_nonnegative("SGD", "weight_decay", group["weight_decay"])
        check_real("SGD", "dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: nesterov=True requires momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        dampening, wd = float(group["dampening"]), float(group["weight_decay"])
        nesterov, maximize = group["nesterov"], group["maximize"]
        for p in group["params"]:
            g = self._grad_of(p)
            if g is None:
                continue
            w = p.data
            d, owned = _grad_term(w, g, wd, maximize) if wd or maximize else (g, False)
            if momentum != 0:
                st = self._state_of(p, group)
                buf = st.get("momentum_buffer")
                if buf is None:  # the first gradient, as PyTorch starts it
                    buf = st["momentum_buffer"] = d if owned else d.copy()
                else:
                    buf *= momentum
                    buf += d * (1 - dampening) if dampening else d
                if nesterov:  # d + momentum * buf
                    n = buf * momentum
                    n += d
                    d, owned = n, True
                else:
                    d, owned = buf, False
            if owned:
                d *= lr
                w -= d
            else:
                w -= self._scaled(p, d, lr)


class Adam(Optimizer):
    """Adam (Kingma & Ba), with optional AMSGrad; AdamW's decoupled decay in the subclass."""

    _DECOUPLED = False
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
        check_nonnegative(name, "eps", group["eps"])
        check_nonnegative(name, "weight_decay", group["weight_decay"])

    def _required_state(self, group: dict[str, Any]) -> set[str]:
        keys = {"step", "exp_avg", "exp_avg_sq"}
        return keys | {"max_exp_avg_sq"} if group["amsgrad"] else keys

    def _init_state(self, p, group: dict[str, Any]) -> dict[str, Any]:
        xp = xp_of(p.data)
        st = {"step": 0, "exp_avg": xp.zeros_like(p.data), "exp_avg_sq": xp.zeros_like(p.data)}
        if group["amsgrad"]:
            st["max_exp_avg_sq"] = xp.zeros_like(p.data)
        return st

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], self._DECOUPLED
        for p in group["params"]:
            g = self._grad_of(p)
            if g is None:
                continue
            w, xp = p.data, xp_of(p.data)
            st = self._state_of(p, group)
            st["step"] = step = st["step"] + 1
            if xp is not np:  # one fused kernel per parameter on a GPU
                adam_update_(w, g, st["exp_avg"], st["exp_avg_sq"], lr=lr, beta1=beta1,
                             beta2=beta2, eps=eps, step=step, weight_decay=wd,
                             decoupled=decoupled, maximize=maximize,
                             max_v=st.get("max_exp_avg_sq") if amsgrad else None)
                continue
            if decoupled and wd:
                w *= 1 - lr * wd
            g = _grad_term(w, g, 0.0 if decoupled else wd, maximize)[0]
            m, v = st["exp_avg"], st["exp_avg_sq"]
            tmp = xp.subtract(g, m)  # m.lerp_(g, 1 - beta1)
            tmp *= 1 - beta1
            m += tmp
            xp.multiply(g, 1 - beta2, out=tmp)  # v = beta2 * v + (1 - beta2) * g * g
            tmp *= g
            v *= beta2
            v += tmp
            if amsgrad:
                v = xp.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
            xp.sqrt(v, out=tmp)
            tmp /= (1 - beta2**step) ** 0.5
            tmp += eps
            xp.divide(m, tmp, out=tmp)
            tmp *= lr / (1 - beta1**step)
            w -= tmp


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

    _STATE_KEYS = frozenset({"step", "square_avg", "grad_avg", "momentum_buffer"})

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, maximize: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        for key in ("alpha", "eps", "weight_decay", "momentum"):
            check_nonnegative("RMSprop", key, group[key])

    def _required_state(self, group: dict[str, Any]) -> set[str]:
        keys = {"step", "square_avg"}
        if group["momentum"] > 0:
            keys.add("momentum_buffer")
        if group["centered"]:
            keys.add("grad_avg")
        return keys

    def _init_state(self, p, group: dict[str, Any]) -> dict[str, Any]:
        xp = xp_of(p.data)
        return {"step": 0, **{k: xp.zeros_like(p.data) for k in self._required_state(group)
                              if k != "step"}}

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        wd, momentum = float(group["weight_decay"]), float(group["momentum"])
        centered, maximize = group["centered"], group["maximize"]
        for p in group["params"]:
            g = self._grad_of(p)
            if g is None:
                continue
            w, xp = p.data, xp_of(p.data)
            st = self._state_of(p, group)
            st["step"] += 1
            g = _grad_term(w, g, wd, maximize)[0]
            sq = st["square_avg"]
            tmp = xp.multiply(g, 1 - alpha)  # sq = alpha * sq + (1 - alpha) * g * g
            tmp *= g
            sq *= alpha
            sq += tmp
            if centered:
                ga = st["grad_avg"]
                xp.subtract(g, ga, out=tmp)  # ga.lerp_(g, 1 - alpha)
                tmp *= 1 - alpha
                ga += tmp
                xp.multiply(ga, ga, out=tmp)
                xp.subtract(sq, tmp, out=tmp)
                xp.sqrt(tmp, out=tmp)
            else:
                xp.sqrt(sq, out=tmp)
            tmp += eps
            xp.divide(g, tmp, out=tmp)
            if momentum > 0:
                buf = st["momentum_buffer"]
                buf *= momentum
                buf += tmp
                xp.multiply(buf, lr, out=tmp)
            else:
                tmp *= lr
            w -= tmp


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): per-coordinate steps shrinking with the summed squared grads."""

    _STATE_KEYS = frozenset({"step", "sum"})

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        for key in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_nonnegative("Adagrad", key, group[key])

    def _required_state(self, group: dict[str, Any]) -> set[str]:
        return {"step", "sum"}

    def _init_state(self, p, group: dict[str, Any]) -> dict[str, Any]:
        init = float(group["initial_accumulator_value"])
        return {"step": 0, "sum": xp_of(p.data).full_like(p.data, init)}

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        wd, maximize = float(group["weight_decay"]), group["maximize"]
        for p in group["params"]:
            g = self._grad_of(p)
            if g is None:
                continue
            w, xp = p.data, xp_of(p.data)
            st = self._state_of(p, group)
            st["step"] = step = st["step"] + 1
            g = _grad_term(w, g, wd, maximize)[0]
            clr = lr / (1 + (step - 1) * lr_decay)
            tmp = xp.multiply(g, g)
            st["sum"] += tmp
            xp.sqrt(st["sum"], out=tmp)
            tmp += eps
            xp.divide(g, tmp, out=tmp)
            tmp *= clr
            w -= tmp
