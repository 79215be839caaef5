"""The `Trainer` that `gradkit.train` installs into `nn.training` (see that module)."""

from __future__ import annotations

from typing import Any

from ..io import serialize
from . import fit as loop
from .config import compile_model, config_of
from .steps import default_step


class ModuleTrainer:
    """`Module.compile/fit/evaluate/predict/train_step/test_step/save_weights/load_weights`."""

    def compile(self, model: Any, optimizer: Any, loss: Any, metrics: Any,
                **options: Any) -> None:
        compile_model(model, optimizer, loss, metrics, **options)

    def fit(self, model: Any, x: Any, y: Any, **options: Any) -> Any:
        return loop.fit(model, x, y, **options)

    def evaluate(self, model: Any, x: Any, y: Any, **options: Any) -> dict:
        return loop.evaluate(model, x, y, **options)

    def predict(self, model: Any, x: Any, **options: Any) -> Any:
        return loop.predict(model, x, **options)

    def step(self, model: Any, batch: Any, where: str) -> Any:
        return default_step(model, config_of(model, where), batch, where)

    def save_weights(self, model: Any, path: Any) -> str:
        return serialize.save_weights(model, path)

    def load_weights(self, model: Any, path: Any, strict: bool) -> Any:
        return serialize.load_weights(model, path, strict=strict)
