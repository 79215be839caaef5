"""Grad mode: whether ops record the graph, per thread and asyncio task (`no_grad`,
`enable_grad`, `is_grad_enabled`). The layer between `backend` and `autograd`."""

from __future__ import annotations

import contextvars
import functools
import threading

# the innermost running block's cell
_CELL: contextvars.ContextVar[list] = contextvars.ContextVar("gradkit_grad_mode")
_ON = [True]  # the cell outside every block (never changed)


class _GradMode:
    """`GRAD_MODE.enabled`: whether ops record in the calling thread or task (truthiness).

    Each `no_grad`/`enable_grad` block sets a ContextVar to its cell, a list: empty (falsy)
    while a `no_grad` block runs, else truthy. A new thread starts outside every block; a
    context copied inside a block (an asyncio task) reads its cell, so it follows the block
    while it runs and records once it ended. While no `no_grad` block runs anywhere,
    `enabled` is a slot holding True, every op's fast path; while one runs (any thread or
    task) GRAD_MODE's class is `_PerContextGradMode`, whose `enabled` is the caller's cell
    (one C-level read). A lock keeps the count of running blocks and the class in step."""

    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


class _PerContextGradMode(_GradMode):
    __slots__ = ()
    enabled = property(_CELL.get)  # shadows the slot; outside every block: GRAD_MODE (truthy)


GRAD_MODE = _GradMode()
_LOCK = threading.Lock()
_running_no_grad = 0  # no_grad blocks running now, in all threads and tasks (under _LOCK)


def _count_no_grad(delta: int) -> None:
    global _running_no_grad
    with _LOCK:
        _running_no_grad += delta
        GRAD_MODE.__class__ = _PerContextGradMode if _running_no_grad else _GradMode


class no_grad:
    """Context manager, and decorator (`@gk.no_grad` or `@gk.no_grad()`), inside which no graph
    is recorded, in this thread or asyncio task only: other threads and tasks keep recording."""

    _flag = False

    def __new__(cls, fn=None):
        if fn is not None and not callable(fn):
            raise TypeError(f"{cls.__name__}() takes no arguments (or a function to decorate)")
        self = super().__new__(cls)
        return self if fn is None else self(fn)

    def __enter__(self) -> None:
        self._prev = _CELL.get(_ON)
        self._cell = [True] if self._flag else []
        if not self._flag:
            _count_no_grad(1)
        _CELL.set(self._cell)

    def __exit__(self, *exc) -> None:
        _CELL.set(self._prev)
        if not self._flag:
            self._cell.append(True)  # contexts copied inside the block record from now on
            _count_no_grad(-1)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():  # a fresh instance per call: safe across threads
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Context manager (and decorator) that turns recording back on (e.g. inside `no_grad`),
    in this thread or task only."""

    _flag = True


def is_grad_enabled() -> bool:
    """Whether ops record the graph now, in this thread or asyncio task."""
    return bool(GRAD_MODE.enabled)
