"""gradkit.sklearn: scikit-learn's own estimator checks, Pipeline, cross_val_score and
GridSearchCV, labels of any kind, module factories and hyper-parameters."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn

pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install scikit-learn)")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_regression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from gradkit.sklearn import NeuralNetClassifier, NeuralNetRegressor, mlp  # noqa: E402

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
NAMES = np.array(["setosa", "versicolor", "virginica"])[Y_IRIS]

# Checks this estimator is expected to fail, each with its reason. None fail today (the
# pandas and array-API checks skip themselves when those packages are absent).
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


@parametrize_with_checks([NeuralNetClassifier(random_state=0), NeuralNetRegressor(random_state=0)],
                         expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_pipeline_and_cross_val_score_with_string_labels():
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(epochs=30, random_state=0))
    scores = cross_val_score(pipe, X_IRIS, NAMES, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.85
    pipe.fit(X_IRIS, NAMES)
    clf = pipe[-1]
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    pred = pipe.predict(X_IRIS)
    assert pred.dtype == NAMES.dtype and set(pred) <= set(NAMES)
    assert pipe.score(X_IRIS, NAMES) > 0.9
    proba = pipe.predict_proba(X_IRIS)
    assert proba.shape == (150, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)


def test_grid_search_over_module_and_optimizer_parameters():
    est = NeuralNetClassifier(module=mlp, epochs=15, random_state=0)
    grid = GridSearchCV(make_pipeline(StandardScaler(), est), cv=3, param_grid={
        "neuralnetclassifier__module__hidden": [(4,), (32,)],
        "neuralnetclassifier__lr": [0.001, 0.03],
    })
    grid.fit(X_IRIS, Y_IRIS)
    assert grid.best_params_["neuralnetclassifier__lr"] == 0.03
    assert grid.best_score_ > 0.85
    best = grid.best_estimator_[-1]
    assert best.module__hidden == grid.best_params_["neuralnetclassifier__module__hidden"]
    assert best.module_[0].out_features == best.module__hidden[0]


def test_regressor_numbers_and_shapes():
    X, y = make_regression(n_samples=300, n_features=6, noise=0.1, random_state=0)
    y = y / y.std()
    reg = NeuralNetRegressor(epochs=40, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (300,) and reg.score(X, y) > 0.98
    Y2 = np.stack([y, -2 * y], axis=1)
    reg2 = NeuralNetRegressor(epochs=40, random_state=0).fit(X, Y2)
    assert reg2.predict(X).shape == (300, 2) and reg2.module_[-1].out_features == 2
    assert reg2.score(X, Y2) > 0.98
    assert reg.history_[-1] < reg.history_[0] / 10


def test_linear_module_class_gets_its_sizes_from_the_data():
    clf = NeuralNetClassifier(nn.Linear, epochs=30, lr=0.05, random_state=0)
    clf.fit(StandardScaler().fit_transform(X_IRIS), Y_IRIS)
    assert (clf.module_.in_features, clf.module_.out_features) == (4, 3)
    assert clf.score(StandardScaler().fit_transform(X_IRIS), Y_IRIS) > 0.85
    clf = NeuralNetClassifier(nn.Linear, module__in_features=4, module__out_features=5,
                              epochs=1).fit(X_IRIS, Y_IRIS)
    assert clf.module_.out_features == 5  # given explicitly, not filled in


def test_module_instance_is_copied_and_optimizer_options_pass_through(capsys):
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    before = net.state_dict()
    clf = NeuralNetClassifier(net, optimizer="sgd", optimizer__momentum=0.9, lr=0.05,
                              epochs=3, verbose=1, random_state=0).fit(X_IRIS, Y_IRIS)
    assert clf.module_ is not net
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    out = capsys.readouterr().out
    assert "epoch 1/3: loss" in out and "epoch 3/3" in out


def test_reproducible_and_leaves_the_global_random_state():
    gk.manual_seed(7)
    state = gk.random.get_rng_state()
    a = NeuralNetClassifier(random_state=3, epochs=3).fit(X_IRIS, Y_IRIS).predict_proba(X_IRIS)
    assert gk.random.get_rng_state() == state
    b = NeuralNetClassifier(random_state=3, epochs=3).fit(X_IRIS, Y_IRIS).predict_proba(X_IRIS)
    np.testing.assert_array_equal(a, b)
    c = NeuralNetClassifier(random_state=4, epochs=3).fit(X_IRIS, Y_IRIS).predict_proba(X_IRIS)
    assert not np.array_equal(a, c)


def test_params_clone_and_set_params():
    est = NeuralNetClassifier(mlp, module__hidden=(16, 8), optimizer__weight_decay=0.01)
    params = est.get_params()
    assert params["module__hidden"] == (16, 8) and params["optimizer__weight_decay"] == 0.01
    copy = clone(est)
    assert copy.get_params() == params
    copy.set_params(module__hidden=(5,), module__activation="tanh", epochs=2)
    assert copy.module__activation == "tanh" and copy.epochs == 2
    copy.fit(X_IRIS, Y_IRIS)
    assert isinstance(copy.module_[1], nn.Tanh) and copy.module_[0].out_features == 5
    with pytest.raises(ValueError, match="Invalid parameter"):
        copy.set_params(colour="red")


@pytest.mark.parametrize("kwargs, error, message", [
    ({"epochs": 0}, ValueError, "epochs must be a positive int"),
    ({"batch_size": 2.5}, ValueError, "batch_size must be a positive int"),
    ({"optimizer": "adamax"}, ValueError, "unknown optimizer 'adamax'"),
    ({"loss": "hinge"}, ValueError, "unknown loss 'hinge'"),
    ({"colour": 1}, TypeError, r"unexpected argument\(s\) \['colour'\]"),
    ({"module": lambda in_features, out_features: "not a module"}, TypeError,
     "module must return an nn.Module, got str"),
])
def test_bad_hyper_parameters_are_reported_at_fit(kwargs, error, message):
    est = NeuralNetClassifier(**kwargs)  # never raises here (scikit-learn's convention)
    with pytest.raises(error, match=message):
        est.fit(X_IRIS, Y_IRIS)
