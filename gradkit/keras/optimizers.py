"""`keras.optimizers`: Keras 3's optimizers (names, defaults, update rules) as gradkit
`Optimizer`s that can be made before the model's weights exist.

    opt = keras.optimizers.Adam(learning_rate=1e-3)   # epsilon=1e-7, as Keras
    model.compile(optimizer=opt, ...)                  # built on the weights at fit

The rules are Keras's, not PyTorch's: Adam puts epsilon outside the bias correction
(`lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`), SGD keeps a velocity
`m = momentum * m - lr * g`, RMSprop puts epsilon inside the square root, Adagrad starts its
accumulator at 0.1, weight decay is `w -= lr * wd * w` before the step. `clipnorm`,
`clipvalue`, `global_clipnorm` clip in the optimizer; `learning_rate` may be a schedule;
Keras 2's `lr=` and `decay=` are accepted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..backend.devices import xp_of
from ..optim.optimizer import Optimizer as _GkOptimizer
from ..tensor import Tensor
from ..train.config import resolve_clipping
from . import schedules
from ._missing import missing
from .naming import to_snake_case

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "get",
           "schedules"]


class LearningRate(float):
    """The learning rate as Keras's optimizers show it: a number, with Keras's variable
    methods `numpy()` and `assign(value)` (which sets the optimizer's rate)."""

    optimizer: Any

    def __new__(cls, value: float, optimizer: Any) -> LearningRate:
        obj = super().__new__(cls, value)
        obj.optimizer = optimizer
        return obj

    def numpy(self) -> np.float32:
        return np.float32(self)

    def assign(self, value: Any) -> None:
        self.optimizer.learning_rate = float(value)


class Optimizer(_GkOptimizer):
    """Base of Keras's optimizers: options now, weights at `build(var_list)` (done by
    `fit`, or by the first `apply_gradients`)."""

    _DECAYS_ITSELF = True  # Keras's decoupled decay, applied in _update
    _OPTIONS: dict[str, Any] = {}

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **options: Any) -> None:
        lr, decay = options.pop("lr", None), options.pop("decay", None)  # Keras 2's names
        if use_ema or gradient_accumulation_steps:
            raise NotImplementedError(f"{type(self).__name__}: use_ema and gradient "
                                      "accumulation are not in gradkit's Keras")
        unknown = set(options) - set(self._OPTIONS)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected argument(s) {sorted(unknown)}")
        learning_rate = learning_rate if lr is None else lr
        self._schedule: Callable | None = None
        if callable(learning_rate):
            self._schedule = learning_rate
            learning_rate = float(learning_rate(0))
        elif decay:
            self._schedule = schedules.InverseTimeDecay(float(learning_rate), 1, float(decay))
        self.defaults = {"lr": float(learning_rate), "weight_decay": float(weight_decay or 0.0),
                         **self._OPTIONS, **options}
        self.state, self.param_groups = {}, []
        self.iterations = 0
        self.name = name or to_snake_case(type(self).__name__)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, \
            global_clipnorm
        self._clip = resolve_clipping(clipnorm, global_clipnorm, clipvalue)

    def __getattr__(self, name: str) -> Any:  # Keras's option attributes: opt.beta_1, ...
        defaults = self.__dict__.get("defaults", {})
        if name in defaults and name != "lr":
            return (self.param_groups[0] if self.param_groups else defaults)[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def built(self) -> bool:
        return bool(self.param_groups)

    def build(self, var_list: Iterable) -> None:
        """Take the weights to update (trainable ones only)."""
        params = [v for v in var_list if v.requires_grad]
        if self.param_groups:
            known = {id(p) for g in self.param_groups for p in g["params"]}
            params = [p for p in params if id(p) not in known]
            if params:
                self.add_param_group({"params": params})
            return
        self.add_param_group({"params": params})

    @property
    def learning_rate(self) -> LearningRate:
        """The current learning rate (settable, also while training)."""
        value = self.param_groups[0]["lr"] if self.param_groups else self.defaults["lr"]
        return LearningRate(value, self)

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if callable(value):
            self._schedule, value = value, value(self.iterations)
        value = float(value)
        self.defaults["lr"] = value
        for g in self.param_groups:
            g["lr"] = value

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        if self._schedule is not None:
            lr = float(self._schedule(self.iterations))
            for g in self.param_groups:
                g["lr"] = lr
        if self._clip is not None:
            self._clip([p for g in self.param_groups for p in g["params"]])
        out = super().step(closure)
        self.iterations += 1
        return out

    def apply_gradients(self, grads_and_vars: Iterable) -> None:
        """One step from (gradient, variable) pairs (a gradient may be None: skipped)."""
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        self.build([v for _, v in pairs])
        own = [p for g in self.param_groups for p in g["params"]]
        saved = [p.grad for p in own]
        try:
            for p in own:
                p.grad = None
            for g, v in pairs:
                v.grad = g if isinstance(g, Tensor) else Tensor(g, dtype=v.dtype)
            self.step()
        finally:
            for p, g in zip(own, saved):
                p.grad = g

    def apply(self, grads: list, trainable_variables: list | None = None) -> None:
        """Keras 3's form: `apply(grads, variables)`."""
        if trainable_variables is None:
            trainable_variables = [p for g in self.param_groups for p in g["params"]]
        self.apply_gradients(zip(grads, trainable_variables))

    def slot_count(self, group: dict) -> int:
        """How many state arrays each parameter of `group` keeps (for `summary`)."""
        return len(self._STATE_KEYS)

    def _decay(self, d: Any, opts: dict) -> None:
        wd = opts["weight_decay"]
        if wd:
            d -= d * (wd * opts["lr"])

    def state_dict(self) -> dict[str, Any]:
        out = super().state_dict()
        out["iterations"] = self.iterations
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        iterations = int(state_dict.pop("iterations", self.iterations))
        super().load_state_dict(state_dict)
        self.iterations = iterations

    def get_config(self) -> dict:
        cfg = {k: v for k, v in self.defaults.items() if k != "lr"}
        return {"name": self.name, "learning_rate": float(self.learning_rate), **cfg}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} learning_rate={self.learning_rate}, built={self.built}>"


