"""Optimizers (PyTorch's update rules, in place on NumPy/CuPy arrays) and lr schedulers."""

from . import lr_scheduler, registry
from .optimizer import Optimizer
from .optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler", "registry"]
