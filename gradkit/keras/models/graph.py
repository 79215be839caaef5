"""The functional API's graph: the layer calls between a model's `keras.Input`s and its
outputs, in an order that runs each call after the calls it depends on."""

from __future__ import annotations

from typing import Any

from ...errors import ShapeError
from .. import tree
from ..symbolic import KerasTensor, Node


def _is_input_node(node: Node) -> bool:
    return not node.inputs and not node.args and not node.kwargs


def _order(outputs: list[KerasTensor]) -> list[Node]:
    """Every node that the outputs depend on, each after its parents (iterative DFS)."""
    order: list[Node] = []
    done: set[int] = set()
    stack: list[tuple[Node, bool]] = [(t.node, False) for t in reversed(outputs)
                                      if t.node is not None]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        if expanded:
            done.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        stack += [(p, False) for p in reversed(node.parents) if id(p) not in done]
    return order


class Graph:
    """The nodes from `inputs` (KerasTensors of `keras.Input`) to `outputs`."""

    def __init__(self, inputs: Any, outputs: Any) -> None:
        self.inputs, self.outputs = inputs, outputs
        self.flat_inputs = tree.flatten(inputs)
        self.flat_outputs = tree.flatten(outputs)
        for t in self.flat_inputs + self.flat_outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"keras.Model(inputs, outputs): expected KerasTensors (from "
                                f"keras.Input and layer calls), got {type(t).__name__}")
        for t in self.flat_inputs:
            if t.node is None or not _is_input_node(t.node):
                raise ValueError(f"keras.Model: the input {t} is not a keras.Input(...)")
        nodes = _order(self.flat_outputs)
        known = {id(t) for t in self.flat_inputs}
        self.nodes: list[Node] = []
        for node in nodes:
            if _is_input_node(node):
                if id(node.outputs) not in known:
                    raise ValueError(
                        f"keras.Model: graph disconnected: the outputs depend on the input "
                        f"{node.layer.name!r}, which is not among the model's inputs "
                        f"{[t.name for t in self.flat_inputs]}")
                continue
            self.nodes.append(node)
        self.layers = [t.node.layer for t in self.flat_inputs]
        for node in self.nodes:
            if all(node.layer is not layer for layer in self.layers):
                self.layers.append(node.layer)

    @property
    def output_names(self) -> list[str]:
        return [t.node.layer.name if t.node is not None else str(i)
                for i, t in enumerate(self.flat_outputs)]

    @property
    def input_names(self) -> list[str]:
        return [t.node.layer.name for t in self.flat_inputs]

    def _feed(self, values: Any) -> dict[int, Any]:
        flat = self.flat_inputs
        if isinstance(values, dict):
            missing = [t.name for t in flat if t.name not in values]
            if missing:
                raise ValueError(f"the model's inputs are {self.input_names}; the dict lacks "
                                 f"{missing}")
            return {id(t): values[t.name] for t in flat}
        given = list(values) if len(flat) > 1 and isinstance(values, (list, tuple)) \
            else [values]
        if len(given) != len(flat):
            raise ValueError(f"the model takes {len(flat)} inputs ({self.input_names}), got "
                             f"{len(given)}")
        for t, v in zip(flat, given):
            shape = tuple(getattr(v, "shape", ()))
            if len(shape) != len(t.shape) or any(d is not None and d != s for d, s in
                                                 zip(t.shape[1:], shape[1:])):
                raise ShapeError(f"input {t.name!r} of the model expects shape {t.shape}, "
                                 f"got {shape}")
        return {id(t): v for t, v in zip(flat, given)}

    def run(self, values: Any, training: bool | None = None) -> Any:
        """The outputs for concrete input `values` (a Tensor, a list, or a dict by name)."""
        env = self._feed(values)

        def value(t: Any) -> Any:
            return env[id(t)] if isinstance(t, KerasTensor) else t

        for node in self.nodes:
            args = [tree.map_structure(value, a) for a in node.args]
            kwargs = {k: tree.map_structure(value, v) for k, v in node.kwargs.items()}
            if training is not None and node.layer._call_takes_training and \
                    "training" not in node.kwargs:
                kwargs["training"] = training
            out = node.layer(*args, **kwargs)
            for t, v in zip(tree.flatten(node.outputs), tree.flatten(out)):
                env[id(t)] = v
        return tree.map_structure(value, self.outputs)
