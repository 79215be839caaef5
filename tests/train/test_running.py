"""Running: batch-size-weighted epoch means kept on the device; lazy batch logs."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import metrics
from gradkit.train.running import BatchLogs, Running


def test_weighted_means_of_loss_metrics_and_extras():
    r = Running([metrics.Accuracy()], prefix="val_")
    y = gk.tensor(np.array([0, 1, 1]))
    scores = gk.tensor(np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]]))
    r.update(gk.tensor(1.0), 3, y, scores, {"reg": gk.tensor(0.5)})
    r.update(gk.tensor(4.0), 1, gk.tensor(np.array([1])), gk.tensor(np.array([[0.0, 1.0]])),
             {"reg": 1.5})
    logs = r.result()
    assert logs == pytest.approx({"val_loss": 7 / 4, "val_accuracy": 3 / 4, "val_reg": 3 / 4})
    assert isinstance(r.loss_sum, np.floating | np.ndarray)  # still an array, not a float
    r.reset()
    assert r.result() == {}


def test_metrics_are_left_out_when_no_predictions_came():
    r = Running([metrics.Accuracy()])
    r.update(2.0, 4)
    assert r.result() == {"loss": 2.0}


def test_batch_logs_read_lazily():
    r = Running([])
    r.update(gk.tensor(3.0), 2)
    logs = BatchLogs(r, batch=5, size=2)
    assert logs._values is None and logs["size"] == 2 and logs["batch"] == 5
    assert logs._values is None  # batch and size did not read the device
    assert dict(logs) == {"batch": 5, "size": 2, "loss": 3.0} and len(logs) == 3
