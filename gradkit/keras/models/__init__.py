"""`keras.models`: `Sequential`, `Model` (functional and subclassed), `load_model`,
`model_from_json`, `clone_model`."""

from typing import Any

from .._missing import missing
from ..saving import clone_model, load_model, model_from_json
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "model_from_json", "clone_model"]


def __getattr__(name: str) -> Any:
    raise missing("models", name, __all__)
