"""compile(): optimizer, loss and metric names resolve to objects."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import metrics, nn, optim


def _model():
    return nn.Sequential(nn.Linear(4, 3))


@pytest.mark.parametrize("name, cls, lr", [
    ("sgd", optim.SGD, 0.01), ("adam", optim.Adam, 1e-3), ("adamw", optim.AdamW, 1e-3),
    ("rmsprop", optim.RMSprop, 1e-3), ("adagrad", optim.Adagrad, 1e-3), ("Adam", optim.Adam, 1e-3),
])
def test_optimizer_names(name, cls, lr):
    model = _model()
    model.compile(name, "mse")
    assert type(model.optimizer) is cls and model.optimizer.lr == pytest.approx(lr)
    assert len(model.optimizer.param_groups[0]["params"]) == 2


def test_optimizer_objects_and_factories():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.3)
    model.compile(opt, "mse")
    assert model.optimizer is opt
    model.compile(lambda params: optim.Adam(params, lr=0.02), "mse")
    assert isinstance(model.optimizer, optim.Adam) and model.optimizer.lr == 0.02
    with pytest.raises(ValueError, match="none of this model's parameters"):
        model.compile(optim.SGD(_model().parameters(), lr=0.1), "mse")
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        model.compile("adamax", "mse")


@pytest.mark.parametrize("name, cls", [
    ("cross_entropy", nn.CrossEntropyLoss), ("mse", nn.MSELoss), ("mae", nn.L1Loss),
    ("bce", nn.BCELoss), ("bce_with_logits", nn.BCEWithLogitsLoss), ("huber", nn.HuberLoss),
    ("nll", nn.NLLLoss),
])
def test_loss_names(name, cls):
    model = _model()
    model.compile("sgd", name)
    assert type(model._train_config.loss) is cls


def test_loss_objects_and_functions_train(blobs):
    x, y = blobs
    model = _model()
    model.compile("sgd", nn.CrossEntropyLoss(label_smoothing=0.1))
    model.fit(x, y, verbose=0)

    def my_loss(y_pred, y_true):  # PyTorch's argument order
        return nn.functional.cross_entropy(y_pred, y_true)

    model.compile("sgd", my_loss)
    assert model._train_config.loss_name == "my_loss"
    assert np.isfinite(model.fit(x, y, verbose=0).history["loss"][0])
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        model.compile("sgd", "hinge")


def test_metrics_from_names_objects_and_functions(blobs):
    x, y = blobs
    model = _model()

    def half(y_true, y_pred):
        return 0.5

    acc = metrics.Accuracy()
    model.compile("sgd", "cross_entropy", ["accuracy", acc, "f1", half])
    names = [m.name for m in model._train_config.metrics]
    assert names == ["accuracy", "accuracy_2", "f1", "half"]
    assert acc.name == "accuracy"  # the caller's object is not renamed
    logs = model.evaluate(x, y)
    assert set(logs) == {"loss", "accuracy", "accuracy_2", "f1", "half"}
    assert logs["half"] == 0.5 and logs["accuracy"] == logs["accuracy_2"]
    model.compile("sgd", "cross_entropy", "accuracy")  # a single name is fine too
    with pytest.raises(ValueError, match="unknown metric"):
        model.compile("sgd", "cross_entropy", ["auc_roc"])


def test_no_trainable_parameters():
    model = _model().requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        model.compile("sgd", "mse")


def test_compile_does_not_register_the_loss_as_a_layer():
    model = _model()
    model.compile("sgd", nn.CrossEntropyLoss())
    assert len(model) == 1 and list(model.state_dict()) == ["0.weight", "0.bias"]
    assert model(gk.zeros((2, 4))).shape == (2, 3)
