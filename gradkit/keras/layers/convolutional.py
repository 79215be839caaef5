"""Channels-last convolution and pooling, as Keras: `Conv1D`, `Conv2D` (kernel
`(k..., in, filters)`), `MaxPooling1D/2D`, `AveragePooling1D/2D`, `GlobalAveragePooling1D/2D`,
`GlobalMaxPooling1D/2D`. Inputs are (N, L, C) / (N, H, W, C); each layer transposes around
gradkit's NCHW ops. `padding="same"` pads as TensorFlow does (the odd pixel at the end, also
with strides), `"causal"` (Conv1D) on the left."""

from __future__ import annotations

import math
from typing import Any

from ... import ops
from ...ops.conv import conv1d, conv2d
from ...ops.creation import ones_like
from ...ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .. import activations, initializers, regularizers
from ..engine import Layer
from .core import _FUSED

__all__ = ["Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
           "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D"]


def _tuple(value: Any, n: int, name: str) -> tuple:
    out = (value,) * n if isinstance(value, int) else tuple(int(v) for v in value)
    if len(out) != n:
        raise ValueError(f"{name} must be an int or {n} ints, got {value!r}")
    return out


def _same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's "same" padding of one axis: (before, after), the extra one after."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _pads(padding: str, spatial: tuple, k: tuple, s: tuple, d: tuple) -> list:
    if padding == "valid":
        return [(0, 0)] * len(spatial)
    if padding == "causal":
        return [((k[0] - 1) * d[0], 0)]
    return [_same_pads(n, ki, si, di) for n, ki, si, di in zip(spatial, k, s, d)]


def _channels_first(x: Any, nd: int) -> Any:
    return ops.transpose(x, (0, nd + 1, *range(1, nd + 1)))


def _channels_last(x: Any, nd: int) -> Any:
    return ops.transpose(x, (0, *range(2, nd + 2), 1))


def _padded(x: Any, pads: list, value: float = 0.0) -> tuple[Any, Any]:
    """(x padded on its spatial axes (NC... layout) where asymmetric, symmetric padding left)."""
    if all(a == b for a, b in pads):
        return x, tuple(a for a, _ in pads)
    return ops.pad(x, [(0, 0), (0, 0), *pads], value=value), tuple(0 for _ in pads)


