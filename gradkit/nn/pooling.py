"""Pooling and resampling layers: MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d,
AdaptiveAvgPool1d, AdaptiveAvgPool2d, Upsample; torch.nn's names, defaults and reprs."""

from __future__ import annotations

from ..errors import ShapeError
from ..ops.pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from .functional_conv import upsample_nearest
from .layers import _layer_error
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "Upsample"]


class _Pool(Module):
    """Runs `self._op(x)`, re-raising shape errors with the layer's name."""

    def forward(self, x):
        try:
            return self._op(x)
        except ShapeError as exc:
            raise _layer_error(self, x, str(exc)) from None

    def _op(self, x):
        raise NotImplementedError


class _MaxPoolNd(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        if return_indices:
            raise NotImplementedError(f"{type(self).__name__}: return_indices=True is not "
                                      "supported")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """Max over (kh, kw) windows of (N, C, H, W) input (stride defaults to the kernel)."""

    def _op(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode)


class MaxPool1d(_MaxPoolNd):
    """Max over length-k windows of (N, C, L) input."""

    def _op(self, x):
        return max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode)


class AvgPool2d(_Pool):
    """Mean over (kh, kw) windows of (N, C, H, W) input (zero padding counted unless
    count_include_pad=False), as torch.nn.AvgPool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def _op(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _single(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


class AvgPool1d(_Pool):
    """Mean over length-k windows of (N, C, L) input, as torch.nn.AvgPool1d."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding, self.ceil_mode = _single(padding), ceil_mode
        self.count_include_pad = count_include_pad

    def _op(self, x):
        return avg_pool1d(x, self.kernel_size[0], self.stride[0], self.padding[0],
                          self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(_Pool):
    """Average pooling to a fixed `output_size` (int or (h, w); None keeps that size)."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def _op(self, x):
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, L) input to length `output_size`."""

    def _op(self, x):
        return adaptive_avg_pool1d(x, self.output_size)


class Upsample(_Pool):
    """Nearest-neighbour upsampling by `scale_factor` (or to `size`), as torch.nn.Upsample
    with mode="nearest". Unlike PyTorch, the first positional argument is `scale_factor`
    (gradkit's API); pass `size=` by name."""

    def __init__(self, scale_factor=None, mode: str = "nearest", size=None,
                 align_corners=None) -> None:
        super().__init__()
        if mode != "nearest":
            raise NotImplementedError(f"Upsample: gradkit supports mode='nearest' only, got "
                                      f"{mode!r}")
        if (scale_factor is None) == (size is None):
            raise ValueError("Upsample: give exactly one of scale_factor and size")
        if isinstance(scale_factor, (tuple, list)):
            scale_factor = tuple(float(f) for f in scale_factor)
        elif scale_factor is not None:
            scale_factor = float(scale_factor)
        self.scale_factor, self.size, self.mode = scale_factor, size, mode
        self.align_corners = align_corners

    def _op(self, x):
        return upsample_nearest(x, scale_factor=self.scale_factor, size=self.size)

    def extra_repr(self) -> str:
        what = (f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                else f"size={self.size!r}")
        return f"{what}, mode={self.mode!r}"
