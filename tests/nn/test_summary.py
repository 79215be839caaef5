"""Module.summary(): rows, output shapes and parameter totals (gradkit/nn/summary.py)."""

import numpy as np

from gradkit import nn

from .helpers import Net, mlp


def test_summary_of_an_mlp_infers_the_input_shape():
    lines = []
    text = mlp().summary(print_fn=lines.append)
    assert lines == [text]
    for row in ["0 (Linear)", "(None, 512)", "401,920", "1 (ReLU)", "2 (Linear)", "(None, 10)",
                "5,130"]:
        assert row in text
    assert "Total params: 407,050" in text
    assert "Trainable params: 407,050" in text
    assert "Non-trainable params: 0" in text


def test_summary_with_input_shape_and_frozen_layers():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.BatchNorm1d(32), nn.Linear(32, 10))
    model[1].requires_grad_(False)
    running = model[2].running_mean.numpy().copy()
    text = model.summary((28, 28), print_fn=None)
    assert "0 (Flatten)" in text and "(None, 784)" in text and "(None, 32)" in text
    assert f"Non-trainable params: {784 * 32 + 32:,}" in text
    assert model.training and model[2].training  # mode restored
    np.testing.assert_array_equal(model[2].running_mean.numpy(), running)  # eval: untouched
    assert "forward" not in model[1].__dict__


def test_summary_of_custom_module_and_unknown_shapes():
    text = Net().summary(print_fn=None)
    assert "Model: Net" in text and "body.0.fc (Linear)" in text and "heads.1 (Linear)" in text
    assert "(None, 4)" in text and "(None, 2)" in text and "(None, 1)" in text
    row = text.splitlines()[4]  # the model's own parameter `scale`
    assert row.startswith("Net ") and "(None, 2), (None, 1)" in row and row.endswith(" 1")
    assert f"Total params: {Net().num_parameters():,}" in text
    unknown = nn.Sequential(nn.Tanh(), nn.Linear(3, 2)).summary(print_fn=None)
    assert "output shapes unknown" in unknown and "1 (Linear)" in unknown
    assert "(None, 2)" in nn.Sequential(nn.Tanh(), nn.Linear(3, 2)).summary(3, print_fn=None)
