"""Layers that combine several inputs: `Concatenate`, `Add`, `Subtract`, `Multiply`,
`Average`, `Maximum`, `Minimum`, `Dot`, and their functional forms (`layers.concatenate`)."""

from __future__ import annotations

from functools import reduce
from typing import Any

from ... import ops
from ..engine import Layer

__all__ = ["Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
           "Dot", "concatenate", "add", "subtract", "multiply", "average", "maximum",
           "minimum", "dot"]


def _check(layer: Layer, inputs: Any, at_least: int = 2) -> list:
    if not isinstance(inputs, (list, tuple)) or len(inputs) < at_least:
        raise ValueError(f"{layer.name} ({type(layer).__name__}) takes a list of at least "
                         f"{at_least} inputs, got {type(inputs).__name__}")
    return list(inputs)


class _Merge(Layer):
    def _merge(self, xs: list) -> Any:
        raise NotImplementedError

    def call(self, inputs: Any) -> Any:
        return self._merge(_check(self, inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape[0])


class Add(_Merge):
    def _merge(self, xs: list) -> Any:
        return reduce(ops.add, xs)


class Subtract(_Merge):
    def call(self, inputs: Any) -> Any:
        xs = _check(self, inputs)
        if len(xs) != 2:
            raise ValueError(f"{self.name} (Subtract) takes exactly 2 inputs")
        return xs[0] - xs[1]


class Multiply(_Merge):
    def _merge(self, xs: list) -> Any:
        return reduce(ops.mul, xs)


class Average(_Merge):
    def _merge(self, xs: list) -> Any:
        return reduce(ops.add, xs) / float(len(xs))


class Maximum(_Merge):
    def _merge(self, xs: list) -> Any:
        return reduce(ops.maximum, xs)


class Minimum(_Merge):
    def _merge(self, xs: list) -> Any:
        return reduce(ops.minimum, xs)


class Concatenate(Layer):
    """Joins its inputs along `axis` (the last by default)."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs: Any) -> Any:
        return ops.concatenate(_check(self, inputs, 1), axis=self.axis)

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = [list(s) for s in input_shape]
        out = list(shapes[0])
        axis = self.axis % len(out)
        sizes = [s[axis] for s in shapes]
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class Dot(Layer):
    """The dot product of two (N, d) inputs along `axes` (optionally L2-normalised)."""

    def __init__(self, axes: int = -1, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axes, self.normalize = axes, normalize

    def call(self, inputs: Any) -> Any:
        a, b = _check(self, inputs)
        if self.normalize:
            a = a / ops.sqrt(ops.maximum(ops.sum(a * a, axis=self.axes, keepdims=True), 1e-12))
            b = b / ops.sqrt(ops.maximum(ops.sum(b * b, axis=self.axes, keepdims=True), 1e-12))
        return ops.sum(a * b, axis=self.axes, keepdims=True)

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs: list, **kwargs: Any) -> Any:
    return Add(**kwargs)(inputs)


def subtract(inputs: list, **kwargs: Any) -> Any:
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list, **kwargs: Any) -> Any:
    return Multiply(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any) -> Any:
    return Average(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any) -> Any:
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any) -> Any:
    return Minimum(**kwargs)(inputs)


def dot(inputs: list, axes: int = -1, normalize: bool = False, **kwargs: Any) -> Any:
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
