"""Pictures of a convolutional network (gradkit.viz): its filters and its feature maps.

    gk.viz.plot_filters(model, "filters.png")              # the first Conv2d's filters
    gk.viz.plot_feature_maps(model, x_test[0], "maps.png")  # what each conv block makes of x
    maps = gk.viz.feature_maps(model, x_test[0])            # [(name, (C, H, W) array), ...]

matplotlib is imported only when a function draws (pip install 'gradkit[viz]').
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import no_grad
from ..nn import Conv2d, Module, Sequential, registry
from ..tensor import Tensor
from .curves import PathArg, _figure, _finish
from .model import _host

if TYPE_CHECKING:  # matplotlib is an optional extra
    from matplotlib.figure import Figure

__all__ = ["feature_maps", "plot_feature_maps", "plot_filters"]

_ACTIVATIONS = tuple(registry.ACTIVATIONS.values())


def first_conv(model: Module) -> Conv2d:
    """`model` itself when it is a Conv2d, else its first Conv2d (a ValueError if none)."""
    for m in model.modules():
        if isinstance(m, Conv2d):
            return m
    raise ValueError(f"{type(model).__name__} has no Conv2d layer")


def _grid(n: int) -> tuple[int, int]:
    cols = max(1, math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


def plot_filters(model: Module, path: PathArg | None = None, max_filters: int = 64,
                 title: str | None = None) -> Figure:
    """The filters (kernels) of the first Conv2d of `model` (or of the Conv2d given), one
    small image each: a blue-white-red map of the weights for one input channel (shared
    scale, white = 0), RGB for three input channels, else the mean over the input channels.
    Shows the first `max_filters`; saves a PNG with `path`; returns the Figure."""
    conv = first_conv(model)
    w = _host(conv.weight._data).astype(np.float64)[:max_filters]  # (out, in/groups, kh, kw)
    n, c = w.shape[:2]
    rows, cols = _grid(n)
    fig, (ax0,) = _figure(path, 1, size=(0.9 * cols + 2.0, 0.9 * rows + 0.9))
    ax0.axis("off")
    what = {1: "", 3: ", RGB"}.get(c, f", mean over {c} input channels")
    shown = f"first {n} of {conv.out_channels}" if n < conv.out_channels else str(n)
    kh, kw = conv.kernel_size
    fig.suptitle(title or f"{shown} filters {kh}x{kw} of {type(conv).__name__}"
                          f"({conv.in_channels}, {conv.out_channels}){what}", fontsize=9)
    grid = fig.add_gridspec(rows, cols, left=0.04, right=0.76, bottom=0.04, top=0.86)
    lim = float(np.abs(w).max()) or 1.0
    image = None
    for k in range(n):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        if c == 3:
            f = w[k].transpose(1, 2, 0)
            span = float(f.max() - f.min()) or 1.0
            ax.imshow((f - f.min()) / span)
        else:
            image = ax.imshow(w[k].mean(axis=0), cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_xticks([])
        ax.set_yticks([])
    if image is not None:
        fig.colorbar(image, cax=fig.add_axes((0.8, 0.1, 0.035, 0.7)), label="weight")
    if path is not None:
        fig.savefig(path, dpi=100, format="png")
    return fig


def _sample(x: Any) -> np.ndarray:
    """One sample as (1, C, H, W): from (H, W), (C, H, W) or (1, C, H, W)."""
    a = _host(x)
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[0] != 1:
        raise ValueError(f"feature maps: x must be one image (H, W), (C, H, W) or "
                         f"(1, C, H, W), got shape {a.shape}")
    return a if a.dtype.kind == "f" else a.astype(np.float32)


def _layers(model: Module, prefix: str = "") -> list[tuple[str, Module]]:
    """(dotted name, layer) of a Sequential, nested Sequentials flattened."""
    if not isinstance(model, Sequential):
        raise TypeError(f"feature maps: the model must be a Sequential (its layers are run one "
                        f"by one), got {type(model).__name__}")
    out: list[tuple[str, Module]] = []
    for k, m in model._modules.items():
        if m is None:
            continue
        name = f"{prefix}{k}"
        out += _layers(m, name + ".") if isinstance(m, Sequential) else [(name, m)]
    return out


def _default_picks(layers: list[tuple[str, Module]]) -> set[str]:
    """After each Conv2d: the activation right behind it if there is one, else the conv."""
    picks = set()
    for i, (name, m) in enumerate(layers):
        if isinstance(m, Conv2d):
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            picks.add(nxt[0] if nxt and isinstance(nxt[1], _ACTIVATIONS) else name)
    return picks


def feature_maps(model: Module, x: Any, layers: Sequence[str] | None = None
                 ) -> list[tuple[str, np.ndarray]]:
    """What the layers of a Sequential `model` make of one image `x` ((H, W), (C, H, W) or
    (1, C, H, W)): [(label, (C, H, W) array), ...] for the output of each conv block (the
    activation after each Conv2d), or of the layers named in `layers` (dotted names as in
    `named_modules`). Runs in eval mode without recording a graph; the mode is restored."""
    chain = _layers(model)
    picks = set(layers) if layers is not None else _default_picks(chain)
    unknown = picks - {n for n, _ in chain}
    if unknown:
        raise ValueError(f"feature maps: no layer named {sorted(unknown)}; the layers are "
                         f"{[n for n, _ in chain]}")
    device = next((p.device for p in model.parameters()), "cpu")
    training = model.training
    model.eval()
    out = []
    try:
        with no_grad():
            t = Tensor(_sample(x), device=device)
            for name, m in chain:
                t = m(t)
                if name in picks and t.ndim == 4:
                    out.append((f"{name}: {type(m).__name__}", _host(t._data)[0]))
    finally:
        model.train(training)
    return out


def plot_feature_maps(model: Module, x: Any, path: PathArg | None = None,
                      layers: Sequence[str] | None = None, max_maps: int = 16,
                      title: str | None = None) -> Figure:
    """One row for the image `x`, then one row per conv block (see `feature_maps`) with its
    first `max_maps` channels, each scaled to its own range (dark = low, bright = high).
    Saves a PNG with `path`; returns the Figure."""
    maps = feature_maps(model, x, layers)
    image = _sample(x)[0]
    cols = max([min(max_maps, m.shape[0]) for _, m in maps] + [min(3, image.shape[0])])
    rows = 1 + len(maps)
    fig, (ax0,) = _figure(path, 1, size=(0.95 * cols + 0.4, 1.15 * rows + 0.5))
    ax0.axis("off")
    fig.suptitle(title or "feature maps of one image", fontsize=10)
    grid = fig.add_gridspec(rows, cols)
    panels = [("input", image)] + maps
    for r, (label, m) in enumerate(panels):
        channels = [m.transpose(1, 2, 0)] if r == 0 and m.shape[0] == 3 else list(m[:cols])
        for k, channel in enumerate(channels):
            ax = fig.add_subplot(grid[r, k])
            ax.imshow(channel, cmap="gray" if r == 0 else "viridis")
            ax.set_xticks([])
            ax.set_yticks([])
            if k == 0:
                ax.set_title(f"{label} ({'x'.join(map(str, m.shape))})", fontsize=7,
                             loc="left")
    return _finish(fig, path)
