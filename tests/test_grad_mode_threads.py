"""Grad mode is per thread and per asyncio task: `no_grad` in one never stops another from
recording (PyTorch: thread-local); a new thread starts with recording on."""

import asyncio
import threading
import time

import pytest

import gradkit as gk
from gradkit import grad_mode


@pytest.fixture
def restored():
    """Checks that a test leaves as many no_grad blocks running as it found (none, normally:
    then every op's check is the plain slot again)."""
    before = grad_mode._running_no_grad

    def check() -> bool:
        fast = type(grad_mode.GRAD_MODE) is grad_mode._GradMode
        return grad_mode._running_no_grad == before and fast == (before == 0)

    return check


def test_a_thread_in_no_grad_loses_no_graph_of_another_thread(restored):
    w = gk.tensor([1.0, 2.0], requires_grad=True)
    inside, stop = threading.Event(), threading.Event()
    recorded_in_worker = []

    def predict_forever():
        with gk.no_grad():
            inside.set()
            while not stop.is_set():
                recorded_in_worker.append((w * 2.0).requires_grad)

    worker = threading.Thread(target=predict_forever)
    worker.start()
    try:
        assert inside.wait(10)
        steps = lost = 0
        deadline = time.perf_counter() + 1.0
        while time.perf_counter() < deadline:
            loss = (w * w).sum()
            if not loss.requires_grad:
                lost += 1
                continue
            loss.backward()
            steps += 1
    finally:
        stop.set()
        worker.join()
    assert lost == 0 and steps > 0
    assert recorded_in_worker and not any(recorded_in_worker)  # and the worker recorded none
    assert w.grad.numpy().tolist() == [2.0 * steps, 4.0 * steps]
    assert restored()


def test_a_new_thread_starts_with_grad_enabled(restored):
    seen = []

    def probe():
        x = gk.tensor([1.0], requires_grad=True)
        seen.append((gk.is_grad_enabled(), (x * 2.0).requires_grad))

    with gk.no_grad():
        t = threading.Thread(target=probe)
        t.start()
        t.join()
        assert not gk.is_grad_enabled()
    assert seen == [(True, True)]
    assert restored()


def test_no_grad_and_enable_grad_nest_per_thread(restored):
    x = gk.tensor([1.0], requires_grad=True)
    other = threading.Event()
    done = threading.Event()

    def hold_no_grad():
        with gk.no_grad():
            other.set()
            done.wait(10)

    t = threading.Thread(target=hold_no_grad)
    t.start()
    try:
        assert other.wait(10)
        assert gk.is_grad_enabled() and (x * 2.0).requires_grad  # the slow path, still on
        with gk.no_grad():
            assert not (x * 2.0).requires_grad
            with gk.enable_grad():
                assert (x * 2.0).requires_grad
            assert not gk.is_grad_enabled()
        assert (x * 2.0).requires_grad
    finally:
        done.set()
        t.join()
    assert restored()


def test_no_grad_as_a_decorator_with_and_without_parentheses(restored):
    x = gk.tensor([1.0], requires_grad=True)

    @gk.no_grad()
    def f(a):
        return a * 2

    @gk.no_grad
    def g(a):
        return a * 2

    @gk.enable_grad()
    def h(a):
        return a * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert g.__name__ == "g"
    with gk.no_grad():
        assert h(x).requires_grad
    results = []
    threads = [threading.Thread(target=lambda: results.append(f(x).requires_grad))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [False] * 4 and (x * 2).requires_grad
    with pytest.raises(TypeError, match="no arguments"):
        gk.no_grad(3)
    assert restored()


def test_an_exception_inside_no_grad_restores_the_mode(restored):
    with pytest.raises(ValueError), gk.no_grad():
        raise ValueError("boom")
    assert gk.is_grad_enabled() and restored()


def test_asyncio_tasks_have_their_own_grad_mode(restored):
    x = gk.tensor([1.0], requires_grad=True)

    async def predicting(started, release):
        with gk.no_grad():
            started.set()
            await release.wait()  # other tasks run while this one is inside no_grad
            return (x * 2.0).requires_grad

    async def training(started, release):
        await started.wait()
        recorded = (x * 2.0).requires_grad
        release.set()
        return recorded

    async def main():
        started, release = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(predicting(started, release), training(started, release))

    assert asyncio.run(main()) == [False, True]
    assert restored()


def test_a_task_created_inside_no_grad_follows_the_block(restored):
    x = gk.tensor([1.0], requires_grad=True)

    async def child(ready, go):
        ready.set()
        inside = (x * 2.0).requires_grad  # runs while the parent is still in no_grad
        await go.wait()
        return inside, (x * 2.0).requires_grad  # the block has ended

    async def main():
        ready, go = asyncio.Event(), asyncio.Event()
        with gk.no_grad():
            task = asyncio.create_task(child(ready, go))
            await ready.wait()
        go.set()
        return await task

    assert asyncio.run(main()) == (False, True)
    assert restored()
