"""Image layers: Conv1d, Conv2d, ConvTranspose2d, BatchNorm2d, Dropout2d.

PyTorch's names, defaults, initialisation and parameter names: weight (out, in/groups,
*kernel) ((in, out/groups, *kernel) when transposed), bias (out,), initialised
kaiming_uniform_(a=sqrt(5)) and U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BatchNorm2d's weight,
bias, running_mean, running_var and num_batches_tracked. So a PyTorch state dict loads.
Inputs are NCHW ((N, C, L) for Conv1d; unbatched inputs as in PyTorch); a wrong shape is
refused naming the layer, the shape and the one expected.
"""

from __future__ import annotations

import numpy as np

from ..errors import DeviceError, ShapeError
from ..ops.conv import conv1d, conv2d, conv_transpose2d
from ..ops.pool import PADDING_MODES, ntuple
from ..ops.shape import reshape
from ..tensor import Tensor
from .functional_conv import dropout2d
from .layers import (
    _DATA_OPS,
    BatchNorm1d,
    _check_finite_input,
    _default_init_,
    _layer_error,
    _param,
)
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d", "BatchNorm2d", "Dropout2d"]


def _shape(x) -> tuple:
    return tuple(getattr(x, "shape", np.shape(x)))


class _ConvNd(Module):
    """The parameters, checks and repr shared by the convolution layers."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device="cpu", dtype=None, output_padding=0) -> None:
        super().__init__()
        name, nd = type(self).__name__, self._nd
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in PADDING_MODES or (self._transposed and padding_mode != "zeros"):
            allowed = ("zeros",) if self._transposed else PADDING_MODES
            raise ValueError(f"{name}: padding_mode must be one of {allowed}, "
                             f"got {padding_mode!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = ntuple(stride, nd, "stride", name)
        self.dilation = ntuple(dilation, nd, "dilation", name)
        self.padding = _padding(padding, self.stride, nd, name)
        self.output_padding = ntuple(output_padding, nd, "output_padding", name, minimum=0)
        self.groups, self.padding_mode = int(groups), padding_mode
        pair = ((self.in_channels, self.out_channels // groups) if self._transposed
                else (self.out_channels, self.in_channels // groups))
        self.weight = _param(0.0, pair + self.kernel_size, device, dtype)
        if bias:
            self.bias = _param(0.0, (self.out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """kaiming_uniform_(a=sqrt(5)) weight, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias."""
        _default_init_(self.weight, self.bias)

    def forward(self, x):
        return self._forward_fused(x, None)

    def _forward_fused(self, x, activation: str | None):
        """`forward`, then `activation` ("relu" or "tanh") inside the same node (the numbers of
        the layer followed by ReLU/Tanh), for containers that fuse such pairs."""
        shape, nd = _shape(x), self._nd
        if len(shape) not in (nd + 1, nd + 2) or shape[-nd - 1] != self.in_channels:
            spatial = "L" if nd == 1 else "H, W"
            raise ShapeError(f"{self!r} got input of shape {shape}; expected "
                             f"(N, {self.in_channels}, {spatial})")
        try:
            out = self._conv(x, activation)
        except ShapeError as exc:
            raise _layer_error(self, x, str(exc)) from None
        except DeviceError as exc:
            raise DeviceError(f"{self!r}: {exc}") from None
        if not isinstance(x, Tensor) or x._op in _DATA_OPS:  # data, not a layer's output
            _check_finite_input(self, x)
        return out

    def _conv(self, x, activation):
        raise NotImplementedError

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


def _padding(padding, stride: tuple, nd: int, name: str):
    if not isinstance(padding, str):
        return ntuple(padding, nd, "padding", name, minimum=0)
    if padding not in ("same", "valid"):
        raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', "
                         f"got {padding!r}")
    if padding == "same" and any(s != 1 for s in stride):
        raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
    return padding


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) input, as torch.nn.Conv2d."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device="cpu", dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def _conv(self, x, activation):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups, self.padding_mode, activation)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) input, as torch.nn.Conv1d."""

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device="cpu", dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def _conv(self, x, activation):
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0],
                      self.groups, self.padding_mode, activation)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the gradient of Conv2d w.r.t. its input; upsamples), as
    torch.nn.ConvTranspose2d: weight (in, out/groups, kh, kw)."""

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device="cpu", dtype=None) -> None:
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a tuple, "
                             f"got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype, output_padding)

    def _conv(self, x, activation):
        out = conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                               self.output_padding, self.groups, self.dilation)
        return out if activation is None else getattr(out, activation)()


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of (N, C, H, W) input over N, H and W, exactly as
    torch.nn.BatchNorm2d (running stats with the unbiased variance; eval uses them)."""

    def forward(self, x):
        shape = _shape(x)
        if len(shape) != 4 or shape[1] != self.num_features:
            raise _layer_error(self, x, f"expected (N, {self.num_features}, H, W)")
        n, c, h, w = shape
        if self.training and n * h * w <= 1:
            raise _layer_error(self, x, "expected more than 1 value per channel when "
                                        "training (use a batch of 2+)")
        return reshape(super().forward(reshape(x, (n, c, h * w))), shape)


class Dropout2d(Module):
    """Zero whole channels (feature maps) with probability p and scale the rest by 1/(1-p), in
    training only, as torch.nn.Dropout2d (gradkit's seeded generator)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace  # in place or not, the numbers are the same

    def forward(self, x):
        if len(_shape(x)) < 3:
            raise _layer_error(self, x, "expected (N, C, H, W) or (N, C, L)")
        return dropout2d(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
