"""The watch (exit notices, timeouts), the SystemExit rule of abort_on_error and the rank
agreement checks, in one process with fake communicators (no MPI; test_faults.py runs the
real jobs)."""

import hashlib
import json
import os
import sys
import time

import pytest

from gradkit import distributed as dist
from gradkit import nn
from gradkit.distributed import Communicator, RankMismatchError, Watch
from gradkit.distributed.agree import check_same, check_same_model, model_signature
from gradkit.distributed.watch import DEFAULT_TIMEOUT, resolve_timeout

from .test_parallel import FakeComm


@pytest.fixture(autouse=True)
def _fresh():
    dist.reset()
    yield
    dist.reset()


class Channel:
    def __init__(self, inbox=()):
        self.inbox, self.sent = list(inbox), []

    def notify(self, payload):
        self.sent.append(payload)

    def poll(self):
        out, self.inbox = self.inbox, []
        return out


def make_watch(timeout=0, inbox=(), rank=0):
    aborted = []
    watch = Watch(rank, 2, Channel(inbox), aborted.append, timeout=timeout)
    return watch, aborted


def test_a_rank_that_ended_before_a_collective_this_rank_waits_in_aborts(capsys):
    watch, aborted = make_watch()
    for _ in range(3):
        watch.enter("allreduce")
        watch.leave()
    watch.heard(1, (3, "sys.exit(0)"))  # it joined all three: nothing to wait for
    assert aborted == [] and watch.ended == {1: (3, "sys.exit(0)")}
    watch.enter("allreduce")  # the 4th: rank 1 will never join it
    assert aborted == [1]
    err = capsys.readouterr().err
    assert ("rank 1 of 2 has ended (sys.exit(0)) after 3 collective(s), so it will never join "
            "collective #4 (allreduce) that rank 0 is waiting in; aborting all ranks") in err
    assert "rank 0 was here" in err and "test_watch.py" in err


def test_a_notice_while_waiting_aborts_and_one_after_the_last_collective_does_not(capsys):
    watch, aborted = make_watch()
    watch.enter("barrier")
    watch.heard(1, (1, "its process exited"))  # it is in this barrier too: it completes
    assert aborted == []
    watch.leave()
    watch.enter("allgather_object")
    watch.heard(1, (1, "its process exited"))
    assert aborted == [1] and "collective #2 (allgather_object)" in capsys.readouterr().err


def test_a_queued_gpu_collective_the_other_rank_never_joined_aborts(capsys):
    watch, aborted = make_watch()
    watch.enter("nccl allreduce")
    watch.leave(pending=True)  # NCCL returned at once; the GPU waits for the peer
    watch.heard(1, (0, "its process exited"))
    assert aborted == [1] and "GPU collective #1" in capsys.readouterr().err


def test_the_timeout_names_the_collective_and_how_to_change_it(capsys):
    watch, aborted = make_watch(timeout=5)
    watch.check_time()
    watch.enter("allreduce")
    watch.check_time(now=watch.since + 4)
    assert aborted == []
    watch.check_time(now=watch.since + 6)
    assert aborted == [1]
    err = capsys.readouterr().err
    assert "rank 0 of 2 has waited more than 5 s in allreduce (collective #1)" in err
    assert f"(now 5 s; default {DEFAULT_TIMEOUT:g} s; 0 turns it off)" in err
    off, aborted = make_watch(timeout=0)
    off.enter("allreduce")
    off.check_time(now=off.since + 1e9)
    assert aborted == []


