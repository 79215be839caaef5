"""scikit-learn estimators around gradkit modules: `NeuralNetClassifier`, `NeuralNetRegressor`.

    from gradkit.sklearn import NeuralNetClassifier
    clf = NeuralNetClassifier(module=gradkit.sklearn.mlp, module__hidden=(32,), epochs=20)
    clf.fit(X, y).predict(X)          # also in Pipeline, cross_val_score, GridSearchCV

`module` is a factory (a Module class or a function returning a fresh `nn.Module`; a Module
instance is deep-copied at each fit). Its `module__name=value` arguments are passed to it, and
when it takes `in_features` / `out_features` and they are not given, they are filled in from
the data (features; classes or targets). Optimizer options go as `optimizer__name=value`.
Training is a plain minibatch loop; `random_state` makes it reproducible (gradkit's global
random state is left untouched by `fit`). scikit-learn is an optional extra.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted
except ImportError:  # pragma: no cover - depends on the environment
    raise ImportError("gradkit.sklearn needs scikit-learn: pip install scikit-learn "
                      "(or pip install 'gradkit[sklearn]')") from None

from . import nn, optim
from .autograd import no_grad
from .backend import random as gkrandom
from .data import DataLoader, TensorDataset
from .nn import registry
from .optim import registry as optimizers
from .tensor import Tensor

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor", "mlp"]

_PREFIXES = ("module__", "optimizer__")
_PREDICT_BATCH = 4096


def mlp(in_features: int, out_features: int, hidden: int | Sequence[int] = (64,),
        activation: str = "relu", dropout: float = 0.0) -> nn.Sequential:
    """A multi-layer perceptron: Linear layers of sizes `hidden`, each followed by
    `activation` (a name of `gradkit.nn.registry.ACTIVATIONS`; Dropout too when `dropout`
    > 0), then a Linear output layer (`gradkit.nn.registry.mlp`)."""
    hidden = (hidden,) if isinstance(hidden, int) else tuple(hidden)
    return registry.mlp([in_features, *hidden, out_features], activation, dropout)


def _validate_data(est, *args, **kw):
    try:
        from sklearn.utils.validation import validate_data
    except ImportError:  # pragma: no cover - scikit-learn < 1.6
        return est._validate_data(*args, **kw)
    return validate_data(est, *args, **kw)


def _positive_int(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


class _NeuralNet(BaseEstimator):
    """Shared parameters, module building and the training loop."""

    _default_loss = "mse"

    def __init__(self, module=None, *, epochs: int = 20, batch_size: int = 32,
                 lr: float = 0.01, optimizer="adam", loss=None, random_state=None,
                 verbose: int = 0, device: str = "cpu", **kwargs) -> None:
        self.module = module
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.loss = loss
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self._unknown = {}  # arguments without a known prefix: refused by fit, not here
        for key, value in kwargs.items():
            if key.startswith(_PREFIXES):
                setattr(self, key, value)
            else:
                self._unknown[key] = value

    # ---- parameters ----------------------------------------------------------------------
    def _prefixed(self, prefix: str) -> dict:
        n = len(prefix)
        return {k[n:]: v for k, v in vars(self).items() if k.startswith(prefix)}

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters, plus every module__ / optimizer__ argument."""
        params = super().get_params(deep=deep)
        params.update({k: v for k, v in vars(self).items() if k.startswith(_PREFIXES)})
        params.update(getattr(self, "_unknown", {}))
        return params

    def set_params(self, **params):
        """Set parameters (module__ / optimizer__ arguments included); returns self."""
        for key in [k for k in params if k.startswith(_PREFIXES)]:
            setattr(self, key, params.pop(key))
        unknown = getattr(self, "_unknown", {})
        for key in [k for k in params if k in unknown]:
            unknown[key] = params.pop(key)
        return super().set_params(**params) if params else self

    def __setstate__(self, state: dict) -> None:
        # joblib may unpickle arrays as (read-only) np.memmap: make them plain arrays again
        self.__dict__.update(state)
        model = state.get("module_")
        if isinstance(model, nn.Module):
            for t in model._state_tensors().values():
                if isinstance(t._data, np.ndarray) and type(t._data) is not np.ndarray:
                    t._data = np.asarray(t._data)

    # ---- building ------------------------------------------------------------------------
    def _build_module(self, n_in: int, n_out: int) -> nn.Module:
        factory = self.module if self.module is not None else mlp
        if isinstance(factory, nn.Module):
            return copy.deepcopy(factory)
        kwargs = self._prefixed("module__")
        names: Mapping[str, object]
        try:
            names = inspect.signature(factory).parameters
        except (TypeError, ValueError):
            names = {}
        for name, value in (("in_features", n_in), ("out_features", n_out)):
            if name in names and name not in kwargs:
                kwargs[name] = value
        model = factory(**kwargs)
        if not isinstance(model, nn.Module):
            raise TypeError(f"{type(self).__name__}: module must return an nn.Module, "
                            f"got {type(model).__name__}")
        return model

    def _make_optimizer(self, model: nn.Module) -> optim.Optimizer:
        opt = self.optimizer
        if isinstance(opt, str):
            opt = optimizers.get_optimizer(opt, type(self).__name__, " or an optimizer class")
        return opt(list(model.parameters()), lr=self.lr, **self._prefixed("optimizer__"))

    def _make_loss(self):
        loss = self._default_loss if self.loss is None else self.loss
        if isinstance(loss, str):
            return registry.get_loss(loss, type(self).__name__,
                                     ", a loss module or a callable")()
        if isinstance(loss, type):
            return loss()
        if not callable(loss):
            raise TypeError(f"{type(self).__name__}: loss must be a name, a loss module or a "
                            f"callable, got {type(loss).__name__}")
        return loss

    # ---- training and inference --------------------------------------------------------
    def _train(self, X: np.ndarray, y: np.ndarray, n_out: int) -> None:
        name = type(self).__name__
        if self._unknown:
            raise TypeError(f"{name}: unexpected argument(s) {sorted(self._unknown)} (extra "
                            "arguments are module__<name> or optimizer__<name>)")
        epochs = _positive_int(name, "epochs", self.epochs)
        batch_size = _positive_int(name, "batch_size", self.batch_size)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        saved = gkrandom.get_rng_state()
        gkrandom.manual_seed(seed)
        try:
            model = self._build_module(X.shape[1], n_out).to(self.device)
            optimizer, loss_fn = self._make_optimizer(model), self._make_loss()
            loader = DataLoader(TensorDataset(X, y), batch_size=min(batch_size, len(X)),
                                shuffle=True, seed=seed, device=self.device)
            model.train()
            history = []
            for epoch in range(epochs):
                total = 0.0
                for xb, yb in loader:
                    optimizer.zero_grad()
                    loss = loss_fn(self._output(model(xb)), yb)
                    loss.backward()
                    optimizer.step()
                    total += float(loss.item()) * len(xb)
                history.append(total / len(X))
                if self.verbose:
                    print(f"epoch {epoch + 1}/{epochs}: loss {history[-1]:.4f}")
        finally:
            gkrandom.set_rng_state(saved)
        model.eval()
        self.module_, self.history_ = model, history

    def _output(self, out):
        return out

    def _forward(self, X) -> np.ndarray:
        """The fitted module's outputs for X, as a float64 NumPy array (eval, no grad)."""
        check_is_fitted(self, "module_")
        X = _validate_data(self, X, reset=False, dtype=np.float32)
        self.module_.eval()
        outs = []
        with no_grad():
            for i in range(0, len(X), _PREDICT_BATCH):
                xb = Tensor(X[i:i + _PREDICT_BATCH], device=self.device)
                outs.append(self.module_(xb).numpy().astype(np.float64))
        return np.concatenate(outs) if outs else np.empty((0,))