class _Conv(Layer):
    _ND = 2
    _fused: str | None

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        nd, cls = self._ND, type(self).__name__
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"{cls}: only data_format='channels_last' (Keras's "
                                      "default) in gradkit's Keras; gradkit.nn.Conv2d is NCHW")
        if padding not in ("valid", "same") + (("causal",) if nd == 1 else ()):
            raise ValueError(f"{cls}: padding must be 'valid' or 'same', got {padding!r}")
        self.filters, self.groups, self.padding = int(filters), int(groups), padding
        self.kernel_size = _tuple(kernel_size, nd, f"{cls}: kernel_size")
        self.strides = _tuple(strides, nd, f"{cls}: strides")
        self.dilation_rate = _tuple(dilation_rate, nd, f"{cls}: dilation_rate")
        self.activation, self.use_bias = activations.get(activation), use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.__dict__["_fused"] = _FUSED.get(self.activation)

    def build(self, input_shape: Any) -> None:
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(f"{self.name}: the channel axis (last) must be known and divisible "
                             f"by groups={self.groups}, got input shape {input_shape}")
        shape = (*self.kernel_size, channels // self.groups, self.filters)
        self.kernel = self.add_weight(shape, self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer)
        self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                    regularizer=self.bias_regularizer) if self.use_bias else None

    def call(self, inputs: Any) -> Any:
        nd = self._ND
        if inputs.ndim != nd + 2:
            raise ValueError(f"{self.name} ({type(self).__name__}) expects inputs of rank "
                             f"{nd + 2} (batch, {'length' if nd == 1 else 'height, width'}, "
                             f"channels), got shape {tuple(inputs.shape)}")
        x = _channels_first(inputs, nd)
        pads = _pads(self.padding, tuple(inputs.shape[1:-1]), self.kernel_size, self.strides,
                     self.dilation_rate)
        x, padding = _padded(x, pads)
        weight = ops.transpose(self.kernel, (nd + 1, nd, *range(nd)))
        op = conv2d if nd == 2 else conv1d
        out = op(x, weight, self.bias, self.strides, padding, self.dilation_rate, self.groups,
                 activation=self._fused)
        out = _channels_last(out, nd)
        return out if self._fused else self.activation(out)

    def compute_output_shape(self, input_shape: Any) -> Any:
        spatial: list[int | None] = []
        for n, k, s, d in zip(input_shape[1:-1], self.kernel_size, self.strides,
                              self.dilation_rate):
            if n is None:
                spatial.append(None)
            elif self.padding == "valid":
                spatial.append((n - (k - 1) * d - 1) // s + 1)
            else:
                spatial.append(-(-n // s))
        return (input_shape[0], *spatial, self.filters)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "dilation_rate": list(self.dilation_rate),
                "groups": self.groups, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer)}


class Conv2D(_Conv):
    """2-D convolution of (N, H, W, C) input; kernel (kh, kw, C / groups, filters)."""

    _ND = 2


class Conv1D(_Conv):
    """1-D convolution of (N, L, C) input; kernel (k, C / groups, filters)."""

    _ND = 1


class _Pool(Layer):
    _ND, _MAX = 2, True

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        nd, cls = self._ND, type(self).__name__
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"{cls}: only data_format='channels_last' in gradkit's "
                                      "Keras")
        if padding not in ("valid", "same"):
            raise ValueError(f"{cls}: padding must be 'valid' or 'same', got {padding!r}")
        self.pool_size = _tuple(pool_size, nd, f"{cls}: pool_size")
        self.strides = self.pool_size if strides is None else _tuple(strides, nd,
                                                                      f"{cls}: strides")
        self.padding = padding

    def call(self, inputs: Any) -> Any:
        nd = self._ND
        x = _channels_first(inputs, nd)
        pads = _pads(self.padding, tuple(inputs.shape[1:-1]), self.pool_size, self.strides,
                     (1,) * nd)
        if self._MAX:
            x, padding = _padded(x, pads, value=-math.inf)
            op = max_pool2d if nd == 2 else max_pool1d
            out = op(x, self.pool_size, self.strides, padding)
        else:
            out = self._average(x, pads)
        return _channels_last(out, nd)

    def _average(self, x: Any, pads: list) -> Any:
        op = avg_pool2d if self._ND == 2 else avg_pool1d
        if all(p == (0, 0) for p in pads):
            return op(x, self.pool_size, self.strides)
        summed = op(ops.pad(x, [(0, 0), (0, 0), *pads]), self.pool_size, self.strides)
        ones = ops.pad(ones_like(x[:1, :1]), [(0, 0), (0, 0), *pads])
        counted = op(ones, self.pool_size, self.strides)  # the share of real pixels
        return summed / counted

    def compute_output_shape(self, input_shape: Any) -> Any:
        spatial: list[int | None] = []
        for n, k, s in zip(input_shape[1:-1], self.pool_size, self.strides):
            if n is None:
                spatial.append(None)
            else:
                spatial.append((n - k) // s + 1 if self.padding == "valid" else -(-n // s))
        return (input_shape[0], *spatial, input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding}


class MaxPooling2D(_Pool):
    """The maximum over (ph, pw) windows of (N, H, W, C) input (default 2x2, stride = size)."""

    _ND, _MAX = 2, True


class MaxPooling1D(_Pool):
    _ND, _MAX = 1, True


class AveragePooling2D(_Pool):
    """The mean over (ph, pw) windows ("same" padding: over the real pixels only)."""

    _ND, _MAX = 2, False


class AveragePooling1D(_Pool):
    _ND, _MAX = 1, False


class _GlobalPool(Layer):
    _AXES: tuple = (1, 2)
    _MAX = False

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"{type(self).__name__}: only data_format="
                                      "'channels_last' in gradkit's Keras")
        self.keepdims = keepdims

    def call(self, inputs: Any) -> Any:
        reduce = ops.max if self._MAX else ops.mean
        return reduce(inputs, axis=self._AXES, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.keepdims:
            return tuple(1 if i in self._AXES else d for i, d in enumerate(input_shape))
        return (input_shape[0], input_shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPool):
    """The mean over height and width: (N, H, W, C) -> (N, C)."""

    _AXES, _MAX = (1, 2), False


class GlobalMaxPooling2D(_GlobalPool):
    _AXES, _MAX = (1, 2), True


class GlobalAveragePooling1D(_GlobalPool):
    """The mean over the steps: (N, L, C) -> (N, C)."""

    _AXES, _MAX = (1,), False


class GlobalMaxPooling1D(_GlobalPool):
    _AXES, _MAX = (1,), True
