"""Image layers (NCHW, as PyTorch): convolutions, pooling, BatchNorm2d, Dropout2d, Upsample,
gradkit's layers under dialect classes with PyTorch's signatures and reprs."""

from __future__ import annotations

from typing import Any

from ... import nn as _gknn
from ._args import device_of, dtype_of
from .layers import BatchNorm1d
from .module import COUNTERPARTS, Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d",
           "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "BatchNorm2d", "Dropout2d",
           "Upsample"]


class Conv1d(_gknn.Conv1d, Module):
    """1-D convolution over (N, C, L) input; weight (out, in/groups, k)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device_of(device), dtype_of(dtype))


class Conv2d(_gknn.Conv2d, Module):
    """2-D convolution over (N, C, H, W) input; weight (out, in/groups, kh, kw)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device_of(device), dtype_of(dtype))


class ConvTranspose2d(_gknn.ConvTranspose2d, Module):
    """Transposed 2-D convolution (upsampling); weight (in, out/groups, kh, kw)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         output_padding, groups, bias, dilation, padding_mode,
                         device_of(device), dtype_of(dtype))


class MaxPool1d(_gknn.MaxPool1d, Module):
    """Max over length-k windows of (N, C, L) input (stride defaults to the kernel)."""


class MaxPool2d(_gknn.MaxPool2d, Module):
    """Max over (kh, kw) windows of (N, C, H, W) input (stride defaults to the kernel)."""


class AvgPool1d(_gknn.AvgPool1d, Module):
    """Mean over length-k windows of (N, C, L) input."""


class AvgPool2d(_gknn.AvgPool2d, Module):
    """Mean over (kh, kw) windows of (N, C, H, W) input."""


class AdaptiveAvgPool1d(_gknn.AdaptiveAvgPool1d, Module):
    """Average pooling of (N, C, L) input to length `output_size`."""


class AdaptiveAvgPool2d(_gknn.AdaptiveAvgPool2d, Module):
    """Average pooling of (N, C, H, W) input to `output_size`."""


class BatchNorm2d(_gknn.BatchNorm2d, BatchNorm1d):
    """Batch normalisation of (N, C, H, W) input over N, H and W."""


class Dropout2d(_gknn.Dropout2d, Module):
    """Zero whole channels with probability p, scale the rest by 1/(1-p), in training."""


class Upsample(_gknn.Upsample, Module):
    """Nearest-neighbour resizing to `size` or by `scale_factor` (mode "nearest" only)."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__(scale_factor, mode, size, align_corners)


COUNTERPARTS.update({
    _gknn.Conv1d: Conv1d, _gknn.Conv2d: Conv2d, _gknn.ConvTranspose2d: ConvTranspose2d,
    _gknn.MaxPool1d: MaxPool1d, _gknn.MaxPool2d: MaxPool2d, _gknn.AvgPool1d: AvgPool1d,
    _gknn.AvgPool2d: AvgPool2d, _gknn.AdaptiveAvgPool1d: AdaptiveAvgPool1d,
    _gknn.AdaptiveAvgPool2d: AdaptiveAvgPool2d, _gknn.BatchNorm2d: BatchNorm2d,
    _gknn.Dropout2d: Dropout2d, _gknn.Upsample: Upsample,
})