def _zeros(p: Tensor) -> Any:
    return xp_of(p._data).zeros_like(p._data)


class SGD(Optimizer):
    """Keras's SGD: `m = momentum * m - lr * g; w += m` (Nesterov: `w += momentum * m -
    lr * g`); plain `w -= lr * g` without momentum. Default learning_rate 0.01."""

    _OPTIONS = {"momentum": 0.0, "nesterov": False}
    _STATE_KEYS = frozenset({"m"})

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0,
                 nesterov: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, momentum=momentum, nesterov=nesterov, **kwargs)

    def _keeps_state(self, opts: dict[str, Any]) -> bool:
        return opts["momentum"] != 0

    def slot_count(self, group: dict) -> int:
        return int(group["momentum"] != 0)

    def _init_state(self, p: Tensor, group: dict) -> dict:
        return {"m": _zeros(p)}

    def _update(self, p: Tensor, g: Any, state: dict, opts: dict, fresh: bool) -> None:
        d, lr, mom = p._data, opts["lr"], opts["momentum"]
        self._decay(d, opts)
        if mom == 0:
            d -= g * lr
            return
        m = state["m"]
        m *= mom
        m -= g * lr
        if opts["nesterov"]:
            d += m * mom - g * lr
        else:
            d += m


class Adam(Optimizer):
    """Keras's Adam (epsilon 1e-7, outside the bias correction; optional AMSGrad)."""

    _OPTIONS = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}
    _STATE_KEYS = frozenset({"m", "v", "v_hat"})

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, **kwargs)

    def slot_count(self, group: dict) -> int:
        return 2 + int(group["amsgrad"])

    def _init_state(self, p: Tensor, group: dict) -> dict:
        st = {"m": _zeros(p), "v": _zeros(p)}
        if group["amsgrad"]:
            st["v_hat"] = _zeros(p)
        return st

    def _update(self, p: Tensor, g: Any, state: dict, opts: dict, fresh: bool) -> None:
        d, lr, b1, b2 = p._data, opts["lr"], opts["beta_1"], opts["beta_2"]
        self._decay(d, opts)
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        m, v = state["m"], state["v"]
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        if opts["amsgrad"]:
            v = xp_of(d).maximum(state["v_hat"], v, out=state["v_hat"])
        d -= (m * alpha) / (xp_of(d).sqrt(v) + opts["epsilon"])


