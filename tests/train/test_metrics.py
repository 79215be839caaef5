"""gradkit.metrics against hand-worked cases and scikit-learn."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import metrics as m


def test_hand_worked_classification():
    y = np.array([0, 1, 2, 2])
    scores = np.array([[2.0, 1, 0], [0, 3, 1], [1, 0, 0.5], [0, 0, 5]])  # preds 0, 1, 0, 2
    assert m.accuracy(y, scores) == 0.75
    assert m.accuracy(gk.tensor(y), gk.tensor(scores)) == 0.75
    np.testing.assert_array_equal(m.confusion_matrix(y, scores),
                                  [[1, 0, 0], [0, 1, 0], [1, 0, 1]])
    assert m.precision(y, scores, average=None).tolist() == [0.5, 1.0, 1.0]
    assert m.recall(y, scores, average=None).tolist() == [1.0, 1.0, 0.5]
    assert m.top_k_accuracy(y, scores, k=2) == 1.0


def test_binary_scores_are_thresholded():
    y = np.array([0, 1, 1, 0])
    assert m.accuracy(y, np.array([0.2, 0.7, 0.4, 0.9])) == 0.5
    assert m.accuracy(y, np.array([[0.2], [0.7], [0.6], [0.1]])) == 1.0
    assert m.accuracy(y, np.array([-1.0, 2.0, 1.0, -3.0]), threshold=0.0) == 1.0


def test_regression_metrics():
    t = np.array([1.0, 2.0, 3.0])
    p = np.array([1.0, 2.5, 2.0])
    assert m.mae(t, p) == pytest.approx(0.5)
    assert m.mse(t, p) == pytest.approx((0.25 + 1) / 3)
    assert m.r2(t, p) == pytest.approx(1 - 1.25 / 2.0)
    with pytest.raises(ValueError, match="nothing is broadcast"):
        m.mse(t.reshape(3, 1), p)


def test_stateful_metric_accumulates_over_batches():
    acc = m.Accuracy()
    acc.update(np.array([0, 1]), np.array([[1.0, 0], [1.0, 0]]))
    acc.update(np.array([1, 1, 1]), np.array([[0, 1.0], [0, 1.0], [0, 1.0]]))
    assert acc.result() == pytest.approx(4 / 5)
    acc.reset()
    assert np.isnan(acc.result())


def test_get_and_errors():
    assert isinstance(m.get("accuracy"), m.Accuracy)
    assert isinstance(m.get(m.MeanAbsoluteError()), m.MeanAbsoluteError)
    custom = m.get(lambda yt, yp: 1.0)
    custom.update(np.zeros(3), np.zeros(3))
    assert custom.result() == 1.0
    with pytest.raises(ValueError, match="unknown metric"):
        m.get("accurcy")
    with pytest.raises(ValueError, match="3 predictions for 2 targets"):
        m.accuracy(np.zeros(2), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="average"):
        m.precision([0, 1], [0, 1], average="bogus")


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_matches_scikit_learn(average):
    sk = pytest.importorskip("sklearn.metrics", reason="scikit-learn is not installed")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 300)
    s = rng.standard_normal((300, 4)) + np.eye(4)[y]
    p = s.argmax(1)
    assert m.accuracy(y, s) == pytest.approx(sk.accuracy_score(y, p))
    assert m.precision(y, s, average) == pytest.approx(sk.precision_score(y, p, average=average))
    assert m.recall(y, s, average) == pytest.approx(sk.recall_score(y, p, average=average))
    assert m.f1(y, s, average) == pytest.approx(sk.f1_score(y, p, average=average))
    np.testing.assert_array_equal(m.confusion_matrix(y, s), sk.confusion_matrix(y, p))
    assert m.top_k_accuracy(y, s, 2) == pytest.approx(sk.top_k_accuracy_score(y, s, k=2))
    t = rng.standard_normal(100)
    q = t + rng.standard_normal(100) * 0.3
    assert m.r2(t, q) == pytest.approx(sk.r2_score(t, q))
    assert m.mae(t, q) == pytest.approx(sk.mean_absolute_error(t, q))
    assert m.mse(t, q) == pytest.approx(sk.mean_squared_error(t, q))
