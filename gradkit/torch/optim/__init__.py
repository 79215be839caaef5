"""`torch.optim`: SGD, Adam, AdamW, RMSprop, Adagrad (gradkit's update rules, PyTorch's
signatures and defaults), the `Optimizer` base for hand-written ones, and `lr_scheduler`."""

from __future__ import annotations

from typing import Any

from . import lr_scheduler
from .optimizer import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]

_HINTS = {
    "LBFGS": "LBFGS is not in gradkit.torch: use Adam, or scipy.optimize.minimize on "
             "gk.value_and_grad",
    "Adadelta": "use torch.optim.Adam or RMSprop (Adadelta is not in gradkit)",
    "Adamax": "use torch.optim.Adam (Adamax is not in gradkit)",
    "NAdam": "use torch.optim.Adam, or SGD(nesterov=True, momentum=0.9)",
    "RAdam": "use torch.optim.Adam or AdamW (RAdam is not in gradkit)",
    "SparseAdam": "gradkit's gradients are dense: use torch.optim.Adam",
    "swa_utils": "not in gradkit.torch: average the state dicts yourself",
}


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(f"module 'gradkit.torch.optim' has no attribute {name!r}")
    hint = _HINTS.get(name, "gradkit.torch.optim has SGD, Adam, AdamW, RMSprop, Adagrad and "
                            "lr_scheduler; subclass torch.optim.Optimizer for another rule")
    raise AttributeError(f"module 'gradkit.torch.optim' (PyTorch's API on gradkit) has no "
                         f"attribute {name!r}: {hint}")
