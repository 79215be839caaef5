"""Overriding train_step / test_step / predict_step keeps the loop, callbacks and progress."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim


class L2Net(nn.Module):
    """Lightning-style: train_step returns the loss (plus a logged extra); the loop steps."""

    def __init__(self, l2=0.0):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.l2 = l2

    def forward(self, x):
        return self.fc(x)

    def train_step(self, batch):
        x, y = batch
        y_pred = self(x)
        penalty = (self.fc.weight ** 2).sum() * self.l2
        loss = nn.functional.cross_entropy(y_pred, y) + penalty
        return {"loss": loss, "y_pred": y_pred, "penalty": penalty}


def test_train_step_override_with_metrics_extras_and_progress(blobs, capsys):
    x, y = blobs
    model = L2Net(l2=0.01)
    model.compile(optim.SGD(model.parameters(), lr=0.1), metrics=["accuracy"])  # no loss
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=2)
    assert set(history.history) == {"loss", "accuracy", "penalty", "lr"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(p > 0 for p in history.history["penalty"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "penalty:" in lines[0] and "accuracy:" in lines[0]


def test_super_train_step_is_the_default_step(blobs):
    x, y = blobs

    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(x)

        def train_step(self, batch):
            out = super().train_step(batch)
            assert set(out) == {"loss", "y_pred", "y_true"}
            return out

    def run(cls):
        gk.manual_seed(0)
        m = cls()
        m.compile("sgd", "cross_entropy", ["accuracy"])
        return m.fit(x, y, epochs=2, batch_size=16, verbose=0).history

    class Default(Plain):
        train_step = nn.Module.train_step

    assert run(Plain) == run(Default)


def test_manual_optimization(blobs):
    x, y = blobs

    class Manual(L2Net):
        automatic_optimization = False

        def train_step(self, batch):
            xb, yb = batch
            self.optimizer.zero_grad()
            loss = nn.functional.cross_entropy(self(xb), yb)
            loss.backward()
            self.optimizer.step()
            return loss.detach()

    model = Manual()
    model.compile(optim.SGD(model.parameters(), lr=0.1))
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_step_return_errors(blobs):
    x, y = blobs

    class Bad(L2Net):
        def train_step(self, batch):
            return self.returned

    model = Bad()
    model.compile("sgd")
    for returned, exc, match in [
        ({"y_pred": 1}, ValueError, "without a 'loss' entry"),
        ("oops", TypeError, "must return the loss"),
        (gk.tensor(1.0), RuntimeError, "without a graph"),
    ]:
        model.returned = returned
        with pytest.raises(exc, match=match):
            model.fit(x, y, verbose=0)


def test_test_and_predict_step_overrides(blobs):
    x, y = blobs

    class Custom(L2Net):
        def test_step(self, batch):
            xb, yb = batch
            return {"loss": nn.functional.cross_entropy(self(xb), yb), "ones": 1.0}

        def predict_step(self, batch):
            return self(batch[0]).softmax(axis=-1)

    model = Custom()
    model.compile("sgd", "cross_entropy")
    assert set(model.evaluate(x, y)) == {"loss", "ones"}
    np.testing.assert_allclose(model.predict(x).sum(axis=1), 1.0, rtol=1e-5)


def test_the_default_step_needs_x_y_batches(blobs):
    x, y = blobs
    model = L2Net()
    model.compile("sgd", "cross_entropy")
    loader = gk.data.DataLoader(gk.data.TensorDataset(x), batch_size=8)
    with pytest.raises(ValueError, match=r"needs \(x, y\) batches.*tuple of length 1"):
        model.evaluate(loader)
