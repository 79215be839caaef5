"""CallbackList: hook order, batch hooks only where defined, the default callbacks."""

import pytest

from gradkit import nn
from gradkit.callbacks import Callback, History, LambdaCallback, OverfitDetector, ProgressBar
from gradkit.callbacks.base import CallbackList
from gradkit.train.fit import _arrange


class EpochOnly(Callback):
    def on_epoch_end(self, epoch, logs=None):
        pass


class BatchEnd(Callback):
    def on_batch_end(self, batch, logs=None):
        pass


def test_batch_hooks_only_for_callbacks_that_define_them():
    quiet, loud, lam = EpochOnly(), BatchEnd(), LambdaCallback(on_batch_begin=print)
    cbs = CallbackList([quiet, loud, lam], model=None, params={"epochs": 1})
    assert cbs.batch_begin == [lam] and cbs.batch_end == [loud]
    loud.batch_hooks = False
    cbs.refresh_batch_hooks()
    assert cbs.batch_end == []
    assert all(cb.params == {"epochs": 1} for cb in cbs.callbacks)
    with pytest.raises(TypeError, match="wrap functions in LambdaCallback"):
        CallbackList([print], model=None, params={})


def test_default_callbacks_and_their_order():
    history, user = History(), EpochOnly()
    arranged = _arrange([user], history, verbose=1)
    assert [type(cb) for cb in arranged] == [EpochOnly, History, ProgressBar, OverfitDetector]
    assert arranged[1] is history
    silent = _arrange(None, history, verbose=0)
    assert [type(cb) for cb in silent] == [History, OverfitDetector]
    mine = OverfitDetector(patience=5)
    bar = ProgressBar(verbose=2)
    arranged = _arrange([mine, bar, user], history, verbose=1)
    assert arranged == [user, history, bar, mine]


def test_a_callback_sees_the_model_and_params(blobs):
    x, y = blobs
    seen = {}

    class Spy(Callback):
        def on_train_begin(self, logs=None):
            seen["model"], seen["params"] = self.model, dict(self.params)

    model = nn.Sequential(nn.Linear(4, 3))
    model.compile("sgd", "cross_entropy")
    model.fit(x, y, epochs=2, batch_size=20, verbose=0, callbacks=Spy())  # one, not a list
    assert seen["model"] is model
    assert seen["params"] == {"epochs": 2, "steps": 3, "samples": 60, "batch_size": 20,
                              "verbose": 0, "initial_epoch": 0, "do_validation": False}
