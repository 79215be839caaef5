"""The peers a user would pick instead of gradkit: `jax.jit` and Keras 3 on the JAX backend.

Each is the same MLP trainer as the others (`contenders.py`): `sizes[0]-...-sizes[-1]` with
ReLU (or Tanh) between Linear layers, softmax cross-entropy, SGD with momentum (PyTorch's
rule: v = m v + g, p -= lr v), offering `set_data`, `epoch`, `steps`, `infer` and `infer1`
(one sample's latency). Written the way each library's documentation does it:

- `jax.jit`: the whole step (forward, `jax.grad`, update) one jitted function with the
  parameters and velocities donated (updated in place), batches gathered with NumPy;
- Keras 3 (`KERAS_BACKEND=jax`, set here before Keras' first import): `Sequential`
  of `Dense` layers, `compile(SGD(momentum), sparse categorical cross-entropy from
  logits)`, `fit` for epochs, `train_on_batch` for fixed batches, `predict_on_batch` for
  inference (the jitted predict function without `predict`'s per-call data adapter).

`available()` says which are installed (and why not, when not).
"""

from __future__ import annotations

import os

import numpy as np

from .reference import LR, MOMENTUM


def _init(sizes, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """PyTorch's default Linear init, as the NumPy floor draws it."""
    rng = np.random.default_rng(seed)
    out = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        k = 1 / np.sqrt(a)
        out.append((rng.uniform(-k, k, (a, b)).astype(np.float32),
                    rng.uniform(-k, k, b).astype(np.float32)))
    return out


class JaxJit:
    """`jax.jit` of the whole training step; `jax.jit` forward for inference."""

    name = "jax.jit"

    def __init__(self, sizes, act="relu", lr=LR, momentum=MOMENTUM, seed=0) -> None:
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        relu = act == "relu"

        def forward(params, x):
            for i, (w, b) in enumerate(params):
                x = x @ w + b
                if i < len(params) - 1:
                    x = jax.nn.relu(x) if relu else jnp.tanh(x)
            return x

        def loss(params, x, y):
            logp = jax.nn.log_softmax(forward(params, x))
            return -jnp.take_along_axis(logp, y[:, None], axis=1).mean()

        def step(params, vel, x, y):
            grads = jax.grad(loss)(params, x, y)
            vel = jax.tree_util.tree_map(lambda v, g: momentum * v + g, vel, grads)
            params = jax.tree_util.tree_map(lambda p, v: p - lr * v, params, vel)
            return params, vel

        self._step = jax.jit(step, donate_argnums=(0, 1))
        self._forward = jax.jit(forward)
        self.params = [tuple(jnp.asarray(a) for a in wb) for wb in _init(sizes, seed)]
        self.vel = jax.tree_util.tree_map(jnp.zeros_like, self.params)
        self.rng = np.random.default_rng(seed)
        self.fixed: dict = {}

    def set_data(self, x, y, x_infer=None) -> None:
        self.x, self.y, self.x_infer = x, y.astype(np.int32), x_infer
        self.fixed = {}

    def step(self, xb, yb) -> None:
        self.params, self.vel = self._step(self.params, self.vel, xb, yb)

    def _sync(self) -> None:
        self.jax.block_until_ready(self.params)

    def epoch(self, batch_size: int) -> None:
        n = len(self.x)
        perm = self.rng.permutation(n)
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            self.step(self.x[idx], self.y[idx])
        self._sync()

    def steps(self, n: int, batch_size: int) -> None:
        batch = self.fixed.get(batch_size)
        if batch is None:  # on the device once; also compile the epoch's last, short batch
            rest = len(self.x) % batch_size
            if rest:
                self.step(self.x[:rest], self.y[:rest])
            batch = self.fixed[batch_size] = (self.jnp.asarray(self.x[:batch_size]),
                                              self.jnp.asarray(self.y[:batch_size]))
        for _ in range(n):
            self.step(*batch)
        self._sync()

    def infer(self, batch_size: int):
        x = self.x_infer
        return np.concatenate([np.asarray(self._forward(self.params, x[i:i + batch_size]))
                               for i in range(0, len(x), batch_size)])

    def infer1(self, row):
        return np.asarray(self._forward(self.params, row))


def _keras():
    """Keras 3 on JAX (the environment variable set before its first import), or None."""
    import sys

    if "keras" in sys.modules:
        return sys.modules["keras"] if sys.modules["keras"].config.backend() == "jax" else None
    os.environ["KERAS_BACKEND"] = "jax"  # read once, at Keras' first import
    import keras

    return keras if keras.config.backend() == "jax" else None


class KerasJax:
    """Keras 3 on the JAX backend: compile/fit, train_on_batch, predict_on_batch."""

    name = "keras (jax)"

    def __init__(self, sizes, act="relu", lr=LR, momentum=MOMENTUM, seed=0) -> None:
        keras = _keras()
        if keras is None:
            raise RuntimeError("Keras is imported with another backend than JAX")
        keras.utils.set_random_seed(seed)
        layers = [keras.Input((sizes[0],))]
        for i, b in enumerate(sizes[1:]):
            last = i == len(sizes) - 2
            layers.append(keras.layers.Dense(b, activation=None if last else act))
        self.model = keras.Sequential(layers)
        for layer, (w, bias) in zip(self.model.layers, _init(sizes, seed)):
            layer.set_weights([w, bias])
        self.model.compile(optimizer=keras.optimizers.SGD(lr, momentum=momentum),
                           loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def set_data(self, x, y, x_infer=None) -> None:
        self.x, self.y, self.x_infer = x, y, x_infer

    def epoch(self, batch_size: int) -> None:
        self.model.fit(self.x, self.y, batch_size=batch_size, epochs=1, verbose=0,
                       shuffle=True)

    def steps(self, n: int, batch_size: int) -> None:
        rest = len(self.x) % batch_size
        if rest and not getattr(self, "_rest_done", False):  # compile fit's last batch too
            self.model.train_on_batch(self.x[:rest], self.y[:rest])
            self._rest_done = True
        xb, yb = self.x[:batch_size], self.y[:batch_size]
        for _ in range(n):
            self.model.train_on_batch(xb, yb)

    def infer(self, batch_size: int):
        x = self.x_infer
        return np.concatenate([np.asarray(self.model.predict_on_batch(x[i:i + batch_size]))
                               for i in range(0, len(x), batch_size)])

    def infer1(self, row):
        return np.asarray(self.model.predict_on_batch(row))


def available() -> dict[str, str | None]:
    """Each peer's name -> None when it can run here, else why not."""
    out: dict[str, str | None] = {}
    try:
        import jax  # noqa: F401

        out[JaxJit.name] = None
    except ImportError:
        out[JaxJit.name] = "jax is not installed (pip install jax)"
    try:
        out[KerasJax.name] = None if _keras() is not None else \
            "Keras was imported with another backend than JAX"
    except ImportError:
        out[KerasJax.name] = "keras or jax is not installed (pip install keras jax)"
    if out[JaxJit.name] is not None and out[KerasJax.name] is None:
        out[KerasJax.name] = out[JaxJit.name]
    return out


PEERS = {c.name: c for c in (JaxJit, KerasJax)}