class NeuralNetClassifier(ClassifierMixin, _NeuralNet):
    """A classifier training a gradkit module on logits (cross-entropy by default).

    Labels may be any values scikit-learn accepts (strings too); `classes_` holds them
    sorted, and the module's `out_features` is the number of classes.
    Fitted attributes: `module_`, `classes_`, `history_` (mean loss per epoch),
    `n_features_in_`.
    """

    _default_loss = "cross_entropy"

    def fit(self, X: ArrayLike, y: ArrayLike) -> NeuralNetClassifier:
        """Train a fresh module on (X, y); returns self."""
        data, labels = _validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(labels)
        encoder = LabelEncoder()
        codes = encoder.fit_transform(labels).astype(np.int64)
        self.classes_ = encoder.classes_
        self._train(data, codes, len(self.classes_))
        return self

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities (softmax of the logits), shape (n_samples, n_classes)."""
        logits = self._forward(X)
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most probable class of each sample (labels from `classes_`)."""
        codes = np.argmax(self._forward(X), axis=1)
        return self.classes_[codes]


class NeuralNetRegressor(RegressorMixin, _NeuralNet):
    """A regressor training a gradkit module with mean squared error by default.

    `y` may be (n,) or (n, n_targets); the module's `out_features` is n_targets and
    `predict` returns the shape `y` had. Fitted attributes: `module_`, `history_`,
    `n_features_in_`.
    """

    _default_loss = "mse"

    def fit(self, X: ArrayLike, y: ArrayLike) -> NeuralNetRegressor:
        """Train a fresh module on (X, y); returns self."""
        data, target = _validate_data(self, X, y, dtype=np.float32, y_numeric=True,
                                      multi_output=True)
        target = np.asarray(target, dtype=np.float32)
        self._y_ndim = target.ndim
        y2 = target.reshape(len(target), -1)
        self._train(data, y2, y2.shape[1])
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predictions, shape (n_samples,) or (n_samples, n_targets) like the fitted y."""
        out = self._forward(X)
        return out.ravel() if self._y_ndim == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