class AdamW(Adam):
    """Adam with Keras's decoupled weight decay (default 0.004)."""

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """Keras's RMSprop: `v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + eps)` (rho 0.9,
    epsilon 1e-7), with optional momentum and centering."""

    _OPTIONS = {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}
    _STATE_KEYS = frozenset({"velocity", "momentum", "average_gradient"})

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, rho=rho, momentum=momentum, epsilon=epsilon,
                         centered=centered, **kwargs)

    def slot_count(self, group: dict) -> int:
        return 1 + int(group["momentum"] > 0) + int(group["centered"])

    def _init_state(self, p: Tensor, group: dict) -> dict:
        st = {"velocity": _zeros(p)}
        if group["momentum"] > 0:
            st["momentum"] = _zeros(p)
        if group["centered"]:
            st["average_gradient"] = _zeros(p)
        return st

    def _update(self, p: Tensor, g: Any, state: dict, opts: dict, fresh: bool) -> None:
        d, lr, rho, xp = p._data, opts["lr"], opts["rho"], xp_of(p._data)
        self._decay(d, opts)
        v = state["velocity"]
        v *= rho
        v += (1 - rho) * (g * g)
        if opts["centered"]:
            a = state["average_gradient"]
            a *= rho
            a += (1 - rho) * g
            denominator = v - a * a + opts["epsilon"]
        else:
            denominator = v + opts["epsilon"]
        increment = lr * g / xp.sqrt(denominator)
        if opts["momentum"] > 0:
            mom = state["momentum"]
            mom *= opts["momentum"]
            mom += increment
            d -= mom
        else:
            d -= increment


class Adagrad(Optimizer):
    """Keras's Adagrad: accumulator from 0.1, `w -= lr g / sqrt(acc + eps)`."""

    _OPTIONS = {"initial_accumulator_value": 0.1, "epsilon": 1e-7}
    _STATE_KEYS = frozenset({"accumulator"})

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate, initial_accumulator_value=initial_accumulator_value,
                         epsilon=epsilon, **kwargs)

    def _init_state(self, p: Tensor, group: dict) -> dict:
        acc = _zeros(p)
        acc += group["initial_accumulator_value"]
        return {"accumulator": acc}

    def _update(self, p: Tensor, g: Any, state: dict, opts: dict, fresh: bool) -> None:
        d = p._data
        self._decay(d, opts)
        acc = state["accumulator"]
        acc += g * g
        d -= opts["lr"] * g / xp_of(d).sqrt(acc + opts["epsilon"])


class Adamax(Optimizer):
    """Keras's Adamax (the infinity norm form of Adam)."""

    _OPTIONS = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    _STATE_KEYS = frozenset({"m", "u"})

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, **kwargs)

    def _init_state(self, p: Tensor, group: dict) -> dict:
        return {"m": _zeros(p), "u": _zeros(p)}

    def _update(self, p: Tensor, g: Any, state: dict, opts: dict, fresh: bool) -> None:
        d, b1, xp = p._data, opts["beta_1"], xp_of(p._data)
        self._decay(d, opts)
        m, u = state["m"], state["u"]
        m += (g - m) * (1 - b1)
        xp.maximum(u * opts["beta_2"], xp.abs(g), out=u)
        d -= opts["lr"] * m / ((1 - b1 ** (self.iterations + 1)) * (u + opts["epsilon"]))


_NAMES: dict[str, type] = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop,
                           "adagrad": Adagrad, "adamax": Adamax}
_MISSING = ("nadam", "adadelta", "ftrl", "lion", "lamb", "adafactor", "loss_scale_optimizer")


def get(identifier: Any) -> Optimizer:
    """A fresh optimizer with Keras's defaults from a name ("adam"), or the given one."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, _GkOptimizer):
        raise TypeError("keras: this optimizer is a native gradkit one, built on parameters; "
                        "pass a keras.optimizers object or a name such as 'adam'")
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _NAMES:
            return _NAMES[key]()
        extra = (f"; {identifier!r} is not in gradkit's Keras (gradkit.optim has SGD, Adam, "
                 "AdamW, RMSprop, Adagrad)" if key in _MISSING else "")
        raise ValueError(f"keras.optimizers: unknown optimizer {identifier!r}; choose from "
                         f"{sorted(_NAMES)}{extra}")
    if isinstance(identifier, dict):
        cls = {c.__name__: c for c in _NAMES.values()}[identifier["class_name"]]
        return cls(**identifier.get("config", {}))
    raise TypeError(f"keras.optimizers: an optimizer is a name or an Optimizer, got "
                    f"{identifier!r}")


def __getattr__(name: str) -> Any:
    raise missing("optimizers", name, __all__)
