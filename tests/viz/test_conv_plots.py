"""gradkit.viz's pictures of a CNN: the first conv layer's filters and the feature maps."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


def lenet(c_in=1):
    return nn.Sequential(
        nn.Conv2d(c_in, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Sequential(nn.Conv2d(6, 10, 3, padding=1), nn.Tanh()), nn.MaxPool2d(2),
        nn.Conv2d(10, 4, 3, padding=1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 4 * 4, 3))


def digit(c=1, side=16):
    return np.random.default_rng(0).random((c, side, side)).astype(np.float32)


def test_feature_maps_are_the_outputs_after_each_conv_block():
    model = lenet()
    x = digit()
    maps = gk.viz.feature_maps(model, x)
    assert [name for name, _ in maps] == ["1: ReLU", "3.1: Tanh", "5: Conv2d"]
    assert [m.shape for _, m in maps] == [(6, 16, 16), (10, 8, 8), (4, 4, 4)]
    with gk.no_grad():
        t = gk.tensor(x[None])
        want1 = model[1](model[0](t)).numpy()[0]
        want2 = model[3](model[2](model[1](model[0](t)))).numpy()[0]
    np.testing.assert_allclose(maps[0][1], want1, rtol=1e-6)
    np.testing.assert_allclose(maps[1][1], want2, rtol=1e-6)
    assert (maps[0][1] >= 0).all() and np.abs(maps[1][1]).max() <= 1  # ReLU, Tanh


def test_feature_maps_of_chosen_layers_in_any_input_layout():
    model = lenet().train()
    x = digit()
    a = gk.viz.feature_maps(model, x[0], layers=["0", "2"])  # (H, W)
    b = gk.viz.feature_maps(model, x[None], layers=["0", "2"])  # (1, C, H, W)
    assert [n for n, _ in a] == ["0: Conv2d", "2: MaxPool2d"]
    for (_, m), (_, n) in zip(a, b):
        np.testing.assert_array_equal(m, n)
    assert model.training  # run in eval mode, mode restored


def test_feature_maps_refuse_what_they_cannot_show():
    model = lenet()
    with pytest.raises(ValueError, match=r"no layer named \['9.9'\]"):
        gk.viz.feature_maps(model, digit(), layers=["9.9"])
    with pytest.raises(ValueError, match="one image"):
        gk.viz.feature_maps(model, np.zeros((2, 1, 16, 16), np.float32))

    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="must be a Sequential"):
        gk.viz.feature_maps(Custom(), digit())


def test_plot_feature_maps(tmp_path):
    fig = gk.viz.plot_feature_maps(lenet(), digit(), path=tmp_path / "maps.png", max_maps=5,
                                   title="one digit")
    assert (tmp_path / "maps.png").read_bytes()[:8] == PNG
    assert fig._suptitle.get_text() == "one digit"
    assert len(fig.axes) - 1 == 1 + 5 + 5 + 4  # hidden frame; input, then each block's maps
    rgb = gk.viz.plot_feature_maps(lenet(3), digit(3), path=tmp_path / "rgb.png")
    assert len(rgb.axes) - 1 == 1 + 6 + 10 + 4  # the input as one RGB picture


@pytest.mark.parametrize("c_in, panels, words", [(1, 6, "6 filters 5x5 of Conv2d(1, 6)"),
                                                  (3, 6, "RGB"),
                                                  (2, 6, "mean over 2 input channels")])
def test_plot_filters_of_the_first_conv(tmp_path, c_in, panels, words):
    model = lenet(c_in)
    fig = gk.viz.plot_filters(model, path=tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == PNG
    assert words in fig._suptitle.get_text()
    colorbar = 0 if c_in == 3 else 1
    assert len(fig.axes) == 1 + panels + colorbar
    shown = [a for a in fig.axes[1:1 + panels]]
    if c_in == 1:
        np.testing.assert_allclose(shown[2].images[0].get_array(),
                                   model[0].weight.numpy()[2, 0], rtol=1e-6)


def test_plot_filters_of_a_layer_and_limits(tmp_path):
    conv = nn.Conv2d(1, 40, 3)
    fig = gk.viz.plot_filters(conv, max_filters=12)
    assert "first 12 of 40" in fig._suptitle.get_text() and len(fig.axes) == 1 + 12 + 1
    with pytest.raises(ValueError, match="has no Conv2d layer"):
        gk.viz.plot_filters(nn.Sequential(nn.Linear(2, 2)))
