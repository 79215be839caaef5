"""`Callback` (Keras's hooks) and `CallbackList`, which calls them in a fixed order.

Batch hooks are called only for callbacks that define them (and leave `batch_hooks` True),
so a plain `fit` pays nothing per batch for callbacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: What a hook receives as `logs`: the epoch's (or batch's) values by name, e.g.
#: {"loss": 0.31, "accuracy": 0.9, "val_loss": 0.35, "lr": 0.001}.
Logs = Mapping[str, Any] | None


class Callback:
    """Base class: override any hook. `self.model` is the model being trained and
    `self.params` holds fit's settings (epochs, steps, samples, batch_size, verbose, ...)."""

    batch_hooks = True  # set False (e.g. in on_train_begin) to skip on_batch_* calls
    main_process_only = False  # True: a distributed fit runs it on rank 0 only (prints/writes)

    def __init__(self) -> None:
        self.model: Any = None  # the model being trained (set by fit)
        self.params: dict = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs: Logs = None) -> None: ...
    def on_train_end(self, logs: Logs = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: Logs = None) -> None: ...
    def on_batch_end(self, batch: int, logs: Logs = None) -> None: ...
    def on_test_begin(self, logs: Logs = None) -> None: ...
    def on_test_end(self, logs: Logs = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: Logs = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: Logs = None) -> None: ...
    def on_predict_begin(self, logs: Logs = None) -> None: ...
    def on_predict_end(self, logs: Logs = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: Logs = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: Logs = None) -> None: ...


def _defines(cb: Callback, hook: str) -> bool:
    return getattr(type(cb), hook, None) is not getattr(Callback, hook) or hook in vars(cb)


class CallbackList:
    """Calls each hook on every callback, in order; batch hooks only where defined."""

    def __init__(self, callbacks: list, model: Any, params: dict) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be gradkit.callbacks.Callback objects, got "
                                f"{type(cb).__name__} (wrap functions in LambdaCallback)")
            if not hasattr(cb, "params"):  # a subclass that skipped Callback.__init__
                cb.params = {}
            cb.set_model(model)
            cb.set_params(params)
        self.refresh_batch_hooks()

    def refresh_batch_hooks(self) -> None:
        """Decide which callbacks receive batch calls (after on_train_begin)."""
        def users(hook):
            return [cb for cb in self.callbacks if cb.batch_hooks and _defines(cb, hook)]

        self.batch_begin, self.batch_end = users("on_batch_begin"), users("on_batch_end")
        self.test_batch_end = users("on_test_batch_end")
        self.predict_batch_end = users("on_predict_batch_end")

    def call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_batch_begin(self, batch: int) -> None:
        for cb in self.batch_begin:
            cb.on_batch_begin(batch, {"batch": batch})

    def on_batch_end(self, batch: int, logs: Logs) -> None:
        for cb in self.batch_end:
            cb.on_batch_end(batch, logs)