def test_timeouts_come_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv("GRADKIT_COLLECTIVE_TIMEOUT", raising=False)
    assert resolve_timeout(None) == DEFAULT_TIMEOUT == 600
    monkeypatch.setenv("GRADKIT_COLLECTIVE_TIMEOUT", "7.5")
    assert resolve_timeout(None) == 7.5 and resolve_timeout(2) == 2.0
    monkeypatch.setenv("GRADKIT_COLLECTIVE_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="GRADKIT_COLLECTIVE_TIMEOUT='soon'"):
        resolve_timeout(None)
    for bad in (-1, float("nan"), "10", True):
        with pytest.raises(ValueError, match="must be a number of seconds >= 0"):
            resolve_timeout(bad)


def test_at_exit_tells_the_others_how_far_this_rank_got():
    watch, _ = make_watch()
    watch.enter("allreduce")
    watch.leave()
    watch.how = "sys.exit(0)"
    watch.at_exit()
    assert watch.channel.sent == [(1, "sys.exit(0)")]
    child, _ = make_watch()
    child._pid = os.getpid() + 1  # as in a forked child: not a rank, says nothing
    child.at_exit()
    assert child.channel.sent == []


def test_the_thread_hears_notices_and_stops():
    watch, aborted = make_watch(inbox=[(1, (0, "its process exited"))])
    watch.poll_seconds = 0.01
    watch.enter("allreduce")
    watch.start()
    deadline = time.monotonic() + 10
    while not aborted and time.monotonic() < deadline:
        time.sleep(0.01)
    watch.stop()
    assert aborted == [1] and watch._thread is None


class Aborts(FakeComm):
    def __init__(self):
        super().__init__(size=2)
        self.aborted = None

    def abort(self, code=1):
        self.aborted = code


@pytest.mark.parametrize("code, status", [(3, 3), ("bad config", 1)])
def test_a_failing_sys_exit_in_abort_on_error_aborts_the_job(capsys, code, status):
    comm = Aborts()
    dist.init(comm=comm, abort_on_error=False)
    with dist.abort_on_error():
        sys.exit(code)
    assert comm.aborted == status
    err = capsys.readouterr().err
    assert f"rank 0 of 2 exited with sys.exit({code!r}) before the job ended" in err
    assert "test_watch.py" in err  # where it exited


def test_a_clean_sys_exit_propagates_and_names_itself_to_the_watch():
    comm = Aborts()
    dist.init(comm=comm, abort_on_error=False)
    watch, _ = make_watch()
    dist.runtime._state["watch"] = watch
    with pytest.raises(SystemExit), dist.abort_on_error():
        sys.exit(0)
    assert comm.aborted is None and watch.how == "sys.exit(0)"
    dist.runtime._state["watch"] = None


def test_the_excepthook_aborts_on_a_failing_exit_only(capsys):
    comm = Aborts()
    dist.init(comm=comm)
    sys.excepthook(SystemExit, SystemExit(0), None)
    assert comm.aborted is None
    sys.excepthook(SystemExit, SystemExit(4), None)
    assert comm.aborted == 4


def test_set_timeout_changes_the_running_watch():
    assert dist.set_timeout(30) == 30  # no watch (one rank): nothing to change
    watch, _ = make_watch(timeout=5)
    dist.runtime._state["watch"] = watch
    assert dist.set_timeout(12) == 5 and watch.timeout == 12
    dist.runtime._state["watch"] = None


class Gather(FakeComm):
    """Rank 0 of 2; rank 1's allgather answers come from `answers`, in order."""

    def __init__(self, answers):
        super().__init__(size=2)
        self.answers = list(answers)

    def allgather_object(self, obj):
        return [obj, self.answers.pop(0)]


def _digest(model):
    return hashlib.sha256(json.dumps(model_signature(model)).encode()).hexdigest()


def test_models_that_differ_are_named_with_their_ranks():
    mine = nn.Sequential(nn.Linear(8, 64), nn.Tanh(), nn.Linear(64, 3))
    other = nn.Sequential(nn.Linear(8, 65), nn.Tanh(), nn.Linear(65, 3), nn.BatchNorm1d(3))
    comm = Gather([_digest(other), model_signature(other)])
    with pytest.raises(RankMismatchError) as info:
        dist.DataParallel(mine, comm=comm)
    msg = str(info.value)
    assert msg.startswith("DataParallel: the 2 ranks hold different models: ")
    assert "parameter '0.weight' has shape (64, 8) on rank 0 but (65, 8) on rank 1" in msg
    assert "(and " in msg  # more differences than listed
    assert comm.calls == []  # nothing broadcast
    frozen = nn.Linear(2, 2)
    trainable = nn.Linear(2, 2)
    frozen.weight.requires_grad = False
    with pytest.raises(RankMismatchError, match="requires_grad False on rank 0 but True"):
        check_same_model(frozen, Gather([_digest(trainable), model_signature(trainable)]))
    same = Gather([_digest(mine)])
    check_same_model(mine, same)  # one allgather of a digest, nothing else
    assert same.answers == []


def test_values_that_differ_are_named_with_their_ranks():
    with pytest.raises(RankMismatchError, match=r"^fit: the 2 ranks disagree: samples: 2000 on "
                                                r"rank 0 but 1990 on rank 1\. Load the same"):
        check_same(Gather([{"samples": 1990, "batch": 8}]), "fit",
                   {"samples": 2000, "batch": 8}, "Load the same data.")
    check_same(Gather([{"samples": 5}]), "fit", {"samples": 5})
    check_same(Communicator(), "fit", {"samples": 5})  # one rank: no collective at all


def test_a_sampler_built_from_the_job_checks_the_sample_counts():
    dist.init(comm=Gather([{"samples": 1500, "shuffle": True, "seed": 0, "drop_last": False,
                            "pad": True}]), abort_on_error=False)
    with pytest.raises(RankMismatchError, match="samples: 2000 on rank 0 but 1500 on rank 1"):
        dist.DistributedSampler(2000, seed=0)
    dist.DistributedSampler(2000, seed=0, rank=0, world_size=2)  # explicit: no collective
